import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { cbor } from '@smithy/core/cbor';
import { CLOUDTRAIL_TARGET_PREFIX, handleCloudTrailRequest } from '../cloudtrail/api.ts';
import type { CloudWatchRefusal } from '../gateway/http-gates.ts';
import { handleLogsRequest, LOGS_TARGET_PREFIX } from '../logs/api.ts';
import { refuseBrowser } from '../services/browser-guard.ts';
import { closeServer, listen } from '../services/http.ts';
import {
  API_VERSION,
  errorShapeId,
  inputFromDocument,
  inputFromQuery,
  type Json,
  modelOperations,
  operationShapes,
  outputToCbor,
  outputToJson,
  outputToXml,
  SERVICE_NAME,
  ShapeError,
  XML_NAMESPACE,
} from './model.ts';
import { type CloudWatchApiContext, CloudWatchApiError, FULL_ACCESS, OPERATIONS } from './operations.ts';

export { type CloudWatchApiContext, CloudWatchApiError } from './operations.ts';

/**
 * The local CloudWatch endpoint. It speaks the three protocols CloudWatch's service model lists
 * (`"protocols": ["smithy-rpc-v2-cbor", "json", "query"]`, botocore 1.43's `cloudwatch/2010-08-01`), whichever the
 * client sends, all dispatched through one operation table (`operations.ts`) and authorized by one gate:
 * - AWS JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`, `application/x-amz-json-1.0`): the AWS
 *   SDK for JavaScript v3 as installed here;
 * - query (form-encoded `Action=<Operation>&Version=2010-08-01&...`, XML responses in the
 *   `http://monitoring.amazonaws.com/doc/2010-08-01/` namespace): Debian's AWS CLI 2.9 and boto3 1.26;
 * - Smithy RPC v2 CBOR (`POST /service/GraniteServiceVersion20100801/operation/<Operation>`, `smithy-protocol:
 *   rpc-v2-cbor`, `application/cbor`): newer SDKs (boto3 1.43 among them).
 * The service is `awsQueryCompatible`: JSON and CBOR errors carry the query code in `x-amzn-query-error`.
 */
export const CLOUDWATCH_TARGET_PREFIX = `${SERVICE_NAME}.`;

type Protocol = 'json' | 'query' | 'cbor';

/** `.../service/<serviceName>/operation/<operationName>`: RPC v2 CBOR routes on the last four path segments. */
const CBOR_PATH = /\/service\/([^/]+)\/operation\/([^/?]+)\/?(?:\?.*)?$/;

function protocolOf(request: IncomingMessage): Protocol {
  if (String(request.headers['smithy-protocol'] ?? '').toLowerCase() === 'rpc-v2-cbor') return 'cbor';
  if (request.headers['x-amz-target'] !== undefined) return 'json';
  if (CBOR_PATH.test(request.url ?? '')) return 'cbor';
  return 'query';
}

/** The operation a request names, and its input in canonical form (see `model.ts`). */
interface Call {
  readonly operation: string;
  readonly input: Json;
}

const unknownOperation = (protocol: Protocol, name: string): CloudWatchApiError => {
  const served = `it serves ${Object.keys(OPERATIONS).join(', ')}`;
  const message = modelOperations().includes(name)
    ? `operation '${name}' is not supported by the local CloudWatch endpoint (${served}; see docs/ARCHITECTURE.md)`
    : `operation '${name}' is not a CloudWatch operation (the local CloudWatch endpoint ${served})`;
  // Query: InvalidAction, "The action or operation requested is invalid" (CloudWatch API reference, Common Errors).
  // JSON: UnknownOperationException, as AWS JSON services answer an unknown X-Amz-Target. CBOR: the same, 404, as
  // Smithy's RPC v2 servers answer an operation path they do not route.
  if (protocol === 'query') return new CloudWatchApiError('InvalidAction', message, { status: 400 });
  return new CloudWatchApiError('UnknownOperationException', message, { status: protocol === 'cbor' ? 404 : 400 });
};

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  // SDKs gzip PutMetricData bodies above their compression threshold (the model's requestCompression trait).
  return request.headers['content-encoding'] === 'gzip' ? promisify(gunzip)(body) : body;
}

function shapesOf(protocol: Protocol, operation: string) {
  const shapes = OPERATIONS[operation] ? operationShapes(operation) : undefined;
  if (!shapes) throw unknownOperation(protocol, operation);
  return shapes;
}

/** Parses the request in its protocol; a malformed body or a value of the wrong type is that protocol's error. */
async function readCall(protocol: Protocol, request: IncomingMessage): Promise<Call> {
  if (request.method !== 'POST' && !(protocol === 'query' && request.method === 'GET'))
    throw new CloudWatchApiError('InvalidAction', `${request.method} is not a CloudWatch request method; use POST`, {
      status: 405,
    });
  if (protocol === 'json') {
    const target = String(request.headers['x-amz-target']);
    const operation = target.startsWith(CLOUDWATCH_TARGET_PREFIX) ? target.slice(CLOUDWATCH_TARGET_PREFIX.length) : '';
    if (!operation) throw unknownOperation(protocol, target);
    const shapes = shapesOf(protocol, operation);
    const text = (await readBody(request)).toString('utf8');
    let document: unknown;
    try {
      document = text ? JSON.parse(text) : {};
    } catch (error: unknown) {
      throw new CloudWatchApiError('SerializationException', `request body is not JSON: ${(error as Error).message}`);
    }
    return { operation, input: inputFromDocument(document, shapes.input) };
  }
  if (protocol === 'cbor') {
    // "An rpcv2Cbor request is malformed if it contains either of these headers" (X-Amz-Target, X-Amzn-Target).
    if (request.headers['x-amz-target'] !== undefined || request.headers['x-amzn-target'] !== undefined)
      throw new CloudWatchApiError('SerializationException', 'an RPC v2 CBOR request must not carry X-Amz-Target');
    const match = CBOR_PATH.exec(request.url ?? '');
    const [, service, operation] = match ?? [];
    if (!service || !operation) throw unknownOperation(protocol, request.url ?? '');
    // The service's shape name, or its absolute id with `#` written `.` (Smithy RPC v2 CBOR, "Requests").
    if (service !== SERVICE_NAME && service !== `com.amazonaws.cloudwatch.${SERVICE_NAME}`)
      throw unknownOperation(protocol, `${service}/${operation}`);
    const shapes = shapesOf(protocol, operation);
    const body = await readBody(request);
    let document: unknown;
    try {
      document = body.length === 0 ? {} : cbor.deserialize(body);
    } catch (error: unknown) {
      throw new CloudWatchApiError('SerializationException', `request body is not CBOR: ${(error as Error).message}`);
    }
    return { operation, input: inputFromDocument(document, shapes.input) };
  }
  const body = (await readBody(request)).toString('utf8');
  const params = new Map<string, string>();
  const url = request.url ?? '/';
  const question = url.indexOf('?');
  if (question >= 0) for (const [key, value] of new URLSearchParams(url.slice(question + 1))) params.set(key, value);
  for (const [key, value] of new URLSearchParams(body)) params.set(key, value);
  const action = params.get('Action');
  if (!action)
    throw new CloudWatchApiError(
      'MissingAction',
      'The request must contain the parameter Action (or, for AWS JSON, an X-Amz-Target header).',
      { status: 400 },
    );
  const version = params.get('Version');
  if (version !== API_VERSION)
    throw new CloudWatchApiError(
      version === undefined ? 'MissingParameter' : 'InvalidParameterValue',
      `The parameter Version must be ${API_VERSION}${version === undefined ? '' : `, got '${version}'`}.`,
    );
  const shapes = shapesOf(protocol, action);
  return { operation: action, input: inputFromQuery(params, shapes.input) };
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer | string;
}

function success(protocol: Protocol, operation: string, output: Json, requestId: string): Reply {
  const shapes = operationShapes(operation);
  if (!shapes) throw new Error(`no model for ${operation}`);
  // An operation without output (SetAlarmState, EnableAlarmActions, ...): JSON `{}`, CBOR no body ("Responses for
  // operations with no defined output type ... MUST NOT contain bodies"), the query protocol an empty response.
  if (shapes.output.isUnitSchema()) {
    if (protocol === 'json')
      return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: '{}' };
    if (protocol === 'cbor') return { status: 200, headers: { 'smithy-protocol': 'rpc-v2-cbor' }, body: '' };
    return {
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: `<${operation}Response xmlns="${XML_NAMESPACE}"><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`,
    };
  }
  if (protocol === 'json')
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify(outputToJson(output, shapes.output)),
    };
  if (protocol === 'cbor')
    return {
      status: 200,
      headers: { 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor' },
      body: Buffer.from(cbor.serialize(outputToCbor(output, shapes.output))),
    };
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body:
      `<${operation}Response xmlns="${XML_NAMESPACE}"><${operation}Result>${outputToXml(output, shapes.output)}` +
      `</${operation}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`,
  };
}

/** The `__type` of errors no CloudWatch shape models: the service framework's own. */
const FRAMEWORK_ERRORS: Record<string, string> = {
  AccessDenied: 'com.amazon.coral.service#AccessDeniedException',
  MissingAuthenticationToken: 'com.amazon.coral.service#MissingAuthenticationTokenException',
  UnknownOperationException: 'com.amazon.coral.service#UnknownOperationException',
  SerializationException: 'com.amazon.coral.service#SerializationException',
};

/** Text content: only `<`, `>` and `&` need escaping there. */
const escapeXml = (text: string) => text.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? c);

function failure(protocol: Protocol, error: CloudWatchApiError, requestId: string): Reply {
  const fault = error.status >= 500 ? 'Receiver' : 'Sender';
  if (protocol === 'query')
    return {
      status: error.status,
      headers: { 'content-type': 'text/xml' },
      body:
        `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${fault}</Type><Code>${escapeXml(error.code)}</Code>` +
        `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  // AWS JSON and RPC v2 CBOR: `__type` is the error shape's id; the query code travels in `x-amzn-query-error`
  // (the awsQueryCompatible trait), which is what SDKs report as the error's name.
  const type = error.shape ? errorShapeId(error.shape) : (FRAMEWORK_ERRORS[error.code] ?? error.code);
  const document = { __type: type, message: error.message };
  const headers = { 'x-amzn-query-error': `${error.code};${fault}` };
  if (protocol === 'json')
    return {
      status: error.status,
      headers: { ...headers, 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify(document),
    };
  return {
    status: error.status,
    headers: { ...headers, 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor' },
    body: Buffer.from(cbor.serialize(document)),
  };
}

function asApiError(error: unknown): CloudWatchApiError {
  if (error instanceof CloudWatchApiError) return error;
  if (error instanceof ShapeError) return new CloudWatchApiError('InvalidParameterValue', error.message);
  // The model's InternalServiceFault (query code InternalServiceError, 500).
  return new CloudWatchApiError('InternalServiceError', (error as Error).message);
}

const refusalError = (refusal: CloudWatchRefusal) =>
  new CloudWatchApiError(refusal.code, refusal.message, { status: 403 });

export async function handleCloudWatchRequest(
  ctx: CloudWatchApiContext,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const requestId = randomUUID();
  const target = String(request.headers['x-amz-target'] ?? '');
  if (ctx.logs && target.startsWith(LOGS_TARGET_PREFIX))
    return handleLogsRequest(ctx.logs, request, response, requestId);
  if (ctx.cloudtrail && target.startsWith(CLOUDTRAIL_TARGET_PREFIX))
    return handleCloudTrailRequest(ctx.cloudtrail, request, response, requestId);
  const protocol = protocolOf(request);
  let reply: Reply;
  try {
    const { operation, input } = await readCall(protocol, request);
    const verdict = ctx.gate?.(request, operation, input);
    if (verdict?.refusal) throw refusalError(verdict.refusal);
    const implementation = OPERATIONS[operation];
    if (!implementation) throw unknownOperation(protocol, operation);
    reply = success(protocol, operation, implementation(ctx, input, verdict ?? FULL_ACCESS), requestId);
  } catch (error: unknown) {
    reply = failure(protocol, asApiError(error), requestId);
  }
  response.writeHead(reply.status, { ...reply.headers, 'x-amzn-requestid': requestId });
  response.end(reply.body);
}

export interface CloudWatchServer {
  readonly endpoint: string;
  readonly server: Server;
  stop(): Promise<void>;
}

export async function startCloudWatchServer(ctx: CloudWatchApiContext, port: number): Promise<CloudWatchServer> {
  const server = createServer((request, response) => {
    if (!refuseBrowser(request, response)) void handleCloudWatchRequest(ctx, request, response);
  });
  await listen(server, port, 'CloudWatch endpoint');
  return { endpoint: `http://127.0.0.1:${port}`, server, stop: () => closeServer(server) };
}
