import type { MetricsResponse } from '@orderflow/ops-api/schemas';
import { FUNNEL_STAGES, type FunnelStageKey } from '@orderflow/pipeline/facts';
import type { FunnelStage } from '../../components/charts/funnel-chart.tsx';
import type { ChartSeries } from '../../components/charts/line-chart.tsx';

type Funnel = MetricsResponse['funnel'];

export function funnelStages(funnel: Funnel): FunnelStage[] {
  return FUNNEL_STAGES.map((key) => ({
    label: funnel[key].label,
    value: funnel[key].value,
    note: funnel[key].estimate ? 'estimate' : undefined,
  }));
}

/** Guard rejections per rule clause, most frequent first. */
export function rejectionsByClause(funnel: Funnel): Funnel['guardRejectedByClause'] {
  return [...funnel.guardRejectedByClause].sort((a, b) => b.value - a.value);
}

/** Each series named as the funnel names its stage (the metric description), not by the stage's key. */
export function chartSeries(series: MetricsResponse['series'], funnel: Funnel): ChartSeries[] {
  return series.map((s) => ({
    label: isFunnelStage(s.stage) ? funnel[s.stage].label : s.stage,
    points: s.points.map((point) => ({ t: Date.parse(point.timestamp), v: point.value })),
  }));
}

function isFunnelStage(stage: string): stage is FunnelStageKey {
  return (FUNNEL_STAGES as readonly string[]).includes(stage);
}
