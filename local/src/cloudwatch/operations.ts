import type { CloudTrailApiContext } from '../cloudtrail/api.ts';
import type { CloudWatchGate } from '../gateway/http-gates.ts';
import type { LogsApiContext } from '../logs/api.ts';
import {
  ALARM_STATES,
  type AlarmBoard,
  AlarmNotFoundError,
  type AlarmSpec,
  type AlarmState,
  alarmArn,
  type MetricAlarmSpec,
  NO_ACTIONS,
} from './alarms.ts';
import { type DashboardSpec, dashboardArn } from './dashboards.ts';
import { ALARM_TYPES, AlarmHistoryError, type AlarmType, HISTORY_ITEM_TYPES, type HistoryItemType } from './history.ts';
import { aggregate, type Dimension, type MetricSample, type MetricStore, normaliseDimensions } from './metric-store.ts';
import { errorShape, type Json } from './model.ts';
import { type MetricDataQuery, runMetricQueries } from './queries.ts';

/**
 * The CloudWatch operations the local endpoint serves, protocol-independent: each takes the canonical input (see
 * `model.ts`: timestamps as `Date`s) and returns the canonical output, and `server.ts` reads and writes it in the
 * protocol the client speaks (AWS JSON 1.0, query, RPC v2 CBOR).
 */

/**
 * An error an operation answers with. `code` is CloudWatch's error code as the query protocol writes it
 * (`InvalidParameterValue`); the model gives its shape (`InvalidParameterValueException`, the `__type` of JSON and
 * CBOR) and HTTP status. Codes the model does not list (the protocols' own: `InvalidAction`, `AccessDenied`, ...) carry
 * their status here.
 */
export class CloudWatchApiError extends Error {
  override readonly name = 'CloudWatchApiError';
  readonly status: number;
  readonly shape: string | undefined;
  constructor(
    readonly code: string,
    message: string,
    options: { readonly status?: number; readonly shape?: string } = {},
  ) {
    super(message);
    const modeled = errorShape(code, options.shape);
    this.shape = modeled?.shape;
    this.status = options.status ?? modeled?.status ?? 400;
  }
}

export interface CloudWatchApiContext {
  readonly store: MetricStore;
  readonly alarms: AlarmBoard;
  readonly region: string;
  readonly account: string;
  /** The template's dashboards (`AWS::CloudWatch::Dashboard`), bodies resolved; none when absent. */
  readonly dashboards?: readonly DashboardSpec[];
  /** The evaluation clock (tests fix it); default Date.now. */
  readonly now?: () => number;
  /** Authorizes each request before it is served (local IAM enforcement); absent: every request is served. */
  readonly gate?: CloudWatchGate;
  /** The CloudWatch Logs API served on the same endpoint (`X-Amz-Target: Logs_20140328.*`); absent: not served. */
  readonly logs?: LogsApiContext;
  /** CloudTrail's LookupEvents on the same endpoint (`X-Amz-Target: com.amazonaws.cloudtrail...`); absent: not served. */
  readonly cloudtrail?: CloudTrailApiContext;
}

/** What the caller may see beyond the operation itself. */
export interface Access {
  /** DescribeAlarms returns composite alarms only to a caller allowed `cloudwatch:DescribeAlarms` on `*`. */
  readonly compositeAlarms: boolean;
}

export const FULL_ACCESS: Access = { compositeAlarms: true };

const toMs = (value: unknown, field: string): number => {
  if (value instanceof Date) return value.getTime();
  if (value === undefined) missing(field);
  throw new CloudWatchApiError('InvalidParameterValue', `${field} must be a timestamp, got ${JSON.stringify(value)}`);
};

const date = (ms: number | undefined) => new Date(ms ?? 0);

function putMetricData(ctx: CloudWatchApiContext, input: Json): Json {
  const namespace = input.Namespace;
  if (typeof namespace !== 'string' || namespace === '')
    throw new CloudWatchApiError('MissingParameter', 'The parameter Namespace is required.');
  for (const datum of (input.MetricData as Json[] | undefined) ?? []) {
    const metric = {
      namespace,
      metricName: String(datum.MetricName),
      dimensions: (datum.Dimensions as Dimension[] | undefined) ?? [],
    };
    const timestamp = datum.Timestamp === undefined ? Date.now() : toMs(datum.Timestamp, 'Timestamp');
    const unit = typeof datum.Unit === 'string' ? datum.Unit : undefined;
    const stats = datum.StatisticValues as { SampleCount: number; Sum: number } | undefined;
    if (typeof datum.Value === 'number')
      ctx.store.putSample(metric, { timestamp, value: datum.Value, ...(unit ? { unit } : {}) });
    else if (Array.isArray(datum.Values)) {
      const counts = (datum.Counts as number[] | undefined) ?? [];
      datum.Values.forEach((value: number, i: number) => {
        ctx.store.putSample(metric, { timestamp, value, count: counts[i] ?? 1, ...(unit ? { unit } : {}) });
      });
    } else if (stats) {
      // Only the mean survives a StatisticValues set; Sum and SampleCount stay exact, percentiles approximate.
      ctx.store.putSample(metric, { timestamp, value: stats.Sum / stats.SampleCount, count: stats.SampleCount });
    } else
      throw new CloudWatchApiError(
        'InvalidParameterCombination',
        `metric ${metric.metricName} has no Value, Values or StatisticValues`,
      );
  }
  return {};
}

function getMetricData(ctx: CloudWatchApiContext, input: Json): Json {
  const queries = (input.MetricDataQueries as MetricDataQuery[] | undefined) ?? [];
  if (queries.length === 0)
    throw new CloudWatchApiError('MissingParameter', 'The parameter MetricDataQueries is required.');
  const start = toMs(input.StartTime, 'StartTime');
  const end = toMs(input.EndTime, 'EndTime');
  if (start >= end)
    throw new CloudWatchApiError('InvalidParameterValue', 'The parameter StartTime must be less than EndTime.');
  let answer: ReturnType<typeof runMetricQueries>;
  try {
    answer = runMetricQueries(ctx.store, queries, start, end);
  } catch (error: unknown) {
    throw new CloudWatchApiError('ValidationError', (error as Error).message);
  }
  const { results, messages } = answer;
  const ascending = input.ScanBy === 'TimestampAscending';
  return {
    MetricDataResults: results
      .filter((r) => r.returned)
      .map((r) => {
        const points = [...r.points].sort((a, b) => (ascending ? a[0] - b[0] : b[0] - a[0]));
        return {
          Id: r.id,
          Label: r.label,
          Timestamps: points.map(([t]) => new Date(t)),
          Values: points.map(([, v]) => v),
          StatusCode: 'Complete',
        };
      }),
    Messages: messages,
  };
}

function listMetrics(ctx: CloudWatchApiContext, input: Json): Json {
  const metrics = ctx.store.list({
    ...(typeof input.Namespace === 'string' ? { namespace: input.Namespace } : {}),
    ...(typeof input.MetricName === 'string' ? { metricName: input.MetricName } : {}),
    ...(Array.isArray(input.Dimensions) ? { dimensions: input.Dimensions as Dimension[] } : {}),
  });
  return {
    Metrics: metrics.map((m) => ({ Namespace: m.namespace, MetricName: m.metricName, Dimensions: m.dimensions })),
  };
}

function describeAlarms(ctx: CloudWatchApiContext, input: Json, access: Access): Json {
  // A fresh reading, which leaves a state set by SetAlarmState until the next scheduled evaluation.
  ctx.alarms.evaluate(ctx.now?.() ?? Date.now(), { scheduled: false });
  const names = input.AlarmNames as string[] | undefined;
  const prefix = input.AlarmNamePrefix as string | undefined;
  const stateValue = input.StateValue as string | undefined;
  // "If you omit this parameter, only metric alarms are returned" (DescribeAlarms, AlarmTypes).
  const types = (input.AlarmTypes as string[] | undefined) ?? ['MetricAlarm'];
  const selected = ctx.alarms.specs.filter((spec) => {
    const status = ctx.alarms.status.get(spec.name);
    return (
      (!names || names.includes(spec.name)) &&
      (!prefix || spec.name.startsWith(prefix)) &&
      (!stateValue || status?.state === stateValue)
    );
  });
  return {
    MetricAlarms: types.includes('MetricAlarm')
      ? selected.flatMap((spec) => (spec.kind === 'metric' ? [metricAlarm(ctx, spec)] : []))
      : [],
    CompositeAlarms:
      types.includes('CompositeAlarm') && access.compositeAlarms
        ? selected.flatMap((spec) =>
            spec.kind === 'composite' ? [{ ...alarmCommon(ctx, spec), AlarmRule: spec.rule }] : [],
          )
        : [],
  };
}

/** What DescribeAlarms returns of every alarm (its `MetricAlarm` and `CompositeAlarm` members). */
function alarmCommon(ctx: CloudWatchApiContext, spec: AlarmSpec): Json {
  const status = ctx.alarms.status.get(spec.name);
  return {
    AlarmName: spec.name,
    AlarmArn: alarmArn(spec.name, ctx.region, ctx.account),
    ...(spec.description ? { AlarmDescription: spec.description } : {}),
    AlarmConfigurationUpdatedTimestamp: date(status?.configurationUpdatedAt),
    ActionsEnabled: status?.actionsEnabled ?? spec.actionsEnabled,
    OKActions: (spec.actions ?? NO_ACTIONS).OK,
    AlarmActions: (spec.actions ?? NO_ACTIONS).ALARM,
    InsufficientDataActions: (spec.actions ?? NO_ACTIONS).INSUFFICIENT_DATA,
    StateValue: status?.state,
    StateReason: status?.reason,
    ...(status?.reasonData ? { StateReasonData: status.reasonData } : {}),
    StateUpdatedTimestamp: date(status?.updatedAt),
    StateTransitionedTimestamp: date(status?.transitionedAt),
  };
}

/** A metric alarm as DescribeAlarms and DescribeAlarmsForMetric return it. */
function metricAlarm(ctx: CloudWatchApiContext, spec: MetricAlarmSpec): Json {
  return {
    ...alarmCommon(ctx, spec),
    ...(spec.single ?? { Metrics: spec.queries }),
    ...(spec.unit ? { Unit: spec.unit } : {}),
    Period: spec.period,
    EvaluationPeriods: spec.evaluationPeriods,
    DatapointsToAlarm: spec.datapointsToAlarm,
    Threshold: spec.threshold,
    ComparisonOperator: spec.comparison,
    TreatMissingData: spec.treatMissingData,
  };
}

/** A string parameter the operation requires; AWS's MissingParameter error names it. */
function requiredString(input: Json, name: string): string {
  const value = input[name];
  if (value === undefined || value === null || value === '')
    throw new CloudWatchApiError('MissingParameter', `The parameter ${name} is required.`);
  if (typeof value !== 'string')
    throw new CloudWatchApiError(
      'InvalidParameterValue',
      `The parameter ${name} must be a string, got ${JSON.stringify(value)}.`,
    );
  return value;
}

function alarmNames(input: Json): string[] {
  const names = input.AlarmNames;
  if (names === undefined) throw new CloudWatchApiError('MissingParameter', 'The parameter AlarmNames is required.');
  if (!Array.isArray(names) || names.some((name) => typeof name !== 'string'))
    throw new CloudWatchApiError('InvalidParameterValue', `The parameter AlarmNames must be a list of alarm names.`);
  if (names.length > 100)
    throw new CloudWatchApiError(
      'InvalidParameterValue',
      `The parameter AlarmNames holds at most 100 names, got ${names.length}.`,
    );
  return names as string[];
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new CloudWatchApiError(
    'InvalidParameterValue',
    `The parameter ${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}.`,
  );
}

/**
 * DescribeAlarmHistory (AlarmName, AlarmTypes, HistoryItemType, StartDate, EndDate, MaxRecords, NextToken, ScanBy).
 * Timestamps come back as `Date`s; the protocol layer writes them (epoch seconds in AWS JSON 1.0).
 */
function describeAlarmHistory(ctx: CloudWatchApiContext, input: Json, access: Access): Json {
  const alarmName = input.AlarmName === undefined ? undefined : requiredString(input, 'AlarmName');
  if (input.AlarmTypes !== undefined && !Array.isArray(input.AlarmTypes))
    throw new CloudWatchApiError('InvalidParameterValue', 'The parameter AlarmTypes must be a list of alarm types.');
  const types = (input.AlarmTypes as unknown[] | undefined)?.map((type) =>
    oneOf<AlarmType>(type, ALARM_TYPES, 'AlarmTypes'),
  );
  const itemType =
    input.HistoryItemType === undefined
      ? undefined
      : oneOf<HistoryItemType>(input.HistoryItemType, HISTORY_ITEM_TYPES, 'HistoryItemType');
  const startDate = input.StartDate === undefined ? undefined : toMs(input.StartDate, 'StartDate');
  const endDate = input.EndDate === undefined ? undefined : toMs(input.EndDate, 'EndDate');
  if (startDate !== undefined && endDate !== undefined && startDate > endDate)
    throw new CloudWatchApiError('InvalidParameterValue', 'The parameter StartDate must not be after EndDate.');
  const scanBy =
    input.ScanBy === undefined
      ? 'TimestampDescending'
      : oneOf(input.ScanBy, ['TimestampDescending', 'TimestampAscending'] as const, 'ScanBy');
  if (input.MaxRecords !== undefined && typeof input.MaxRecords !== 'number')
    throw new CloudWatchApiError(
      'InvalidParameterValue',
      `The parameter MaxRecords must be a number, got ${JSON.stringify(input.MaxRecords)}.`,
    );
  if (input.NextToken !== undefined && typeof input.NextToken !== 'string')
    throw new CloudWatchApiError('InvalidNextToken', 'The parameter NextToken must be a string.');
  // Composite alarms' history needs cloudwatch:DescribeAlarmHistory on * (DescribeAlarmHistory, API reference).
  const allowed = (types ?? ['MetricAlarm']).filter((type) => type !== 'CompositeAlarm' || access.compositeAlarms);
  let page: ReturnType<AlarmBoard['history']['query']>;
  try {
    page = ctx.alarms.history.query({
      ...(alarmName === undefined ? {} : { alarmName }),
      alarmTypes: allowed,
      ...(itemType === undefined ? {} : { historyItemType: itemType }),
      ...(startDate === undefined ? {} : { startDate }),
      ...(endDate === undefined ? {} : { endDate }),
      ...(typeof input.MaxRecords === 'number' ? { maxRecords: input.MaxRecords } : {}),
      ...(typeof input.NextToken === 'string' ? { nextToken: input.NextToken } : {}),
      ascending: scanBy === 'TimestampAscending',
    });
  } catch (error: unknown) {
    if (error instanceof AlarmHistoryError) throw new CloudWatchApiError(error.code, error.message);
    throw error;
  }
  return {
    AlarmHistoryItems: page.items.map((item) => ({
      AlarmName: item.alarmName,
      AlarmType: item.alarmType,
      Timestamp: new Date(item.timestamp),
      HistoryItemType: item.historyItemType,
      HistorySummary: item.summary,
      HistoryData: item.data,
    })),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}

function setActionsEnabled(enabled: boolean) {
  return (ctx: CloudWatchApiContext, input: Json): Json => {
    ctx.alarms.setActionsEnabled(alarmNames(input), enabled, ctx.now?.() ?? Date.now());
    return {};
  };
}

/** SetAlarmState: the state holds until the next scheduled evaluation, and a changed state runs its actions. */
function setAlarmState(ctx: CloudWatchApiContext, input: Json): Json {
  const name = requiredString(input, 'AlarmName');
  const state = oneOf<AlarmState>(input.StateValue ?? missing('StateValue'), ALARM_STATES, 'StateValue');
  const reason = input.StateReason;
  if (typeof reason !== 'string')
    throw new CloudWatchApiError('MissingParameter', 'The parameter StateReason is required.');
  if (reason.length > 1023)
    throw new CloudWatchApiError('InvalidParameterValue', 'The parameter StateReason holds at most 1023 characters.');
  const data = input.StateReasonData;
  if (data !== undefined) {
    if (typeof data !== 'string' || data.length > 4000)
      throw new CloudWatchApiError(
        'InvalidParameterValue',
        'The parameter StateReasonData must be a string of at most 4000 characters.',
      );
    try {
      JSON.parse(data);
    } catch {
      throw new CloudWatchApiError('InvalidFormat', 'The parameter StateReasonData is not valid JSON.');
    }
  }
  try {
    ctx.alarms.setState(name, state, reason, data as string | undefined, ctx.now?.() ?? Date.now());
  } catch (error: unknown) {
    if (error instanceof AlarmNotFoundError)
      throw new CloudWatchApiError('ResourceNotFound', `Alarm ${name} not found`);
    throw error;
  }
  return {};
}

function missing(name: string): never {
  throw new CloudWatchApiError('MissingParameter', `The parameter ${name} is required.`);
}

/** The statistics GetMetricStatistics and DescribeAlarmsForMetric take by name (the model's `Statistic` enum). */
const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
/** `p99`, `p99.9`, `p0.0` ... `p100` (ExtendedStatistics: "Specify values between p0.0 and p100"). */
const PERCENTILE = /^p(\d{1,3}(\.\d+)?)$/;
/** "The maximum number of data points returned from a single call is 1,440" (GetMetricStatistics). */
const MAX_DATAPOINTS = 1440;

function metricOf(input: Json): { namespace: string; metricName: string; dimensions: Dimension[] } {
  const namespace = requiredString(input, 'Namespace');
  const metricName = requiredString(input, 'MetricName');
  return {
    namespace,
    metricName,
    dimensions: normaliseDimensions((input.Dimensions as Dimension[] | undefined) ?? []),
  };
}

/**
 * GetMetricStatistics: the statistics of exactly one metric (its full dimension set) per period over
 * [StartTime, EndTime), one datapoint per period and unit with data. StartTime is rounded down to the minute, as
 * CloudWatch does for start times less than 15 days ago (older data is not kept locally).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
 */
function getMetricStatistics(ctx: CloudWatchApiContext, input: Json): Json {
  const metric = metricOf(input);
  if (input.Period === undefined) missing('Period');
  const start = Math.floor(toMs(input.StartTime, 'StartTime') / 60_000) * 60_000;
  const end = toMs(input.EndTime, 'EndTime');
  if (start >= end)
    throw new CloudWatchApiError('InvalidParameterValue', 'The parameter StartTime must be less than EndTime.');
  const period = input.Period as number;
  if (!Number.isInteger(period) || period < 1 || (period >= 60 ? period % 60 !== 0 : ![1, 5, 10, 30].includes(period)))
    throw new CloudWatchApiError(
      'InvalidParameterValue',
      `The parameter Period must be 1, 5, 10, 30 or a multiple of 60 seconds, got ${period}.`,
    );
  const statistics = (input.Statistics as string[] | undefined) ?? [];
  const extended = (input.ExtendedStatistics as string[] | undefined) ?? [];
  // "you must specify either Statistics or ExtendedStatistics, but not both" (GetMetricStatistics, Statistics).
  if (statistics.length === 0 && extended.length === 0)
    throw new CloudWatchApiError(
      'InvalidParameterCombination',
      'At least one of the parameters Statistics and ExtendedStatistics must be specified.',
    );
  if (statistics.length > 0 && extended.length > 0)
    throw new CloudWatchApiError(
      'InvalidParameterCombination',
      'The parameters Statistics and ExtendedStatistics are mutually exclusive: specify one of them.',
    );
  for (const statistic of statistics) oneOf(statistic, STATISTICS, 'Statistics');
  for (const percentile of extended) {
    const match = PERCENTILE.exec(percentile);
    if (!match || Number(match[1]) > 100)
      throw new CloudWatchApiError(
        'InvalidParameterValue',
        `The parameter ExtendedStatistics must hold percentiles between p0.0 and p100, got '${percentile}'.`,
      );
  }
  const requested = Math.ceil((end - start) / (period * 1000));
  if (requested > MAX_DATAPOINTS)
    throw new CloudWatchApiError(
      'InvalidParameterCombination',
      `You have requested up to ${requested.toLocaleString('en-US')} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
    );
  const unit = typeof input.Unit === 'string' ? input.Unit : undefined;
  const datapoints: Json[] = [];
  for (const [bucket, samples] of ctx.store.buckets(metric, period, start, end, unit)) {
    // "If you omit Unit, all data that was collected with any unit is returned, along with the corresponding units".
    const byUnit = new Map<string, MetricSample[]>();
    for (const sample of samples) {
      const key = sample.unit ?? 'None';
      byUnit.set(key, [...(byUnit.get(key) ?? []), sample]);
    }
    for (const [sampleUnit, group] of byUnit)
      datapoints.push({
        Timestamp: new Date(bucket),
        ...Object.fromEntries(statistics.map((statistic) => [statistic, aggregate(group, statistic)])),
        ...(extended.length > 0
          ? { ExtendedStatistics: Object.fromEntries(extended.map((p) => [p, aggregate(group, p)])) }
          : {}),
        Unit: sampleUnit,
      });
  }
  return { Label: metric.metricName, Datapoints: datapoints };
}

/**
 * DescribeAlarmsForMetric: "retrieves only standard alarms that are based on the specified metric. It does not
 * return alarms based on math expressions that use the specified metric, or composite alarms" (API reference); the
 * dimensions must be the alarm's full set, Statistic, ExtendedStatistic, Period and Unit narrow the list.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmsForMetric.html
 */
function describeAlarmsForMetric(ctx: CloudWatchApiContext, input: Json): Json {
  const metric = metricOf(input);
  const key = (dimensions: readonly Dimension[]) => JSON.stringify(normaliseDimensions(dimensions));
  if (input.Statistic !== undefined) oneOf(input.Statistic, STATISTICS, 'Statistic');
  ctx.alarms.evaluate(ctx.now?.() ?? Date.now(), { scheduled: false });
  const alarms = ctx.alarms.specs.filter(
    (spec): spec is MetricAlarmSpec =>
      spec.kind === 'metric' &&
      spec.single !== undefined &&
      spec.single.Namespace === metric.namespace &&
      spec.single.MetricName === metric.metricName &&
      key(spec.single.Dimensions) === key(metric.dimensions) &&
      (input.Statistic === undefined || spec.single.Statistic === input.Statistic) &&
      (input.ExtendedStatistic === undefined || spec.single.ExtendedStatistic === input.ExtendedStatistic) &&
      (input.Period === undefined || spec.period === input.Period) &&
      (input.Unit === undefined || spec.unit === input.Unit),
  );
  return { MetricAlarms: alarms.map((spec) => metricAlarm(ctx, spec)) };
}

/** ListDashboards: every dashboard, or those whose names start with DashboardNamePrefix, by name. */
function listDashboards(ctx: CloudWatchApiContext, input: Json): Json {
  const prefix = typeof input.DashboardNamePrefix === 'string' ? input.DashboardNamePrefix : '';
  return {
    DashboardEntries: (ctx.dashboards ?? [])
      .filter((dashboard) => dashboard.name.startsWith(prefix))
      .map((dashboard) => ({
        DashboardName: dashboard.name,
        DashboardArn: dashboardArn(dashboard.name, ctx.account),
        LastModified: new Date(dashboard.lastModified),
        Size: Buffer.byteLength(dashboard.body, 'utf8'),
      })),
  };
}

/** GetDashboard: the body as the template declares it, resolved; an unknown name is DashboardNotFoundError. */
function getDashboard(ctx: CloudWatchApiContext, input: Json): Json {
  const name = requiredString(input, 'DashboardName');
  const dashboard = (ctx.dashboards ?? []).find((candidate) => candidate.name === name);
  if (!dashboard)
    throw new CloudWatchApiError('ResourceNotFound', `Dashboard ${name} does not exist`, {
      shape: 'DashboardNotFoundError',
    });
  return {
    DashboardArn: dashboardArn(dashboard.name, ctx.account),
    DashboardBody: dashboard.body,
    DashboardName: dashboard.name,
  };
}

export type Operation = (ctx: CloudWatchApiContext, input: Json, access: Access) => Json;

/** The operations served, by their model names; every protocol dispatches through this one table. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  PutMetricData: putMetricData,
  GetMetricData: getMetricData,
  GetMetricStatistics: getMetricStatistics,
  ListMetrics: listMetrics,
  DescribeAlarms: describeAlarms,
  DescribeAlarmsForMetric: describeAlarmsForMetric,
  DescribeAlarmHistory: describeAlarmHistory,
  EnableAlarmActions: setActionsEnabled(true),
  DisableAlarmActions: setActionsEnabled(false),
  SetAlarmState: setAlarmState,
  ListDashboards: listDashboards,
  GetDashboard: getDashboard,
};
