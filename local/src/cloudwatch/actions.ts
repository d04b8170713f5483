import type { ConditionContext, Principal } from '../iam/authorizer.ts';
import { type AlarmBoard, type AlarmSpec, type AlarmTransition, alarmTypeOf, NO_ACTIONS } from './alarms.ts';
import { HISTORY_DATA_MAX } from './history.ts';
import type { Dimension } from './metric-store.ts';

/**
 * Alarm actions: when an alarm's state changes and its actions are enabled, CloudWatch runs the actions listed for
 * the new state (AlarmActions, OKActions, InsufficientDataActions). An SNS action publishes AWS's alarm notification
 * to the topic as the service principal `cloudwatch.amazonaws.com`, with `aws:SourceArn` = the alarm's ARN and
 * `aws:SourceAccount` = the account, over TLS (`aws:SecureTransport`), so the topic policy and, for an encrypted
 * topic, the key policy decide it (docs/AWS-FACTS.md, fact 12). Each action's outcome is an `Action` item of the
 * alarm's history: "Successfully executed action <ARN>" or "Failed to execute action <ARN>. Received error: ...".
 */

/** The part of the SNS service alarm actions use (`SnsService`). */
export interface NotificationPublisher {
  publish(
    input: { TopicArn: string; Message: string; Subject: string; MessageStructure: 'json' },
    caller: { principal: Principal; context: ConditionContext; endpoint: 'alarm-action' },
  ): { MessageId: string };
}

export interface AlarmActionsOptions {
  readonly region: string;
  readonly account: string;
  /** Undefined when the runtime has no SNS service: every SNS action then fails, saying so. */
  readonly sns: NotificationPublisher | undefined;
  /** Human-readable region name as notifications write it, e.g. `US East (N. Virginia)`. */
  readonly regionName: string;
}

const CLOUDWATCH: Principal = { kind: 'service', service: 'cloudwatch.amazonaws.com' };

/** `2025-02-02T12:06:35.472+0000`, the timestamp form of alarm notifications. */
export function notificationTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

const STATISTICS: Record<string, string> = {
  SampleCount: 'SAMPLE_COUNT',
  Average: 'AVERAGE',
  Sum: 'SUM',
  Minimum: 'MINIMUM',
  Maximum: 'MAXIMUM',
};

/** A number as Java prints a double (`0.0`, `5.0`, `0.25`): notifications print thresholds so. */
const DOUBLE = '\u0000double:';
const double = (value: number): string =>
  `${DOUBLE}${Number.isInteger(value) && Math.abs(value) < 1e7 ? value.toFixed(1) : String(value)}`;
const lowerDimensions = (dimensions: readonly Dimension[] | undefined) =>
  (dimensions ?? []).map((d) => ({ value: d.Value, name: d.Name }));

function serialize(message: Record<string, unknown>): string {
  return JSON.stringify(message).replace(/"\\u0000double:([^"]+)"/g, '$1');
}

/**
 * The JSON CloudWatch publishes for a state change of a metric alarm (Trigger with the metric, or `Metrics` for
 * metric math) or of a composite alarm (AlarmRule, TriggeringChildren), keys in AWS's order.
 */
export function alarmNotification(
  board: AlarmBoard,
  transition: AlarmTransition,
  options: { account: string; regionName: string },
): string {
  const { spec } = transition;
  const status = board.status.get(spec.name);
  const actions = spec.actions ?? NO_ACTIONS;
  const head = {
    AlarmName: spec.name,
    AlarmDescription: spec.description ?? null,
    AWSAccountId: options.account,
  };
  const state = {
    NewStateValue: transition.newState,
    NewStateReason: transition.reason,
    StateChangeTime: notificationTime(transition.at),
    Region: options.regionName,
    AlarmArn: board.arnOf(spec.name),
  };
  const lists = {
    OKActions: actions.OK,
    AlarmActions: actions.ALARM,
    InsufficientDataActions: actions.INSUFFICIENT_DATA,
  };
  if (spec.kind === 'composite')
    return serialize({
      ...head,
      ...state,
      ...lists,
      OldStateValue: transition.oldState,
      AlarmRule: spec.rule,
      TriggeringChildren: (transition.triggeringChildren ?? []).map((child) => ({
        Arn: board.arnOf(child.name),
        State: { Value: child.state, Timestamp: notificationTime(child.at) },
      })),
    });
  const evaluation = {
    Period: spec.period,
    EvaluationPeriods: spec.evaluationPeriods,
    ...(spec.datapointsToAlarmSet ? { DatapointsToAlarm: spec.datapointsToAlarm } : {}),
    ComparisonOperator: spec.comparison,
    Threshold: double(spec.threshold),
    TreatMissingData: spec.treatMissingData,
    EvaluateLowSampleCountPercentile: '',
  };
  const trigger = spec.single
    ? {
        MetricName: spec.single.MetricName,
        Namespace: spec.single.Namespace,
        ...(spec.single.ExtendedStatistic
          ? { StatisticType: 'ExtendedStatistic', ExtendedStatistic: spec.single.ExtendedStatistic }
          : {
              StatisticType: 'Statistic',
              Statistic: STATISTICS[spec.single.Statistic ?? ''] ?? spec.single.Statistic?.toUpperCase(),
            }),
        Unit: spec.unit ?? null,
        Dimensions: lowerDimensions(spec.single.Dimensions),
        ...evaluation,
      }
    : {
        ...evaluation,
        Metrics: spec.queries.map((query) => ({
          ...(query.Expression !== undefined ? { Expression: query.Expression } : {}),
          Id: query.Id,
          ...(query.Label !== undefined ? { Label: query.Label } : {}),
          ...(query.MetricStat
            ? {
                MetricStat: {
                  Metric: {
                    Dimensions: lowerDimensions(query.MetricStat.Metric.Dimensions),
                    MetricName: query.MetricStat.Metric.MetricName,
                    Namespace: query.MetricStat.Metric.Namespace,
                  },
                  Period: query.MetricStat.Period,
                  Stat: query.MetricStat.Stat,
                  ...(query.MetricStat.Unit !== undefined ? { Unit: query.MetricStat.Unit } : {}),
                },
              }
            : {}),
          ReturnData: query.ReturnData ?? true,
        })),
      };
  return serialize({
    ...head,
    AlarmConfigurationUpdatedTimestamp: notificationTime(status?.configurationUpdatedAt ?? transition.at),
    ...state,
    OldStateValue: transition.oldState,
    ...lists,
    Trigger: trigger,
  });
}

/** `ALARM: "name" in US East (N. Virginia)`, at most 100 characters (SNS's limit for a subject). */
export function notificationSubject(state: string, name: string, regionName: string): string {
  const subject = `${state}: "${name}" in ${regionName}`;
  return subject.length <= 100 ? subject : subject.slice(0, 100);
}

/**
 * What CloudWatch's history says a refused publish got back. A topic policy's refusal names the alarm as the caller:
 * `Resource: <alarm ARN> is not authorized to perform: SNS:Publish on resource: <topic ARN> because no resource-based
 * policy allows the SNS:Publish action` (AWS Knowledge Center, "Why didn't I receive an SNS notification for my
 * CloudWatch alarm trigger?", https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger, and the
 * history quoted in https://github.com/aws-solutions/automated-security-response-on-aws/issues/43); a key policy's
 * refusal reads `CloudWatch Alarms does not have authorization to access the SNS topic encryption key.` (quoted in
 * https://github.com/awslabs/landing-zone-accelerator-on-aws/issues/31).
 */
function receivedError(error: { code?: string; message?: string }, alarmArn: string): string {
  const message = error.message ?? String(error);
  if (error.code?.startsWith('KMS'))
    return 'CloudWatch Alarms does not have authorization to access the SNS topic encryption key.';
  if (error.code === 'AuthorizationError')
    return message.replace(/^User: cloudwatch\.amazonaws\.com /, `Resource: ${alarmArn} `);
  return message;
}

/** Subscribes to the board and runs the actions of every transition; returns the unsubscribe function. */
export function runAlarmActions(board: AlarmBoard, options: AlarmActionsOptions): () => void {
  return board.onTransition((transition) => executeActions(board, transition, options));
}

export function executeActions(board: AlarmBoard, transition: AlarmTransition, options: AlarmActionsOptions): void {
  const { spec } = transition;
  const status = board.status.get(spec.name);
  if (!status?.actionsEnabled) return;
  const arns = (spec.actions ?? NO_ACTIONS)[transition.newState];
  if (arns.length === 0) return;
  const alarmArn = board.arnOf(spec.name);
  const message = alarmNotification(board, transition, options);
  const subject = notificationSubject(transition.newState, spec.name, options.regionName);
  const published = JSON.stringify({ default: message, sms: subject });
  for (const arn of arns) {
    let error: string | undefined;
    if (!arn.startsWith('arn:aws:sns:'))
      error = `the local runtime executes SNS actions only, not ${arn.split(':')[2] ?? arn} actions`;
    else if (!options.sns) error = 'the local runtime has no SNS service';
    else
      try {
        options.sns.publish(
          { TopicArn: arn, Message: published, Subject: subject, MessageStructure: 'json' },
          {
            principal: CLOUDWATCH,
            context: {
              'aws:SourceArn': alarmArn,
              'aws:SourceAccount': options.account,
              'aws:SecureTransport': true,
            },
            endpoint: 'alarm-action',
          },
        );
      } catch (caught: unknown) {
        error = receivedError(caught as { code?: string; message?: string }, alarmArn);
      }
    recordAction(board, spec, transition, arn, published, error);
  }
}

function recordAction(
  board: AlarmBoard,
  spec: AlarmSpec,
  transition: AlarmTransition,
  arn: string,
  published: string,
  error: string | undefined,
): void {
  const data = (message: string | null) =>
    JSON.stringify({
      actionState: error === undefined ? 'Succeeded' : 'Failed',
      stateUpdateTimestamp: transition.at,
      notificationResource: arn,
      publishedMessage: message,
      error: error ?? null,
    });
  // HistoryData holds at most 4,095 characters: a long published message is cut to fit, keeping the JSON whole.
  let kept = error === undefined ? published : null;
  while (kept !== null && data(kept).length > HISTORY_DATA_MAX)
    kept = kept.slice(0, kept.length - (data(kept).length - HISTORY_DATA_MAX) - 8);
  board.history.record({
    alarmName: spec.name,
    alarmType: alarmTypeOf(spec),
    timestamp: Date.now(),
    historyItemType: 'Action',
    summary:
      error === undefined
        ? `Successfully executed action ${arn}`
        : `Failed to execute action ${arn}. Received error: "${error}"`,
    data: data(kept),
  });
}
