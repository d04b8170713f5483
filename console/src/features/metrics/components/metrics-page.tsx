import { PIPE_KEYS, PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { useFilterMetrics } from '../../../api/get-filter-metrics.ts';
import { FunnelChart } from '../../../components/charts/funnel-chart.tsx';
import { LineChart } from '../../../components/charts/line-chart.tsx';
import { PipeSelect } from '../../../components/pipe-select.tsx';
import { QueryView } from '../../../components/query-state.tsx';
import { TimeRangePicker } from '../../../components/time-range-picker.tsx';
import { formatTime } from '../../../lib/format.ts';
import { type TimeRangeSpec, useViewState } from '../../../lib/view-state.ts';
import { chartSeries, funnelStages, rejectionsByClause } from '../funnel.ts';

export function MetricsPage() {
  const { pipe, timeRange, update } = useViewState();
  return (
    <>
      <h1>Metrics</h1>
      <div className="toolbar">
        <PipeSelect value={pipe} onChange={(value) => update({ pipe: value })} />
        <TimeRangePicker value={timeRange} onChange={update} />
      </div>
      {(pipe ? [pipe] : PIPE_KEYS).map((key) => (
        <PipeMetrics key={key} pipe={key} timeRange={timeRange} />
      ))}
    </>
  );
}

function PipeMetrics({ pipe, timeRange }: { pipe: PipeKey; timeRange: TimeRangeSpec }) {
  const metrics = useFilterMetrics(pipe, timeRange);
  const headingId = `metrics-${pipe}`;
  return (
    <section aria-labelledby={headingId} className="panel">
      <h2 id={headingId}>{PIPES[pipe].title}</h2>
      <QueryView
        query={metrics}
        what={`metrics of the ${pipe} pipe`}
        isEmpty={(data) => data.funnel.polled.value === 0 && data.series.every((s) => s.points.length === 0)}
        empty="No records in this range yet: write some orders and come back."
      >
        {(data) => (
          <>
            <p className="muted">
              {formatTime(data.from)} to {formatTime(data.to)}, {data.period} s periods,{' '}
              {data.exact ? 'exact counts' : 'the stream total is an estimate'}.
            </p>
            <div className="grid-2">
              <div>
                <FunnelChart title="Filter-match funnel" stages={funnelStages(data.funnel)} />
                <h3>Guard rejections by rule clause</h3>
                {data.funnel.guardRejectedByClause.length === 0 ? (
                  <p className="empty">The guard rejected no record.</p>
                ) : (
                  <ul>
                    {rejectionsByClause(data.funnel).map((row) => (
                      <li key={row.clause}>
                        {row.description} (<code>{row.clause}</code>): {row.value}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
              <LineChart title="Records over time" series={chartSeries(data.series, data.funnel)} />
            </div>
          </>
        )}
      </QueryView>
    </section>
  );
}
