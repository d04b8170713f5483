import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { CloudWatchGate } from '../gateway/http-gates.ts';
import { closeServer, listen } from '../services/http.ts';
import {
  ALARM_STATES,
  type AlarmBoard,
  AlarmNotFoundError,
  type AlarmSpec,
  type AlarmState,
  alarmArn,
  NO_ACTIONS,
} from './alarms.ts';
import { ALARM_TYPES, AlarmHistoryError, type AlarmType, HISTORY_ITEM_TYPES, type HistoryItemType } from './history.ts';
import type { Dimension, MetricStore } from './metric-store.ts';
import { type MetricDataQuery, runQueries } from './queries.ts';

/**
 * CloudWatch's AWS JSON 1.0 protocol, which `@aws-sdk/client-cloudwatch` 3.11xx speaks (`X-Amz-Target:
 * GraniteServiceVersion20100801.<Operation>`, `Content-Type: application/x-amz-json-1.0`, timestamps as epoch
 * seconds). The service is "awsQueryCompatible", so errors also carry the `x-amzn-query-error` header.
 */
export const CLOUDWATCH_TARGET_PREFIX = 'GraniteServiceVersion20100801.';

export class CloudWatchApiError extends Error {
  override readonly name = 'CloudWatchApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface CloudWatchApiContext {
  readonly store: MetricStore;
  readonly alarms: AlarmBoard;
  readonly region: string;
  readonly account: string;
  /** The evaluation clock (tests fix it); default Date.now. */
  readonly now?: () => number;
  /** Authorizes each request before it is served (local IAM enforcement); absent: every request is served. */
  readonly gate?: CloudWatchGate;
}

/** What the caller may see beyond the operation itself. */
interface Access {
  /** DescribeAlarms returns composite alarms only to a caller allowed `cloudwatch:DescribeAlarms` on `*`. */
  readonly compositeAlarms: boolean;
}

const FULL_ACCESS: Access = { compositeAlarms: true };

type Json = Record<string, unknown>;

const toMs = (value: unknown, field: string): number => {
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  throw new CloudWatchApiError('InvalidParameterValue', `${field} must be a timestamp, got ${JSON.stringify(value)}`);
};

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
  let results: ReturnType<typeof runQueries>;
  try {
    results = runQueries(ctx.store, queries, start, end);
  } catch (error: unknown) {
    throw new CloudWatchApiError('ValidationError', (error as Error).message);
  }
  const ascending = input.ScanBy === 'TimestampAscending';
  return {
    MetricDataResults: results
      .filter((r) => r.returned)
      .map((r) => {
        const points = [...r.points].sort((a, b) => (ascending ? a[0] - b[0] : b[0] - a[0]));
        return {
          Id: r.id,
          Label: r.label,
          Timestamps: points.map(([t]) => t / 1000),
          Values: points.map(([, v]) => v),
          StatusCode: 'Complete',
        };
      }),
    Messages: [],
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
  const common = (spec: AlarmSpec) => {
    const status = ctx.alarms.status.get(spec.name);
    return {
      AlarmName: spec.name,
      AlarmArn: alarmArn(spec.name, ctx.region, ctx.account),
      ...(spec.description ? { AlarmDescription: spec.description } : {}),
      AlarmConfigurationUpdatedTimestamp: (status?.configurationUpdatedAt ?? 0) / 1000,
      ActionsEnabled: status?.actionsEnabled ?? spec.actionsEnabled,
      OKActions: (spec.actions ?? NO_ACTIONS).OK,
      AlarmActions: (spec.actions ?? NO_ACTIONS).ALARM,
      InsufficientDataActions: (spec.actions ?? NO_ACTIONS).INSUFFICIENT_DATA,
      StateValue: status?.state,
      StateReason: status?.reason,
      ...(status?.reasonData ? { StateReasonData: status.reasonData } : {}),
      StateUpdatedTimestamp: (status?.updatedAt ?? 0) / 1000,
      StateTransitionedTimestamp: (status?.transitionedAt ?? 0) / 1000,
    };
  };
  return {
    MetricAlarms: types.includes('MetricAlarm')
      ? selected.flatMap((spec) =>
          spec.kind === 'metric'
            ? [
                {
                  ...common(spec),
                  ...(spec.single ?? { Metrics: spec.queries }),
                  Period: spec.period,
                  EvaluationPeriods: spec.evaluationPeriods,
                  DatapointsToAlarm: spec.datapointsToAlarm,
                  Threshold: spec.threshold,
                  ComparisonOperator: spec.comparison,
                  TreatMissingData: spec.treatMissingData,
                },
              ]
            : [],
        )
      : [],
    CompositeAlarms:
      types.includes('CompositeAlarm') && access.compositeAlarms
        ? selected.flatMap((spec) => (spec.kind === 'composite' ? [{ ...common(spec), AlarmRule: spec.rule }] : []))
        : [],
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
      throw new CloudWatchApiError('ResourceNotFound', `Alarm ${name} not found`, 404);
    throw error;
  }
  return {};
}

function missing(name: string): never {
  throw new CloudWatchApiError('MissingParameter', `The parameter ${name} is required.`);
}

const OPERATIONS: Record<string, (ctx: CloudWatchApiContext, input: Json, access: Access) => Json> = {
  PutMetricData: putMetricData,
  GetMetricData: getMetricData,
  ListMetrics: listMetrics,
  DescribeAlarms: describeAlarms,
  DescribeAlarmHistory: describeAlarmHistory,
  EnableAlarmActions: setActionsEnabled(true),
  DisableAlarmActions: setActionsEnabled(false),
  SetAlarmState: setAlarmState,
};

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  // The SDK gzips PutMetricData bodies above its compression threshold.
  return request.headers['content-encoding'] === 'gzip' ? promisify(gunzip)(body) : body;
}

function send(response: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
  // AWS JSON 1.0 writes timestamps as epoch seconds; operations return them as Dates.
  response.end(
    JSON.stringify(body, function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = this[key];
      return raw instanceof Date ? raw.getTime() / 1000 : value;
    }),
  );
}

export async function handleCloudWatchRequest(
  ctx: CloudWatchApiContext,
  request: IncomingMessage,
  response: ServerResponse,
) {
  try {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(CLOUDWATCH_TARGET_PREFIX) ? target.slice(CLOUDWATCH_TARGET_PREFIX.length) : '';
    const implementation = OPERATIONS[operation];
    if (request.method !== 'POST' || !implementation)
      throw new CloudWatchApiError(
        'InvalidAction',
        `operation '${operation || target || `${request.method} ${request.url}`}' is not supported by the local CloudWatch endpoint (supported: ${Object.keys(OPERATIONS).join(', ')})`,
      );
    const text = (await readBody(request)).toString('utf8');
    const input = text ? (JSON.parse(text) as Json) : {};
    const verdict = ctx.gate?.(request, operation, input);
    if (verdict?.refusal) {
      response.writeHead(verdict.refusal.status, verdict.refusal.headers);
      response.end(verdict.refusal.body);
      return;
    }
    send(response, 200, implementation(ctx, input, verdict ?? FULL_ACCESS));
  } catch (error: unknown) {
    const apiError =
      error instanceof CloudWatchApiError
        ? error
        : error instanceof SyntaxError
          ? new CloudWatchApiError('SerializationException', `request body is not JSON: ${error.message}`)
          : new CloudWatchApiError('InternalServiceFault', (error as Error).message, 500);
    send(
      response,
      apiError.status,
      { __type: apiError.code, message: apiError.message },
      { 'x-amzn-query-error': `${apiError.code};${apiError.status < 500 ? 'Sender' : 'Receiver'}` },
    );
  }
}

export interface CloudWatchServer {
  readonly endpoint: string;
  readonly server: Server;
  stop(): Promise<void>;
}

export async function startCloudWatchServer(ctx: CloudWatchApiContext, port: number): Promise<CloudWatchServer> {
  const server = createServer((request, response) => void handleCloudWatchRequest(ctx, request, response));
  await listen(server, port, 'CloudWatch endpoint');
  return { endpoint: `http://127.0.0.1:${port}`, server, stop: () => closeServer(server) };
}
