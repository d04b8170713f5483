import type { FilterTestBody, FilterTestResponse } from '@orderflow/ops-api/schemas';
import { useMutation } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

export function testFilters(api: ApiClient, request: FilterTestBody): Promise<FilterTestResponse> {
  return api.post<FilterTestResponse>('/api/filters/test', request);
}

export function useTestFilters() {
  const api = useApi();
  return useMutation({ mutationFn: (request: FilterTestBody) => testFilters(api, request) });
}
