import type { Me } from '@orderflow/ops-api/schemas';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { type ApiClient, ApiError } from '../../../lib/api-client.ts';

/** The signed-in principal, or `null` when the ops API has no `/api/me` route (then the API alone gates actions). */
export async function getMe(api: ApiClient): Promise<Me | null> {
  try {
    return await api.get<Me>('/api/me');
  } catch (error: unknown) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export function getMeQueryOptions(api: ApiClient, token: string | null) {
  // The token is part of the key: a new token is a new principal.
  return queryOptions({ queryKey: ['me', token], queryFn: () => getMe(api), enabled: token !== null, retry: false });
}

export function useMe(api: ApiClient, token: string | null) {
  return useQuery(getMeQueryOptions(api, token));
}
