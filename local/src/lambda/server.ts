import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { DenialLog } from '../gateway/denials.ts';
import type { LambdaGate } from '../gateway/http-gates.ts';
import { closeServer, listen } from '../services/http.ts';
import { type Fault, FaultSpecError, FunctionNotFoundError, type LambdaService } from './lambda-service.ts';

/**
 * The Lambda `Invoke` REST API (`POST /2015-03-31/functions/{FunctionName}/invocations`), as `@aws-sdk/client-lambda`
 * calls it, plus fault injection under `/_local/faults/{FunctionName}`.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * A function error is a 200 with `X-Amz-Function-Error: Unhandled` and the error as the payload, exactly as Lambda
 * answers, so callers see it in `FunctionError`/`Payload`; service errors carry `x-amzn-ErrorType`.
 */
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
const FAULT_PATH = /^\/_local\/faults\/([^/]+)\/?$/;
const DENIALS_PATH = /^\/_local\/denials\/?$/;

export interface LambdaServerOptions {
  /** Authorizes each request before it is served (local IAM enforcement); absent: every request is served. */
  readonly gate?: LambdaGate;
  /** Served at `GET /_local/denials` (`?limit=N&since=ISO-time&role=LogicalId`). */
  readonly denials?: DenialLog;
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(body === undefined ? '' : JSON.stringify(body));
}

function serviceError(response: ServerResponse, status: number, type: string, message: string): void {
  json(response, status, { Type: 'User', message }, { 'x-amzn-errortype': type });
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function invoke(service: LambdaService, name: string, request: IncomingMessage, response: ServerResponse) {
  const text = await readText(request);
  let event: unknown = null;
  if (text.trim() !== '') {
    try {
      event = JSON.parse(text);
    } catch {
      return serviceError(response, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
  }
  const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
  if (invocationType === 'DryRun') {
    service.resolveName(name);
    return json(response, 204, undefined);
  }
  if (invocationType === 'Event') {
    // Queued and retried as Lambda does (LambdaService.invokeAsync); the caller has its 202 at once.
    service.invokeAsync(name, event);
    return json(response, 202, undefined);
  }
  const result = await service.invoke(name, event);
  const headers = { 'x-amz-executed-version': '$LATEST' };
  if (result.kind === 'throttled')
    return json(
      response,
      429,
      { Type: 'User', message: result.message, Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
      {
        'x-amzn-errortype': 'TooManyRequestsException',
      },
    );
  if (result.kind === 'error')
    return json(response, 200, result.error, { ...headers, 'x-amz-function-error': 'Unhandled' });
  return json(response, 200, result.payload, headers);
}

async function fault(service: LambdaService, name: string, request: IncomingMessage, response: ServerResponse) {
  if (request.method === 'DELETE') {
    service.clearFault(name);
    return json(response, 204, undefined);
  }
  if (request.method === 'GET') return json(response, 200, service.faults.get(service.resolveName(name)) ?? null);
  if (request.method !== 'PUT') return serviceError(response, 405, 'MethodNotAllowed', 'use PUT, GET or DELETE');
  let body: Fault;
  try {
    body = JSON.parse(await readText(request)) as Fault;
  } catch {
    return serviceError(
      response,
      400,
      'InvalidRequestContentException',
      'fault body must be JSON {"failureRate":0..1,"mode":"throw"|"timeout"|"partial"|"downstream"}',
    );
  }
  service.setFault(name, body);
  return json(response, 200, {
    functionName: service.resolveName(name),
    ...service.faults.get(service.resolveName(name)),
  });
}

/** `GET /_local/denials`: the most recent denials first, filtered by the query string. */
function denials(log: DenialLog | undefined, request: IncomingMessage, response: ServerResponse) {
  if (request.method !== 'GET') return serviceError(response, 405, 'MethodNotAllowed', 'use GET');
  if (!log)
    return serviceError(
      response,
      404,
      'ResourceNotFoundException',
      'IAM enforcement is off (--iam off): nothing is denied',
    );
  const query = new URL(request.url ?? '/', 'http://local').searchParams;
  const limitText = query.get('limit');
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
    return serviceError(
      response,
      400,
      'InvalidParameterValueException',
      `limit must be an integer from 1 to 1000, got ${limitText}`,
    );
  const sinceText = query.get('since');
  const since = sinceText === null ? undefined : Date.parse(sinceText);
  if (since !== undefined && Number.isNaN(since))
    return serviceError(
      response,
      400,
      'InvalidParameterValueException',
      `since must be an ISO 8601 time, got ${sinceText}`,
    );
  const role = query.get('role') ?? undefined;
  return json(response, 200, {
    total: log.count,
    file: log.file ?? null,
    denials: log.list({
      ...(limit === undefined ? {} : { limit }),
      ...(since === undefined ? {} : { since }),
      ...(role === undefined ? {} : { role }),
    }),
  });
}

export async function handleLambdaRequest(
  service: LambdaService,
  request: IncomingMessage,
  response: ServerResponse,
  options: LambdaServerOptions = {},
) {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  const refuse = (route: Parameters<LambdaGate>[1]) => {
    const refusal = options.gate?.(request, route);
    if (!refusal) return false;
    response.writeHead(refusal.status, refusal.headers);
    response.end(refusal.body);
    return true;
  };
  try {
    const invokeMatch = INVOKE_PATH.exec(path);
    if (invokeMatch && request.method === 'POST') {
      const functionName = decodeURIComponent(invokeMatch[1] ?? '');
      if (refuse({ kind: 'invoke', functionName })) return;
      return await invoke(service, functionName, request, response);
    }
    if (path.startsWith('/_local/') && refuse({ kind: 'local', path })) return;
    if (DENIALS_PATH.test(path)) return denials(options.denials, request, response);
    const faultMatch = FAULT_PATH.exec(path);
    if (faultMatch) return await fault(service, decodeURIComponent(faultMatch[1] ?? ''), request, response);
    if (path === '/_local/faults' && request.method === 'GET')
      return json(response, 200, Object.fromEntries(service.faults));
    return serviceError(
      response,
      404,
      'UnknownOperationException',
      `${request.method} ${path} is not supported by the local Lambda endpoint`,
    );
  } catch (error: unknown) {
    if (error instanceof FunctionNotFoundError)
      return serviceError(response, 404, 'ResourceNotFoundException', error.message);
    if (error instanceof FaultSpecError)
      return serviceError(response, 400, 'InvalidParameterValueException', error.message);
    return serviceError(response, 500, 'ServiceException', (error as Error).message);
  }
}

export interface LambdaServer {
  readonly endpoint: string;
  readonly server: Server;
  stop(): Promise<void>;
}

export async function startLambdaServer(
  service: LambdaService,
  port: number,
  options: LambdaServerOptions = {},
): Promise<LambdaServer> {
  const server = createServer((request, response) => void handleLambdaRequest(service, request, response, options));
  await listen(server, port, 'Lambda endpoint');
  return { endpoint: `http://127.0.0.1:${port}`, server, stop: () => closeServer(server) };
}
