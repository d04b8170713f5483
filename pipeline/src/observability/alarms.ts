import { DEAD_LETTER_CAPTURE_ENABLED } from '../dead-letters/dead-letter-store.ts';
import { PIPE_KEYS, type PipeKey } from '../pipes/definitions.ts';
import {
  ARCHIVER_METRICS,
  DYNAMODB_METRICS,
  DYNAMODB_NAMESPACE,
  LAMBDA_METRICS,
  LAMBDA_NAMESPACE,
  METRICS_NAMESPACE,
  PIPES_METRICS,
  PIPES_NAMESPACE,
  SQS_METRICS,
  SQS_NAMESPACE,
} from './metrics.ts';

/**
 * Which resource an alarm's metric is dimensioned by: one of the pipe's own (its DLQ, processor, the pipe itself, its
 * dead-letter archiver and the archiver's unarchivable queue), the Orders table the pipe reads (`TableName`), or
 * `metrics`: this project's own EMF metrics of the pipe (dimensions `service` and `Pipe`, as Powertools emits them).
 */
export type AlarmResource = 'dlq' | 'function' | 'pipe' | 'ordersTable' | 'archiver' | 'unarchivableQueue' | 'metrics';

export type AlarmSlug =
  | 'dlq-has-messages'
  | 'dlq-not-drained'
  | 'processor-error-rate'
  | 'pipe-execution-failures'
  | 'pipe-stalled'
  | 'processor-throttles'
  | 'dead-letter-archiver-failing'
  | 'dead-letters-unarchivable'
  | 'pipeline-unhealthy';

export type ComparisonOperator =
  | 'GreaterThanThreshold'
  | 'GreaterThanOrEqualToThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';
export type Statistic = 'Sum' | 'Average' | 'Maximum' | 'Minimum' | 'SampleCount';

/** CloudWatch's alarm states (`StateValue`): what the local CloudWatch endpoint and the ops API answer. */
export const ALARM_STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

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

/** Any datapoint above 0 in one minute alarms; no data is no failure. */
const ANY_IN_A_MINUTE: Evaluation = {
  periodSeconds: 60,
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  threshold: 0,
  comparison: 'GreaterThanThreshold',
  treatMissingData: 'notBreaching',
};

/** The messages visible in a pipe's DLQ, as SQS samples them about once a minute. */
const DLQ_VISIBLE: AlarmMetric = {
  namespace: SQS_NAMESPACE,
  metricName: SQS_METRICS.messagesVisible,
  statistic: 'Maximum',
  resource: 'dlq',
};

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
 * The dead-letter archiver's own alarms, per pipe (each pipe has its archiver and its unarchivable queue). Appended
 * to {@link PIPE_ALARMS}.
 */
const ARCHIVER_ALARMS: readonly PipeAlarmDefinition[] = [
  {
    // A message the archiver fails on is received again after the DLQ's visibility timeout, so a passing fault (a
    // throttled stream read, a conflicting transaction) clears by itself: only failures in 3 of 5 minutes alarm. A
    // fault on one message only repeats every visibility timeout and never reaches that; it reaches the unarchivable
    // queue after maxReceiveCount receives, which alarms at once (dead-letters-unarchivable).
    kind: 'math',
    slug: 'dead-letter-archiver-failing',
    title: 'Dead-letter archiver is failing',
    whatBroke:
      'The dead-letter archiver failed to store DLQ messages, or its invocations failed, in 3 of the last 5 minutes; the messages stay in the DLQ and are retried.',
    firstCheck:
      "Check the archiver's logs for 'dead letter not stored' and its errors; AccessDenied points at its role, ThrottlingException or TransactionConflict at load.",
    consoleView: 'metrics',
    expression: 'FILL(errors, 0) + FILL(failures, 0)',
    metrics: {
      errors: {
        namespace: LAMBDA_NAMESPACE,
        metricName: LAMBDA_METRICS.errors,
        statistic: 'Sum',
        resource: 'archiver',
      },
      failures: {
        namespace: METRICS_NAMESPACE,
        metricName: ARCHIVER_METRICS.captureFailures.name,
        statistic: 'Sum',
        resource: 'metrics',
      },
    },
    periodSeconds: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    threshold: 0,
    comparison: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
  },
  {
    kind: 'math',
    slug: 'dead-letters-unarchivable',
    title: 'DLQ messages the archiver could not capture',
    whatBroke:
      'A DLQ message failed to be captured into the dead-letter store on every try and was moved to the unarchivable queue; it is in no store until it is moved back.',
    firstCheck:
      "Read the message and the archiver's logs for it, fix the cause, then move it back to the pipe's DLQ with aws sqs start-message-move-task.",
    consoleView: 'metrics',
    expression: 'FILL(visible, 0) + FILL(inFlight, 0)',
    metrics: {
      visible: {
        namespace: SQS_NAMESPACE,
        metricName: SQS_METRICS.messagesVisible,
        statistic: 'Maximum',
        resource: 'unarchivableQueue',
      },
      inFlight: {
        namespace: SQS_NAMESPACE,
        metricName: SQS_METRICS.messagesNotVisible,
        statistic: 'Maximum',
        resource: 'unarchivableQueue',
      },
    },
    ...ANY_IN_A_MINUTE,
  },
];

/** `dlq-has-messages` once the archivers capture (DEAD_LETTER_CAPTURE_ENABLED). */
const DLQ_HAS_MESSAGES_WITH_CAPTURE: PipeAlarmDefinition = {
  // The dead-letter archiver takes every DLQ message within seconds (dead-letter-archiver in the stack), so a
  // message is rarely still visible when SQS samples the queue (about once a minute): "the DLQ holds messages" no
  // longer says that batches failed. The archiver's count of new dead letters does, as soon as they are captured;
  // the visible messages still count, so that a batch the archiver has not taken (it is down, or behind) alarms too.
  kind: 'math',
  slug: 'dlq-has-messages',
  title: 'Failed batches reached the dead-letter queue',
  whatBroke:
    'Batches of order events exhausted their retries and were sent to the dead-letter queue; the archiver captures each one into the dead-letter store within seconds.',
  firstCheck:
    'Look at the new dead letters (the cause, the failed orders, the journal error), fix the cause, then redrive; the runbook shows how to query the store.',
  consoleView: 'dlqs',
  expression: 'FILL(captured, 0) + FILL(visible, 0)',
  metrics: {
    captured: {
      namespace: METRICS_NAMESPACE,
      metricName: ARCHIVER_METRICS.deadLettersCaptured.name,
      statistic: 'Sum',
      resource: 'metrics',
    },
    visible: DLQ_VISIBLE,
  },
  ...ANY_IN_A_MINUTE,
};

/**
 * Alarm definitions as data, per pipe; the stack turns them into `AWS::CloudWatch::Alarm`s and the local runtime
 * evaluates the synthesized alarms. Thresholds live here and nowhere else.
 */
export const PIPE_ALARMS: readonly PipeAlarmDefinition[] = [
  DEAD_LETTER_CAPTURE_ENABLED
    ? DLQ_HAS_MESSAGES_WITH_CAPTURE
    : {
        kind: 'metric',
        slug: 'dlq-has-messages',
        title: 'Dead-letter queue has messages',
        whatBroke:
          'Batches of order events exhausted their retries and were sent to the dead-letter queue unprocessed.',
        firstCheck:
          'Open the DLQ in the console to see the failed orders and the journal error, fix the cause, then redrive.',
        consoleView: 'dlqs',
        metric: DLQ_VISIBLE,
        ...ANY_IN_A_MINUTE,
      },
  {
    // Not ApproximateAgeOfOldestMessage: SQS leaves a message received three or more times out of it, and browsing
    // the DLQ receives (docs/AWS-FACTS.md, fact 13), so the age alarm could be silenced by looking at the queue.
    // Browsing moves a message between visible and in flight, never out of their sum; only a delete (redrive,
    // discard) or the 14-day retention removes it. So: the DLQ held a message in (almost) every minute of the last
    // hour. Every message older than an hour makes this true; so does a queue that refills as fast as it is
    // drained, which is as unattended. Maximum per minute (SQS samples about once a minute): a minute in which a
    // message existed counts whichever of the two states each sample caught it in. Two missing minutes of 60 are
    // tolerated, so that one lost datapoint does not restart the hour.
    // With the archiver draining the DLQ within seconds, a queue that held messages for an hour means the archiver
    // is not taking them at all (its event source is disabled or cannot receive); a message the archiver fails on
    // moves to the unarchivable queue after a few receives instead (dead-letters-unarchivable).
    kind: 'math',
    slug: 'dlq-not-drained',
    title: 'Dead-letter queue not drained for an hour',
    whatBroke: DEAD_LETTER_CAPTURE_ENABLED
      ? 'The dead-letter queue has held messages for an hour (visible or in flight, so browsing cannot hide them): the dead-letter archiver is not taking them, and after 24 hours their records leave the stream.'
      : 'The dead-letter queue has held messages for an hour (visible or in flight, so browsing cannot hide them); after 24 hours their records leave the stream.',
    firstCheck: DEAD_LETTER_CAPTURE_ENABLED
      ? "Check the archiver's event source mapping on this DLQ (State, StateTransitionReason) and its errors; records older than 24 hours can only come from the failure journal."
      : 'Redrive or discard the oldest DLQ messages in the console; records older than 24 hours redrive from the failure journal.',
    consoleView: 'dlqs',
    expression: 'FILL(visible, 0) + FILL(inFlight, 0)',
    metrics: {
      visible: {
        namespace: SQS_NAMESPACE,
        metricName: SQS_METRICS.messagesVisible,
        statistic: 'Maximum',
        resource: 'dlq',
      },
      inFlight: {
        namespace: SQS_NAMESPACE,
        metricName: SQS_METRICS.messagesNotVisible,
        statistic: 'Maximum',
        resource: 'dlq',
      },
    },
    periodSeconds: 60,
    evaluationPeriods: 60,
    datapointsToAlarm: 58,
    threshold: 0,
    comparison: 'GreaterThanThreshold',
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
  {
    // A stopped pipe, or one Pipes disabled by itself after near-continuous 4xx errors (EventBridge user guide,
    // "Amazon EventBridge Pipes error handling and troubleshooting"), publishes nothing, and every other alarm treats
    // missing data as fine. Pipes emits no state-change event either (its only events are CloudTrail API calls, which
    // an automatic disable is not) and no metric of its state, so no CloudWatch alarm can watch the state itself;
    // this one watches its consequence: the table is being written and the pipe invokes its processor not once.
    // FILL(.., 0): a period without a datapoint counts as zero writes (nothing to deliver) or zero invocations (the
    // symptom). A pipe whose filter matches none of the writes looks the same (Pipes counts no filtered records,
    // docs/AWS-FACTS.md, fact 8), hence a whole hour: the premium pipe only sees pending-to-shipped changes.
    kind: 'math',
    slug: 'pipe-stalled',
    title: 'Pipe delivers nothing while orders are written',
    whatBroke:
      'For an hour the Orders table was written in every 15 minutes and the pipe invoked its processor not once: it is stopped, disabled by Pipes, or stuck.',
    firstCheck:
      'Run aws pipes describe-pipe for the pipe and read CurrentState and StateReason; a RUNNING pipe with no errors may simply have matched none of the writes.',
    consoleView: 'metrics',
    expression: 'IF((FILL(writes, 0) > 0) AND (FILL(invocations, 0) == 0), 1, 0)',
    metrics: {
      writes: {
        namespace: DYNAMODB_NAMESPACE,
        metricName: DYNAMODB_METRICS.consumedWriteCapacityUnits,
        statistic: 'Sum',
        resource: 'ordersTable',
      },
      invocations: {
        namespace: PIPES_NAMESPACE,
        metricName: PIPES_METRICS.invocations,
        statistic: 'Sum',
        resource: 'pipe',
      },
    },
    periodSeconds: 900,
    evaluationPeriods: 4,
    datapointsToAlarm: 4,
    threshold: 1,
    comparison: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'notBreaching',
  },
  ...(DEAD_LETTER_CAPTURE_ENABLED ? ARCHIVER_ALARMS : []),
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
    'dlq-not-drained',
    'processor-error-rate',
    'pipe-execution-failures',
    'pipe-stalled',
    'processor-throttles',
    ...(DEAD_LETTER_CAPTURE_ENABLED ? (['dead-letter-archiver-failing', 'dead-letters-unarchivable'] as const) : []),
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

/**
 * The links {@link alarmDescription} writes, read back from a description (an alarm notification's
 * `AlarmDescription`, as the on-call inbox shows it). Each is null unless it is an http(s) URL: a stack without a
 * runbook base URL writes a relative path, one without the ops toolkit no console link.
 */
export function alarmDescriptionLinks(description: string): { runbookUrl: string | null; consoleUrl: string | null } {
  const link = (label: string) => new RegExp(`(?:^| )${label}: (https?://\\S+)`).exec(description)?.[1] ?? null;
  return { runbookUrl: link('Runbook'), consoleUrl: link('Console') };
}
