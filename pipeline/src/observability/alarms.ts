import { PIPE_KEYS, type PipeKey } from '../pipes/definitions.ts';
import {
  LAMBDA_METRICS,
  LAMBDA_NAMESPACE,
  PIPES_METRICS,
  PIPES_NAMESPACE,
  SQS_METRICS,
  SQS_NAMESPACE,
} from './metrics.ts';

/** Which resource of a pipe an alarm's metric is dimensioned by. */
export type AlarmResource = 'dlq' | 'function' | 'pipe';

export type AlarmSlug =
  | 'dlq-has-messages'
  | 'dlq-oldest-message-age'
  | 'processor-error-rate'
  | 'pipe-execution-failures'
  | 'processor-throttles'
  | 'pipeline-unhealthy';

export type ComparisonOperator =
  | 'GreaterThanThreshold'
  | 'GreaterThanOrEqualToThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';
export type Statistic = 'Sum' | 'Average' | 'Maximum' | 'Minimum' | 'SampleCount';

export interface AlarmMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly statistic: Statistic;
  readonly resource: AlarmResource;
}

interface AlarmText {
  readonly slug: AlarmSlug;
  readonly title: string;
  /** First sentence of the alarm description: what broke. */
  readonly whatBroke: string;
  /** Second sentence: the first thing on-call should check. */
  readonly firstCheck: string;
  /** Console view the deep link opens, filtered to the pipe and the alarm's window. */
  readonly consoleView: 'dlqs' | 'metrics';
}

interface Evaluation {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly treatMissingData: TreatMissingData;
}

export type PipeAlarmDefinition = AlarmText &
  Evaluation &
  (
    | { readonly kind: 'metric'; readonly metric: AlarmMetric }
    | {
        readonly kind: 'math';
        /** CloudWatch metric math over the ids of `metrics`. */
        readonly expression: string;
        readonly metrics: Readonly<Record<string, AlarmMetric>>;
      }
  );

export interface CompositeAlarmDefinition extends AlarmText {
  readonly kind: 'composite';
  /** Slugs of the per-pipe alarms whose ALARM state makes this one ALARM (any of them, any pipe). */
  readonly anyOf: readonly AlarmSlug[];
}

/**
 * Alarm definitions as data, per pipe; the stack turns them into `AWS::CloudWatch::Alarm`s and the local runtime
 * evaluates the synthesized alarms. Thresholds live here and nowhere else.
 */
export const PIPE_ALARMS: readonly PipeAlarmDefinition[] = [
  {
    kind: 'metric',
    slug: 'dlq-has-messages',
    title: 'Dead-letter queue has messages',
    whatBroke: 'Batches of order events exhausted their retries and were sent to the dead-letter queue unprocessed.',
    firstCheck:
      'Open the DLQ in the console to see the failed orders and the journal error, fix the cause, then redrive.',
    consoleView: 'dlqs',
    metric: {
      namespace: SQS_NAMESPACE,
      metricName: SQS_METRICS.messagesVisible,
      statistic: 'Maximum',
      resource: 'dlq',
    },
    periodSeconds: 60,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    threshold: 0,
    comparison: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
  },
  {
    kind: 'metric',
    slug: 'dlq-oldest-message-age',
    title: 'Dead-letter message is getting old',
    whatBroke: 'A dead-letter message has waited over an hour; after 24 hours its records leave the stream.',
    firstCheck:
      'Redrive or discard the oldest DLQ messages in the console; records older than 24 hours redrive from the failure journal.',
    consoleView: 'dlqs',
    metric: {
      namespace: SQS_NAMESPACE,
      metricName: SQS_METRICS.ageOfOldestMessage,
      statistic: 'Maximum',
      resource: 'dlq',
    },
    periodSeconds: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    threshold: 3600,
    comparison: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
  },
  {
    kind: 'math',
    slug: 'processor-error-rate',
    title: 'Processor error rate is high',
    whatBroke: 'More than 5% of processor invocations failed in 3 consecutive minutes; the pipe is retrying batches.',
    firstCheck:
      "Check the processor's logs for the error class, and the failure journal in the console for the failing orders.",
    consoleView: 'metrics',
    expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
    metrics: {
      errors: {
        namespace: LAMBDA_NAMESPACE,
        metricName: LAMBDA_METRICS.errors,
        statistic: 'Sum',
        resource: 'function',
      },
      invocations: {
        namespace: LAMBDA_NAMESPACE,
        metricName: LAMBDA_METRICS.invocations,
        statistic: 'Sum',
        resource: 'function',
      },
    },
    periodSeconds: 60,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    threshold: 5,
    comparison: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
  },
  {
    kind: 'metric',
    slug: 'pipe-execution-failures',
    title: 'Pipe executions are failing',
    whatBroke: 'The pipe could not deliver batches to its processor (target errors, timeouts or permission problems).',
    firstCheck:
      "Check the pipe's ERROR log group and the processor's errors; a permission error points at the pipe role.",
    consoleView: 'metrics',
    metric: {
      namespace: PIPES_NAMESPACE,
      metricName: PIPES_METRICS.executionFailed,
      statistic: 'Sum',
      resource: 'pipe',
    },
    periodSeconds: 60,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    threshold: 0,
    comparison: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
  },
  {
    kind: 'metric',
    slug: 'processor-throttles',
    title: 'Processor is throttled',
    whatBroke: 'Lambda throttled the processor; the pipe backs off and events are delayed.',
    firstCheck: "Check the account's concurrent executions and the function's reserved concurrency.",
    consoleView: 'metrics',
    metric: {
      namespace: LAMBDA_NAMESPACE,
      metricName: LAMBDA_METRICS.throttles,
      statistic: 'Sum',
      resource: 'function',
    },
    periodSeconds: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    threshold: 0,
    comparison: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
  },
];

export const COMPOSITE_ALARM: CompositeAlarmDefinition = {
  kind: 'composite',
  slug: 'pipeline-unhealthy',
  title: 'Order pipeline is unhealthy',
  whatBroke: 'At least one pipe alarm is in ALARM: orders are failing, delayed or waiting in a dead-letter queue.',
  firstCheck: 'Open the alarms view in the console to see which pipe and which alarm, then follow that runbook.',
  consoleView: 'dlqs',
  anyOf: [
    'dlq-has-messages',
    'dlq-oldest-message-age',
    'processor-error-rate',
    'pipe-execution-failures',
    'processor-throttles',
  ],
};

export const DEFAULT_ALARM_PREFIX = 'orderflow';

/** Alarm names are stable so that runbooks, the console and the local runtime can find an alarm by name. */
export function alarmName(slug: AlarmSlug, pipe?: PipeKey, prefix = DEFAULT_ALARM_PREFIX): string {
  return pipe ? `${prefix}-${pipe}-${slug}` : `${prefix}-${slug}`;
}

/** Inverse of {@link alarmName}: the pipe and definition an alarm name stands for. */
export function parseAlarmName(
  name: string,
  prefix = DEFAULT_ALARM_PREFIX,
): { pipe?: PipeKey; slug: AlarmSlug } | undefined {
  if (!name.startsWith(`${prefix}-`)) return undefined;
  const rest = name.slice(prefix.length + 1);
  if (rest === COMPOSITE_ALARM.slug) return { slug: COMPOSITE_ALARM.slug };
  for (const pipe of PIPE_KEYS) {
    if (!rest.startsWith(`${pipe}-`)) continue;
    const slug = rest.slice(pipe.length + 1);
    if (PIPE_ALARMS.some((alarm) => alarm.slug === slug)) return { pipe, slug: slug as AlarmSlug };
  }
  return undefined;
}

/** How far back an alarm's deep link looks: its evaluation window plus margin, at least an hour. */
export function alarmWindowSeconds(alarm: PipeAlarmDefinition | CompositeAlarmDefinition): number {
  const evaluated = alarm.kind === 'composite' ? 0 : alarm.periodSeconds * alarm.evaluationPeriods;
  return Math.max(3600, evaluated * 4);
}

export function runbookPath(slug: AlarmSlug): string {
  return `docs/runbooks/${slug}.md`;
}

/** Alarm description: what broke, the first check, the runbook and the console deep link. Max 1024 chars in AWS. */
export function alarmDescription(
  alarm: PipeAlarmDefinition | CompositeAlarmDefinition,
  links: { runbookUrl: string; consoleUrl: string },
  pipe?: PipeKey,
): string {
  const subject = pipe ? `[${pipe} pipe] ` : '';
  return `${subject}${alarm.whatBroke} First check: ${alarm.firstCheck} Runbook: ${links.runbookUrl} Console: ${links.consoleUrl}`;
}
