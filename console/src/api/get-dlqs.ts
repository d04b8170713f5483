import type { DlqsResponse } from '@orderflow/ops-api/schemas';
import { queryOptions, useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../lib/api-client.ts';
import { useApi } from '../lib/api-context.tsx';

/** Shared by the overview and the dead-letter view (requests used by more than one feature live in `src/api/`). */
export function getDlqs(api: ApiClient): Promise<DlqsResponse> {
  return api.get<DlqsResponse>('/api/dlqs');
}

export function getDlqsQueryOptions(api: ApiClient) {
  return queryOptions({ queryKey: ['dlqs'], queryFn: () => getDlqs(api), refetchInterval: 5_000 });
}

export function useDlqs() {
  return useQuery(getDlqsQueryOptions(useApi()));
}
