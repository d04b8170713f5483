import type { MetricsResponse } from '@orderflow/ops-api/schemas';
import type { PipeKey } from '@orderflow/pipeline/facts';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../lib/api-client.ts';
import { useApi } from '../lib/api-context.tsx';
import { periodFor, resolveTimeRange, type TimeRangeSpec } from '../lib/view-state.ts';

/** One pipe's filter-match funnel and series; shared by the overview (stage counts) and the metrics view (charts). */
export function getFilterMetrics(api: ApiClient, pipe: PipeKey, range: TimeRangeSpec): Promise<MetricsResponse> {
  // A relative window is resolved at fetch time, so each poll moves with the clock.
  const resolved = resolveTimeRange(range);
  return api.get<MetricsResponse>('/api/metrics/filter', {
    pipe,
    from: resolved.from.toISOString(),
    to: resolved.to.toISOString(),
    period: periodFor(resolved),
  });
}

export function getFilterMetricsQueryOptions(api: ApiClient, pipe: PipeKey, range: TimeRangeSpec) {
  return queryOptions({
    queryKey: ['metrics', 'filter', pipe, range],
    queryFn: () => getFilterMetrics(api, pipe, range),
    refetchInterval: range.kind === 'window' ? 10_000 : false,
    placeholderData: keepPreviousData,
  });
}

export function useFilterMetrics(pipe: PipeKey, range: TimeRangeSpec) {
  return useQuery(getFilterMetricsQueryOptions(useApi(), pipe, range));
}
