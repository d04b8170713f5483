import type { DenialsResponse } from '@orderflow/ops-api/schemas';
import { queryOptions, useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

/** How many of the most recent denials the overview lists (the answer also says how many there were in all). */
export const DENIALS_SHOWN = 10;

/** The local runtime's most recent IAM denials; `available: false` (with the reason) in AWS or with `--iam off`. */
export function getDenials(api: ApiClient): Promise<DenialsResponse> {
  return api.get<DenialsResponse>('/api/local/denials', { limit: DENIALS_SHOWN });
}

export function getDenialsQueryOptions(api: ApiClient) {
  return queryOptions({ queryKey: ['local', 'denials'], queryFn: () => getDenials(api), refetchInterval: 15_000 });
}

export function useDenials() {
  return useQuery(getDenialsQueryOptions(useApi()));
}
