import type { Alarm, DlqSummary } from '@orderflow/ops-api/schemas';
import { PIPE_KEYS, PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { Link } from 'react-router';
import { useAlarms } from '../../../api/get-alarms.ts';
import { useDlqs } from '../../../api/get-dlqs.ts';
import { useFilterMetrics } from '../../../api/get-filter-metrics.ts';
import { Loading, QueryError } from '../../../components/query-state.tsx';
import { TimeRangePicker } from '../../../components/time-range-picker.tsx';
import { formatCount } from '../../../lib/format.ts';
import { dlqPath } from '../../../lib/routes.ts';
import { type TimeRangeSpec, useViewState } from '../../../lib/view-state.ts';
import { PipeRunState } from './pipe-run-state.tsx';
import { RecentDenials } from './recent-denials.tsx';

/**
 * The pipeline as a diagram (table → stream → per pipe: filter → guard → processor → processed / failed → DLQ) with
 * the counts of the chosen window and each pipe's health from its alarms. Built from lists, not a picture, so screen
 * readers get the same stages and numbers. Below it, the local runtime's recent IAM denials.
 */
export function OverviewPage() {
  const { timeRange, update } = useViewState();
  const alarms = useAlarms();
  const dlqs = useDlqs();
  // Each pipe reads every stream record (docs/AWS-FACTS.md, fact 9: the two pipes are the stream's two readers), so
  // either
  // pipe's polled count is the stream total.
  const stream = useFilterMetrics(PIPE_KEYS[0] ?? 'standard', timeRange);
  const polled = stream.data?.funnel.polled;
  return (
    <>
      <h1>Pipeline overview</h1>
      <div className="toolbar">
        <TimeRangePicker value={timeRange} onChange={update} />
      </div>
      {alarms.isError && <QueryError error={alarms.error} what="alarms" onRetry={() => alarms.refetch()} />}
      {dlqs.isError && <QueryError error={dlqs.error} what="dead-letter queues" onRetry={() => dlqs.refetch()} />}
      <ol className="diagram" aria-label="Pipeline stages">
        <li className="stage source">
          <h2>Orders table</h2>
          <p>DynamoDB, stream of new and old images</p>
        </li>
        <li className="stage source">
          <h2>Stream</h2>
          <p>
            {formatCount(polled?.value)} records{polled?.estimate ? ' (estimate)' : ''}
          </p>
        </li>
        <li>
          <ul className="pipes">
            {PIPE_KEYS.map((key) => (
              <PipeLane
                key={key}
                pipe={key}
                timeRange={timeRange}
                alarms={alarms.data?.alarms.filter((alarm) => alarm.pipe === key)}
                dlq={dlqs.data?.dlqs.find((dlq) => dlq.pipe === key)}
              />
            ))}
          </ul>
        </li>
      </ol>
      <RecentDenials />
    </>
  );
}

function health(alarms: Alarm[] | undefined): { text: string; tone: string } {
  if (!alarms) return { text: 'health unknown', tone: 'unknown' };
  const firing = alarms.filter((alarm) => alarm.state === 'ALARM');
  if (firing.length > 0) return { text: `unhealthy: ${firing.map((a) => a.title).join(', ')}`, tone: 'alarm' };
  return { text: 'healthy', tone: 'ok' };
}

function PipeLane({
  pipe,
  timeRange,
  alarms,
  dlq,
}: {
  pipe: PipeKey;
  timeRange: TimeRangeSpec;
  alarms: Alarm[] | undefined;
  dlq: DlqSummary | undefined;
}) {
  const metrics = useFilterMetrics(pipe, timeRange);
  const funnel = metrics.data?.funnel;
  const state = health(alarms);
  const headingId = `lane-${pipe}`;
  return (
    <li className={`lane tone-${state.tone}`} aria-labelledby={headingId}>
      <h2 id={headingId}>
        {PIPES[pipe].title} <span className={`badge state-${state.tone}`}>{state.text}</span>
      </h2>
      <PipeRunState pipe={pipe} />
      {metrics.isError && (
        <QueryError error={metrics.error} what={`metrics of the ${pipe} pipe`} onRetry={() => metrics.refetch()} />
      )}
      {metrics.isPending && <Loading what={`counts of the ${pipe} pipe`} />}
      <ol className="stages">
        <li className="stage">
          <h3>Pipe filter</h3>
          <p>{formatCount(funnel?.matchedByPipeFilter.value)} matched</p>
        </li>
        <li className="stage">
          <h3>Guard</h3>
          <p>
            {formatCount(funnel?.guardPassed.value)} passed, {formatCount(funnel?.guardRejected.value)} rejected
          </p>
        </li>
        <li className="stage">
          <h3>Processor</h3>
          <p>{PIPES[pipe].functionId}</p>
        </li>
        <li className="stage">
          <h3>Outcome</h3>
          <p>
            {formatCount(funnel?.processed.value)} processed, {formatCount(funnel?.failed.value)} failed
          </p>
        </li>
        <li className={`stage ${dlq && dlq.visible > 0 ? 'warn' : ''}`}>
          <h3>Dead-letter queue</h3>
          <p>
            {formatCount(funnel?.sentToDlq.value)} sent, {formatCount(dlq?.visible)} waiting
          </p>
          <Link to={dlqPath(pipe)}>
            Open<span className="visually-hidden"> the {pipe} dead-letter queue</span>
          </Link>
        </li>
      </ol>
    </li>
  );
}
