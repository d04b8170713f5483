import type { AuditResponse } from '@orderflow/ops-api/schemas';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';
import { resolveTimeRange, type TimeRangeSpec } from '../../../lib/view-state.ts';

/** The API's largest page. */
const AUDIT_LIMIT = 500;

export function getAudit(api: ApiClient, range: TimeRangeSpec, actor: string): Promise<AuditResponse> {
  const resolved = resolveTimeRange(range);
  return api.get<AuditResponse>('/api/audit', {
    from: resolved.from.toISOString(),
    to: resolved.to.toISOString(),
    actor,
    limit: AUDIT_LIMIT,
  });
}

export function getAuditQueryOptions(api: ApiClient, range: TimeRangeSpec, actor: string) {
  return queryOptions({
    queryKey: ['audit', range, actor],
    queryFn: () => getAudit(api, range, actor),
    placeholderData: keepPreviousData,
  });
}

export function useAudit(range: TimeRangeSpec, actor: string) {
  return useQuery(getAuditQueryOptions(useApi(), range, actor));
}
