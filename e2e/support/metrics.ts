import type { MetricsResponse } from '@orderflow/ops-api/schemas';
import type { PipeKey } from '@orderflow/pipeline/facts';
import type { OpsApiClient } from './ops-api.ts';

export type Funnel = MetricsResponse['funnel'];

/** The pipe's filter-match funnel of the last hour, as the console shows it. */
export async function funnelOf(api: OpsApiClient, pipe: PipeKey): Promise<Funnel> {
  const response = await api.json<MetricsResponse>('GET', `/api/metrics/filter?pipe=${pipe}`);
  return response.funnel;
}

/** Stage counts of `after` minus `before`, plus the guard rejections by clause. */
export function funnelDelta(before: Funnel, after: Funnel) {
  const stage = (key: Exclude<keyof Funnel, 'guardRejectedByClause'>) => after[key].value - before[key].value;
  const clause = (funnel: Funnel, id: string) => funnel.guardRejectedByClause.find((c) => c.clause === id)?.value ?? 0;
  return {
    polled: stage('polled'),
    matchedByPipeFilter: stage('matchedByPipeFilter'),
    filteredOut: stage('filteredOut'),
    guardPassed: stage('guardPassed'),
    guardRejected: stage('guardRejected'),
    processed: stage('processed'),
    rejectedByClause: Object.fromEntries(
      after.guardRejectedByClause.map((c) => [c.clause, c.value - clause(before, c.clause)]),
    ),
  };
}
