import type { AuditResponse } from '@orderflow/ops-api/schemas';
import { queryOptions, useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

/** The audit API answers at most 31 days per query; a DLQ message older than that is past every retention anyway. */
const HISTORY_DAYS = 30;
const HISTORY_LIMIT = 500;

/** Redrives, dry runs and discards that touched one message, newest first, from the audit log. */
export async function getMessageHistory(api: ApiClient, messageId: string, now = Date.now()) {
  const response = await api.get<AuditResponse>('/api/audit', {
    from: new Date(now - HISTORY_DAYS * 86_400_000).toISOString(),
    to: new Date(now).toISOString(),
    limit: HISTORY_LIMIT,
  });
  return response.entries.filter((entry) => entry.messageIds.includes(messageId));
}

export function getMessageHistoryQueryOptions(api: ApiClient, messageId: string) {
  return queryOptions({ queryKey: ['audit', 'message', messageId], queryFn: () => getMessageHistory(api, messageId) });
}

export function useMessageHistory(messageId: string) {
  return useQuery(getMessageHistoryQueryOptions(useApi(), messageId));
}
