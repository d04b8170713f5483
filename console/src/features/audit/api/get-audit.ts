import type { AuditResponse } from '@orderflow/ops-api/schemas';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';
import { resolveTimeRange, type TimeRangeSpec } from '../../../lib/view-state.ts';

/** The API's largest page: a range with more entries shows only its newest AUDIT_LIMIT. */
export const AUDIT_LIMIT = 500;

/**
 * The range's entries, newest first. The actor is filtered in the view, as part of a name like the action: the API's
 * `actor` matches whole names only, so a partial one would find nothing.
 */
export function getAudit(api: ApiClient, range: TimeRangeSpec): Promise<AuditResponse> {
  const resolved = resolveTimeRange(range);
  return api.get<AuditResponse>('/api/audit', {
    from: resolved.from.toISOString(),
    to: resolved.to.toISOString(),
    limit: AUDIT_LIMIT,
  });
}

export function getAuditQueryOptions(api: ApiClient, range: TimeRangeSpec) {
  return queryOptions({
    queryKey: ['audit', range],
    queryFn: () => getAudit(api, range),
    placeholderData: keepPreviousData,
  });
}

export function useAudit(range: TimeRangeSpec) {
  return useQuery(getAuditQueryOptions(useApi(), range));
}
