import type { AlarmsResponse } from '@orderflow/ops-api/schemas';
import { queryOptions, useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../lib/api-client.ts';
import { useApi } from '../lib/api-context.tsx';

/** Shared by the overview (health) and the alarms view. */
export function getAlarms(api: ApiClient): Promise<AlarmsResponse> {
  return api.get<AlarmsResponse>('/api/alarms');
}

export function getAlarmsQueryOptions(api: ApiClient) {
  return queryOptions({ queryKey: ['alarms'], queryFn: () => getAlarms(api), refetchInterval: 15_000 });
}

export function useAlarms() {
  return useQuery(getAlarmsQueryOptions(useApi()));
}
