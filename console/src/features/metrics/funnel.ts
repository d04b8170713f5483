import type { MetricsResponse } from '@orderflow/ops-api/schemas';
import type { FunnelStage } from '../../components/charts/funnel-chart.tsx';
import type { ChartSeries } from '../../components/charts/line-chart.tsx';

type Funnel = MetricsResponse['funnel'];
type StageKey = Exclude<keyof Funnel, 'guardRejectedByClause'>;

/** Pipeline order of the funnel; the API gives each stage its label and whether it is an estimate. */
const STAGE_ORDER: readonly StageKey[] = [
  'polled',
  'matchedByPipeFilter',
  'filteredOut',
  'guardPassed',
  'guardRejected',
  'processed',
  'failed',
  'sentToDlq',
];

export function funnelStages(funnel: Funnel): FunnelStage[] {
  return STAGE_ORDER.map((key) => ({
    label: funnel[key].label,
    value: funnel[key].value,
    note: funnel[key].estimate ? 'estimate' : undefined,
  }));
}

/** Guard rejections per rule clause, most frequent first. */
export function rejectionsByClause(funnel: Funnel): Funnel['guardRejectedByClause'] {
  return [...funnel.guardRejectedByClause].sort((a, b) => b.value - a.value);
}

export function chartSeries(series: MetricsResponse['series']): ChartSeries[] {
  return series.map((s) => ({
    label: s.stage,
    points: s.points.map((point) => ({ t: Date.parse(point.timestamp), v: point.value })),
  }));
}
