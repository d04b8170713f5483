import { randomUUID } from 'node:crypto';
import type { PutMetric } from '../cloudwatch/metric-store.ts';
import type { Principal } from '../iam/authorizer.ts';
import { DynamoDbLocalArns } from './arns.ts';
import {
  type ArnScope,
  DYNAMODB_TARGET_PREFIX,
  type DynamoDbRequestError,
  dynamoDbRequestFacts,
  STREAMS_TARGET_PREFIX,
} from './dynamodb.ts';
import type { Endpoint, Enforcer, Permission } from './enforcer.ts';
import { dynamoDbError, type ErrorResponse, sqsJsonError, sqsQueryError, sqsQueryFault } from './errors.ts';
import { FORWARD, type ProxiedRequest, type Verdict } from './proxy.ts';
import { credentialOf } from './sigv4.ts';
import { SQS_TARGET_PREFIX, sqsPermission } from './sqs.ts';
import { queryVerdict } from './sqs-query.ts';
import type { StreamReaders } from './stream-readers.ts';

/** The metric the DynamoDB gateway emits for successful writes (AWS/DynamoDB, by TableName, 1 per item). */
export interface WriteMetric {
  readonly namespace: string;
  readonly metricName: string;
}

const JSON_1_0 = 'application/x-amz-json-1.0';

const refuse = (response: ErrorResponse): Verdict => ({ forward: false, response });

/** Signed → its principal; unsigned → recorded and refused with the protocol's MissingAuthenticationToken error. */
function principalOrRefusal(
  enforcer: Enforcer,
  request: ProxiedRequest,
  permission: Permission | undefined,
  endpoint: Endpoint,
  unsigned: () => ErrorResponse,
): Principal | Verdict {
  const principal = enforcer.principalOf(credentialOf(request.headers.authorization, request.url));
  if (principal) return principal;
  enforcer.recordUnsigned(permission, endpoint);
  return refuse(unsigned());
}

const isVerdict = (value: Principal | Verdict): value is Verdict => 'forward' in value;

function parseJson(request: ProxiedRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  const parsed: unknown = JSON.parse(request.body.toString('utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new SyntaxError('the request body is not a JSON object');
  return parsed as Record<string, unknown>;
}

const ITEM_OPERATIONS = new Set(
  ['PutItem', 'UpdateItem', 'DeleteItem', 'GetItem'].map((operation) => `${DYNAMODB_TARGET_PREFIX}${operation}`),
);
/** Operations that write items (what `ConsumedWriteCapacityUnits` counts). */
const WRITE_TARGETS = new Set(
  ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'].map(
    (operation) => `${DYNAMODB_TARGET_PREFIX}${operation}`,
  ),
);
const TABLE_NAME_FIRST = Buffer.from('{"TableName":"');
const TABLE_NAME_KEY = Buffer.from('"TableName"');
const BACKSLASH = 0x5c;
const QUOTE = 0x22;

/**
 * The table of a single-item request without parsing its body, when that is unambiguous: the SDKs write `TableName`
 * first, and a body that names it there, nowhere else and has no escape at all (so no key can be spelled another way)
 * is authorized on that table. Anything else is parsed. This runs for most of the pipeline's writes.
 */
function leadingTableName(body: Buffer): string | undefined {
  if (
    body.length <= TABLE_NAME_FIRST.length ||
    body.compare(TABLE_NAME_FIRST, 0, TABLE_NAME_FIRST.length, 0, TABLE_NAME_FIRST.length) !== 0
  )
    return undefined;
  const end = body.indexOf(QUOTE, TABLE_NAME_FIRST.length);
  if (end < 0 || body.includes(BACKSLASH) || body.indexOf(TABLE_NAME_KEY, end) >= 0) return undefined;
  return body.toString('latin1', TABLE_NAME_FIRST.length, end);
}

/** Operations whose responses carry DynamoDB Local's ARNs (TableArn, LatestStreamArn, StreamArn), rewritten AWS-shaped. */
const ARN_RESPONSES = new Set([
  ...['DescribeTable', 'CreateTable', 'UpdateTable', 'DeleteTable'].map((op) => `${DYNAMODB_TARGET_PREFIX}${op}`),
  ...['ListStreams', 'DescribeStream'].map((op) => `${STREAMS_TARGET_PREFIX}${op}`),
]);
/** Streams requests that name a stream, and the member that does: forwarded with DynamoDB Local's form of the ARN. */
const ARN_REQUESTS = new Map([
  [`${STREAMS_TARGET_PREFIX}DescribeStream`, 'StreamArn'],
  [`${STREAMS_TARGET_PREFIX}GetShardIterator`, 'StreamArn'],
  [`${STREAMS_TARGET_PREFIX}ListStreams`, 'ExclusiveStartStreamArn'],
]);
/** The operations the gateway translates ARNs for; every other request (GetRecords, PutItem, Query...) is not read for it. */
const ARN_OPERATIONS = new Set([...ARN_RESPONSES, ...ARN_REQUESTS.keys()]);

/**
 * How a request of ARN_OPERATIONS is forwarded: its stream ARN in DynamoDB Local's form, and its response's ARNs
 * AWS-shaped (an error's too, which names the ARN it did not find). GetShardIterator's iterator is left as DynamoDB
 * Local makes it: it is opaque to clients, and DynamoDB Local reads the stream from it (an iterator naming another
 * region reads nothing), so only its errors are rewritten. Undefined: forward as it is.
 */
function arnTranslation(target: string, input: Record<string, unknown>, arns: DynamoDbLocalArns): Verdict | undefined {
  const member = ARN_REQUESTS.get(target);
  const named = member ? input[member] : undefined;
  const local = typeof named === 'string' ? arns.toLocal(named) : named;
  const body = member && local !== named ? Buffer.from(JSON.stringify({ ...input, [member]: local })) : undefined;
  const always = ARN_RESPONSES.has(target);
  if (!body && !always) return undefined;
  return {
    forward: true,
    ...(body ? { body } : {}),
    rewriteResponse: (response, status) => {
      if (!always && status === 200) return response;
      const text = response.toString('utf8');
      const aws = arns.toAwsText(text);
      return aws === text ? response : Buffer.from(aws, 'utf8');
    },
  };
}

/**
 * The DynamoDB and DynamoDB Streams listener's decision: every permission of the request (a batch or a transaction
 * needs one per table or item), then, for a write that succeeds, `ConsumedWriteCapacityUnits` per table. Requests of
 * the few operations that carry ARNs are translated between the AWS-shaped ARNs clients see and DynamoDB Local's
 * (arns.ts), after they are authorized on the AWS-shaped ARN. With no enforcer (`--iam off`) nothing is authorized,
 * and only writes (for their metric) and the ARN-carrying operations are read; what is not IAM behaves the same.
 */
export function dynamoDbInspector(options: {
  /** Undefined with `--iam off`. */
  readonly enforcer: Enforcer | undefined;
  readonly scope: ArnScope;
  readonly publish: (metrics: PutMetric[]) => void;
  readonly writeMetric: WriteMetric;
  /** DynamoDB Streams' limit of two readers per shard (stream-readers.ts); none: not enforced. */
  readonly streamReaders?: StreamReaders;
}): (request: ProxiedRequest) => Verdict {
  const { enforcer, scope, publish, writeMetric } = options;
  const arns = new DynamoDbLocalArns(scope);
  return (request) => {
    const target = request.headers['x-amz-target'];
    // Without an operation DynamoDB Local serves nothing (it answers an error itself).
    if (!target) return FORWARD;
    // Without enforcement only writes (their metric) and ARN translations need the request read.
    if (!enforcer && !WRITE_TARGETS.has(target) && !ARN_OPERATIONS.has(target)) return FORWARD;
    let facts: ReturnType<typeof dynamoDbRequestFacts>;
    let input: Record<string, unknown> | undefined;
    try {
      const table = ITEM_OPERATIONS.has(target) ? leadingTableName(request.body) : undefined;
      if (table === undefined) input = parseJson(request);
      facts = dynamoDbRequestFacts(target, input ?? { TableName: table }, scope);
    } catch (error: unknown) {
      const serialization = error instanceof SyntaxError;
      return refuse({
        status: 400,
        headers: { 'content-type': JSON_1_0, 'x-amzn-requestid': randomUUID() },
        body: JSON.stringify(
          serialization
            ? {
                __type: 'com.amazon.coral.service#SerializationException',
                Message: `${target}: ${(error as Error).message}`,
              }
            : {
                __type: 'com.amazon.coral.validate#ValidationException',
                message: (error as DynamoDbRequestError).message,
              },
        ),
      });
    }
    if (!facts) return FORWARD;
    if (enforcer) {
      const principal = principalOrRefusal(enforcer, request, facts.permissions[0], 'dynamodb', () =>
        dynamoDbError('unsigned', ''),
      );
      if (isVerdict(principal)) return principal;
      const denied = enforcer.authorizeAll(principal, facts.permissions, 'dynamodb');
      if (denied) return refuse(dynamoDbError('denied', denied.message));
    }
    const throttled = options.streamReaders?.check(target, request);
    if (throttled) return refuse(throttled);
    const { writes } = facts;
    if (!writes || writes.size === 0)
      return (input && ARN_OPERATIONS.has(target) && arnTranslation(target, input, arns)) || FORWARD;
    return {
      forward: true,
      onStatus: (status) => {
        if (status !== 200) return;
        const timestamp = Date.now();
        const metrics: PutMetric[] = [];
        for (const [TableName, count] of writes)
          if (count > 0)
            metrics.push({
              namespace: writeMetric.namespace,
              metricName: writeMetric.metricName,
              dimensions: { TableName },
              value: count,
              unit: 'Count',
              timestamp,
            });
        publish(metrics);
      },
    };
  };
}

/** SQS actions of the query protocol (`Action=...`), as the API reference lists them. */
const SQS_ACTIONS = new Set([
  'AddPermission',
  'CancelMessageMoveTask',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'CreateQueue',
  'DeleteMessage',
  'DeleteMessageBatch',
  'DeleteQueue',
  'GetQueueAttributes',
  'GetQueueUrl',
  'ListDeadLetterSourceQueues',
  'ListMessageMoveTasks',
  'ListQueueTags',
  'ListQueues',
  'PurgeQueue',
  'ReceiveMessage',
  'RemovePermission',
  'SendMessage',
  'SendMessageBatch',
  'SetQueueAttributes',
  'StartMessageMoveTask',
  'TagQueue',
  'UntagQueue',
]);

/** SNS over fauxqs (query protocol on the same port): `sns:<Action>` on the topic, AWS's `AuthorizationError`. */
function snsPermission(action: string, params: URLSearchParams, scope: ArnScope): Permission {
  const topic =
    params.get('TopicArn') ??
    params.get('ResourceArn') ??
    params.get('SubscriptionArn')?.split(':').slice(0, 6).join(':') ??
    (action === 'CreateTopic' && params.get('Name')
      ? `arn:aws:sns:${scope.region}:${scope.account}:${params.get('Name')}`
      : undefined);
  return { action: `sns:${action}`, resource: topic ?? '*' };
}

function snsError(kind: 'denied' | 'unsigned', message: string): ErrorResponse {
  const requestId = randomUUID();
  const code = kind === 'denied' ? 'AuthorizationError' : 'MissingAuthenticationToken';
  const text = (kind === 'denied' ? message : 'Request is missing Authentication Token').replace(
    /[<>&]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? c,
  );
  return {
    status: 403,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${text}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

const pathOf = (url: string) => url.split('?')[0] ?? '/';

/**
 * The SQS listener's decision. fauxqs speaks SQS's JSON protocol, and on the same port SNS's query protocol, STS's
 * GetCallerIdentity, S3 and its own inspection routes. SQS requests are authorized in either protocol (a query-protocol
 * SQS request is then translated to JSON for fauxqs, and its answer back to XML, sqs-query.ts); SNS requests as `sns:`
 * actions; GetCallerIdentity needs no permission (as in AWS); the other routes are open to the administrator only.
 */
export function sqsInspector(options: {
  /** Undefined with `--iam off`: nothing is authorized, the query protocol is still translated. */
  readonly enforcer: Enforcer | undefined;
  readonly scope: ArnScope;
}): (request: ProxiedRequest) => Verdict {
  const { enforcer, scope } = options;
  return (request) => {
    const target = request.headers['x-amz-target'];
    const path = pathOf(request.url);
    if (target?.startsWith(SQS_TARGET_PREFIX)) {
      if (!enforcer) return FORWARD;
      const operation = target.slice(SQS_TARGET_PREFIX.length);
      let permission: Permission;
      try {
        const input = parseJson(request);
        permission = sqsPermission(operation, (name) => input[name], path, scope);
      } catch (error: unknown) {
        return refuse({
          status: 400,
          headers: {
            'content-type': JSON_1_0,
            'x-amzn-requestid': randomUUID(),
            'x-amzn-query-error': `${error instanceof SyntaxError ? 'SerializationException' : 'InvalidAddress'};Sender`,
          },
          body: JSON.stringify({
            __type: `com.amazonaws.sqs#${error instanceof SyntaxError ? 'SerializationException' : 'InvalidAddress'}`,
            message: `${operation}: ${(error as Error).message}`,
          }),
        });
      }
      const principal = principalOrRefusal(enforcer, request, permission, 'sqs', () => sqsJsonError('unsigned', ''));
      if (isVerdict(principal)) return principal;
      const decision = enforcer.authorize(principal, permission, 'sqs');
      return decision.allowed ? FORWARD : refuse(sqsJsonError('denied', decision.message));
    }
    const form = request.headers['content-type']?.includes('application/x-www-form-urlencoded');
    const query = request.url.includes('?')
      ? new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1))
      : undefined;
    const params = form ? new URLSearchParams(request.body.toString('utf8')) : query;
    const action = params?.get('Action') ?? query?.get('Action');
    if (params && action) {
      if (action === 'GetCallerIdentity') return FORWARD;
      const isSqs = SQS_ACTIONS.has(action);
      if (!enforcer) return isSqs && form ? queryVerdict(action, params) : FORWARD;
      let permission: Permission;
      try {
        permission = isSqs
          ? sqsPermission(action, (name) => params.get(name) ?? query?.get(name) ?? undefined, path, scope)
          : snsPermission(action, params, scope);
      } catch (error: unknown) {
        return refuse(sqsQueryFault('InvalidAddress', `${action}: ${(error as Error).message}`, 400));
      }
      const errorOf = isSqs ? sqsQueryError : snsError;
      const principal = principalOrRefusal(enforcer, request, permission, 'sqs', () => errorOf('unsigned', ''));
      if (isVerdict(principal)) return principal;
      const decision = enforcer.authorize(principal, permission, 'sqs');
      if (!decision.allowed) return refuse(errorOf('denied', decision.message));
      // fauxqs answers only SQS's JSON protocol: a query-protocol SQS call goes to it translated (sqs-query.ts).
      return isSqs && form ? queryVerdict(action, params) : FORWARD;
    }
    // Not an API call: fauxqs' health check is open, its inspection routes and S3 are the administrator's.
    if (path === '/health' || !enforcer) return FORWARD;
    const principal = enforcer.principalOf(credentialOf(request.headers.authorization, request.url));
    if (principal === undefined || principal.kind === 'admin') return FORWARD;
    return refuse({
      status: 400,
      headers: { 'content-type': 'text/plain', 'x-amzn-requestid': randomUUID() },
      body: `the local SQS endpoint serves SQS and SNS API calls; ${request.method} ${path} is neither (an X-Amz-Target of AmazonSQS.<Action> or an Action= form body)`,
    });
  };
}
