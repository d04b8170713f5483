import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  authorizeCall,
  type JsonOperation,
  JsonServiceError,
  type JsonServiceGate,
  serveJsonRequest,
} from '../services/json-service.ts';
import { type LogEventStore, LogFilterPatternError, parseFilterPattern } from './log-events.ts';

/**
 * The CloudWatch Logs API the runbooks use, over the functions' log events (`log-events.ts`): FilterLogEvents (what
 * `aws logs filter-log-events` and `aws logs tail` call) and DescribeLogGroups. AWS JSON 1.1, as CloudWatch Logs
 * speaks it in every SDK (botocore's `logs/2014-03-28` model: `"protocol": "json"`, `"jsonVersion": "1.1"`,
 * `"targetPrefix": "Logs_20140328"`), served on the CloudWatch endpoint (`X-Amz-Target: Logs_20140328.<Operation>`).
 * Errors are JSON 1.1 errors (`__type`, `message`, HTTP 400), with the messages CloudWatch Logs gives.
 */
export const LOGS_TARGET_PREFIX = 'Logs_20140328.';

/** FilterLogEvents' `limit`: 1 to 10,000, default 10,000 (CloudWatch Logs API reference, FilterLogEvents). */
const MAX_LIMIT = 10_000;
/** DescribeLogGroups' `limit`: 1 to 50, default 50. */
const MAX_GROUPS = 50;

export interface LogsApiContext {
  readonly store: LogEventStore;
  readonly region: string;
  readonly account: string;
  readonly gate?: JsonServiceGate;
}

const groupArn = (ctx: LogsApiContext, name: string) => `arn:aws:logs:${ctx.region}:${ctx.account}:log-group:${name}`;

type Input = Record<string, unknown>;

function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new JsonServiceError('InvalidParameterException', `${name} must be a string`);
  return value;
}

function optionalInteger(input: Input, name: string, min: number, max: number): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new JsonServiceError(
      'InvalidParameterException',
      `1 validation error detected: Value '${String(value)}' at '${name}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
    );
  return value;
}

/** The group a request names: `logGroupName`, or `logGroupIdentifier` (a name or an ARN), exactly one. */
function groupOf(input: Input): string {
  const name = optionalString(input, 'logGroupName');
  const identifier = optionalString(input, 'logGroupIdentifier');
  if ((name === undefined) === (identifier === undefined))
    throw new JsonServiceError(
      'InvalidParameterException',
      'Exactly one of logGroupName or logGroupIdentifier must be specified',
    );
  const given = (name ?? identifier) as string;
  const arn = /^arn:aws[a-z-]*:logs:[^:]*:\d{12}:log-group:([^:]+)(?::\*)?$/.exec(given);
  return arn ? (arn[1] as string) : given;
}

/** A page token: the group and the sequence to resume at, opaque to clients. */
const token = (group: string, sequence: number) =>
  Buffer.from(JSON.stringify({ group, sequence }), 'utf8').toString('base64url');

function fromToken(text: string | undefined, group: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as {
      group?: unknown;
      sequence?: unknown;
    };
    if (parsed.group === group && typeof parsed.sequence === 'number') return parsed.sequence;
  } catch {
    // Falls through to the refusal.
  }
  throw new JsonServiceError('InvalidParameterException', 'The specified nextToken is invalid.');
}

function filterLogEvents(ctx: LogsApiContext, input: Input, request: IncomingMessage) {
  const group = groupOf(input);
  authorizeCall(ctx.gate, request, 'logs:FilterLogEvents', groupArn(ctx, group));
  const streams = input.logStreamNames;
  if (streams !== undefined && (!Array.isArray(streams) || streams.some((s) => typeof s !== 'string')))
    throw new JsonServiceError('InvalidParameterException', 'logStreamNames must be a list of strings');
  const prefix = optionalString(input, 'logStreamNamePrefix');
  if (prefix !== undefined && streams !== undefined)
    throw new JsonServiceError(
      'InvalidParameterException',
      'logStreamNames and logStreamNamePrefix are mutually exclusive parameters.',
    );
  const startTime = optionalInteger(input, 'startTime', 0, Number.MAX_SAFE_INTEGER);
  const endTime = optionalInteger(input, 'endTime', 0, Number.MAX_SAFE_INTEGER);
  const limit = optionalInteger(input, 'limit', 1, MAX_LIMIT) ?? MAX_LIMIT;
  let matches: (message: string) => boolean;
  try {
    matches = parseFilterPattern(optionalString(input, 'filterPattern'));
  } catch (error: unknown) {
    if (error instanceof LogFilterPatternError) throw new JsonServiceError('InvalidParameterException', error.message);
    throw error;
  }
  const page = ctx.store.filter({
    group,
    ...(streams ? { streams: streams as string[] } : {}),
    ...(startTime !== undefined ? { startTime } : {}),
    ...(endTime !== undefined ? { endTime } : {}),
    ...(prefix !== undefined ? { streamPrefix: prefix } : {}),
    matches,
    limit,
    ...(input.nextToken !== undefined ? { from: fromToken(optionalString(input, 'nextToken'), group) } : {}),
  });
  if (!page) throw new JsonServiceError('ResourceNotFoundException', 'The specified log group does not exist.');
  return {
    events: page.events.map(({ logStreamName, timestamp, message, ingestionTime, eventId }) => ({
      logStreamName,
      timestamp,
      message,
      ingestionTime,
      eventId,
    })),
    searchedLogStreams: [],
    ...(page.next !== undefined ? { nextToken: token(group, page.next) } : {}),
  };
}

function describeLogGroups(ctx: LogsApiContext, input: Input, request: IncomingMessage) {
  authorizeCall(ctx.gate, request, 'logs:DescribeLogGroups', groupArn(ctx, '*'));
  const prefix = optionalString(input, 'logGroupNamePrefix') ?? '';
  const limit = optionalInteger(input, 'limit', 1, MAX_GROUPS) ?? MAX_GROUPS;
  const all = ctx.store.describe().filter((group) => group.name.startsWith(prefix));
  const start = input.nextToken === undefined ? 0 : (fromToken(optionalString(input, 'nextToken'), '*') ?? 0);
  const page = all.slice(start, start + limit);
  return {
    logGroups: page.map((group) => ({
      logGroupName: group.name,
      creationTime: group.creationTime,
      metricFilterCount: 0,
      arn: `${groupArn(ctx, group.name)}:*`,
      logGroupArn: groupArn(ctx, group.name),
      storedBytes: group.storedBytes,
    })),
    ...(start + limit < all.length ? { nextToken: token('*', start + limit) } : {}),
  };
}

const OPERATIONS: Record<string, JsonOperation<LogsApiContext>> = {
  FilterLogEvents: filterLogEvents,
  DescribeLogGroups: describeLogGroups,
};

/** Serves one CloudWatch Logs request (its `X-Amz-Target` starts with {@link LOGS_TARGET_PREFIX}). */
export function handleLogsRequest(
  ctx: LogsApiContext,
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
): Promise<void> {
  return serveJsonRequest(
    { name: 'CloudWatch Logs', targetPrefix: LOGS_TARGET_PREFIX, operations: OPERATIONS },
    ctx,
    request,
    response,
    requestId,
  );
}
