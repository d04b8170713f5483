import type { InboxResponse } from '@orderflow/ops-api/schemas';
import { queryOptions, useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

/** Messages the inbox lists, newest first. */
export const INBOX_SHOWN = 50;

/** The local runtime's email outbox; `available: false` (with the reason) in AWS. */
export function getInbox(api: ApiClient): Promise<InboxResponse> {
  return api.get<InboxResponse>('/api/local/inbox', { limit: INBOX_SHOWN });
}

export function getInboxQueryOptions(api: ApiClient) {
  // An alarm's notification arrives within an evaluation interval of its state change: poll like the alarms view.
  return queryOptions({ queryKey: ['local', 'inbox'], queryFn: () => getInbox(api), refetchInterval: 15_000 });
}

export function useInbox() {
  return useQuery(getInboxQueryOptions(useApi()));
}
