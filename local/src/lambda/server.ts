import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ManagementTrail } from '../cloudtrail/trail.ts';
import type { DenialLog } from '../gateway/denials.ts';
import type { LambdaGate, LambdaRoute } from '../gateway/http-gates.ts';
import { PipesApi } from '../pipes/api.ts';
import { refuseBrowser } from '../services/browser-guard.ts';
import { closeServer, listen } from '../services/http.ts';
import { FunctionCatalog } from './api-definitions.ts';
import { type Fault, FaultSpecError, FunctionNotFoundError, type LambdaService } from './lambda-service.ts';
import type { EventSourceMappingStatus } from './sqs-event-source.ts';

/**
 * The Lambda REST API as `@aws-sdk/client-lambda`, the AWS CLI and boto3 call it
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html):
 * - Invoke (`POST /2015-03-31/functions/{FunctionName}/invocations`) with InvocationType RequestResponse (the result),
 *   Event (202 at once; queued and retried as Lambda does) and DryRun (204 once authorized). A function error is a 200
 *   with `X-Amz-Function-Error: Unhandled` and the error as the payload, exactly as Lambda answers, so callers see it
 *   in `FunctionError`/`Payload`.
 * - GetFunction, GetFunctionConfiguration, ListFunctions, ListEventSourceMappings and GetEventSourceMapping, from the template
 *   (api-definitions.ts).
 * Service errors carry `x-amzn-ErrorType`. The same server serves the Pipes API (`/v1/pipes...`, pipes/api.ts) and,
 * under `/_local/`, fault injection and the denials log.
 */
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
const FUNCTIONS_PATH = /^\/2015-03-31\/functions\/?$/;
const FUNCTION_PATH = /^\/2015-03-31\/functions\/([^/]+)\/?$/;
const CONFIGURATION_PATH = /^\/2015-03-31\/functions\/([^/]+)\/configuration\/?$/;
const MAPPINGS_PATH = /^\/2015-03-31\/event-source-mappings\/?$/;
const MAPPING_PATH = /^\/2015-03-31\/event-source-mappings\/([^/]+)$/;
const FAULT_PATH = /^\/_local\/faults\/([^/]+)\/?$/;
const DENIALS_PATH = /^\/_local\/denials\/?$/;

export interface LambdaServerOptions {
  /** Authorizes each request before it is served (local IAM enforcement); absent: every request is served. */
  readonly gate?: LambdaGate;
  /** Served at `GET /_local/denials` (`?limit=N&since=ISO-time&role=LogicalId`). */
  readonly denials?: DenialLog;
  /** The template's functions, for GetFunction, GetFunctionConfiguration, ListFunctions, ListEventSourceMappings. */
  readonly functions?: FunctionCatalog;
  /**
   * The event source mappings the runtime runs, by UUID: their live state (`State`, `StateTransitionReason`,
   * `LastModified`), which ListEventSourceMappings and GetEventSourceMapping report over the template's, and
   * UpdateEventSourceMapping's `Enabled` (undefined: no such mapping runs here).
   */
  readonly mappings?: MappingControl;
  /** Records UpdateEventSourceMapping as a CloudTrail management event (cloudtrail/trail.ts). */
  readonly trail?: ManagementTrail;
  /** The Pipes API, served on this server under `/v1/pipes`. */
  readonly pipes?: PipesApi;
}

/** What the Lambda endpoint reads and changes of the event source mappings the runtime runs. */
export interface MappingControl {
  status(uuid: string): Pick<EventSourceMappingStatus, 'State' | 'StateTransitionReason' | 'LastModified'> | undefined;
  /** Enables or disables the mapping (Enabling/Disabling, then Enabled/Disabled); false when no such mapping runs. */
  setEnabled(uuid: string, enabled: boolean): boolean;
}

const INVOCATION_TYPES = ['Event', 'RequestResponse', 'DryRun'];
/** `NamespacedFunctionName` of the Lambda service model. */
const FUNCTION_NAME =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$/;

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
  if (!INVOCATION_TYPES.includes(invocationType))
    return validationError(
      response,
      `Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [${INVOCATION_TYPES.join(', ')}]`,
    );
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

/** A constraint of the service model the request breaks: Lambda's `ValidationException` (400). */
function validationError(response: ServerResponse, message: string): void {
  serviceError(response, 400, 'ValidationException', `1 validation error detected: ${message}`);
}

function checkFunctionName(response: ServerResponse, functionName: string): boolean {
  if (functionName.length >= 1 && functionName.length <= 256 && FUNCTION_NAME.test(functionName)) return true;
  validationError(
    response,
    `Value '${functionName}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${FUNCTION_NAME.source.slice(1, -1)}`,
  );
  return false;
}

/** `MaxItems` (1-10000, Lambda's default page 50) and the opaque `Marker` of a list operation. */
function page<T>(response: ServerResponse, query: URLSearchParams, items: readonly T[], key: string) {
  const maxText = query.get('MaxItems');
  const max = maxText === null ? 50 : Number(maxText);
  if (!(Number.isInteger(max) && max >= 1 && max <= 10_000)) {
    validationError(
      response,
      `Value '${maxText}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000`,
    );
    return undefined;
  }
  const marker = query.get('Marker');
  const start = marker === null ? 0 : Number(Buffer.from(marker, 'base64url').toString('utf8'));
  if (!(Number.isInteger(start) && start >= 0 && start <= items.length)) {
    serviceError(response, 400, 'InvalidParameterValueException', `Marker ${marker} is not one this API returned`);
    return undefined;
  }
  const end = start + max;
  return {
    [key]: items.slice(start, end),
    ...(end < items.length ? { NextMarker: Buffer.from(String(end), 'utf8').toString('base64url') } : {}),
  };
}

/**
 * The function a GetFunction/GetFunctionConfiguration names; undefined after answering ResourceNotFoundException (a
 * qualifier other than `$LATEST` names a version or alias, which the template's functions do not have).
 */
function describedFunction(catalog: FunctionCatalog, functionName: string, qualifierParameter: string | null) {
  const { name, qualifier } = FunctionCatalog.nameOf(functionName);
  const function_ = catalog.functions.get(name);
  const wanted = qualifierParameter ?? qualifier;
  if (!function_ || (wanted !== undefined && wanted !== '$LATEST')) return undefined;
  return function_;
}

/**
 * UpdateEventSourceMapping (`PUT /2015-03-31/event-source-mappings/{UUID}`) with `Enabled` only: what an operator
 * does from a runbook (docs/runbooks/dlq-not-drained.md). The mapping's other settings are the template's and change
 * by deploying it; a request that sets one is refused, naming it, rather than answered as if applied. The answer is
 * 202 with the mapping as it is right after the change starts (AWS: `Enabling`/`Disabling`; locally enabling is
 * immediate, so it may already say `Enabled`).
 */
async function updateMapping(
  catalog: FunctionCatalog,
  mappings: MappingControl | undefined,
  trail: ManagementTrail | undefined,
  uuid: string,
  request: IncomingMessage,
  response: ServerResponse,
  refuse: (route: LambdaRoute) => boolean,
): Promise<void> {
  const text = await readText(request);
  if (refuse({ kind: 'api', action: 'lambda:UpdateEventSourceMapping', mappingUuid: uuid })) return;
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return serviceError(response, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return serviceError(response, 400, 'InvalidRequestContentException', 'The request body must be a JSON object');
  const fields = body as Record<string, unknown>;
  const others = Object.keys(fields).filter((key) => key !== 'Enabled');
  if (others.length > 0)
    return serviceError(
      response,
      400,
      'InvalidParameterValueException',
      `the local runtime applies only Enabled to an event source mapping; ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} the template's (change the stack and restart)`,
    );
  if (fields.Enabled !== undefined && typeof fields.Enabled !== 'boolean')
    return serviceError(response, 400, 'InvalidParameterValueException', 'Enabled must be true or false');
  const mapping = catalog.eventSourceMappings.find((m) => m.configuration.UUID === uuid);
  if (!mapping || (fields.Enabled !== undefined && !mappings?.setEnabled(uuid, fields.Enabled)))
    return serviceError(response, 404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
  // CloudTrail names Lambda's events with the API version they were made in (Lambda developer guide, "Logging AWS
  // Lambda API calls using AWS CloudTrail").
  trail?.record({
    request,
    eventSource: 'lambda.amazonaws.com',
    eventName: 'UpdateEventSourceMapping20150331',
    resources: [{ ResourceType: 'AWS::Lambda::EventSourceMapping', ResourceName: uuid }],
    requestParameters: { uUID: uuid, ...fields },
  });
  const live = mappings?.status(uuid);
  json(response, 202, live ? { ...mapping.configuration, ...live } : mapping.configuration);
}

function readOperation(
  catalog: FunctionCatalog,
  mappings: MappingControl | undefined,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  refuse: (route: LambdaRoute) => boolean,
): boolean | Promise<void> {
  if (request.method !== 'GET') return false;
  const query = new URL(request.url ?? '/', 'http://local').searchParams;
  const notFound = (functionName: string) => {
    const { name } = FunctionCatalog.nameOf(functionName);
    const qualifier = query.get('Qualifier') ?? FunctionCatalog.nameOf(functionName).qualifier;
    serviceError(
      response,
      404,
      'ResourceNotFoundException',
      `Function not found: ${functionArnOf(catalog, name)}${qualifier ? `:${qualifier}` : ''}`,
    );
  };
  if (FUNCTIONS_PATH.test(path)) {
    const functions = [...catalog.functions.values()]
      .map((f) => f.configuration)
      .sort((a, b) => String(a.FunctionName).localeCompare(String(b.FunctionName)));
    const body = page(response, query, functions, 'Functions');
    if (body && !refuse({ kind: 'api', action: 'lambda:ListFunctions' })) json(response, 200, body);
    return true;
  }
  /** A mapping's configuration with the runtime's live state over the template's. */
  const withLiveState = (mapping: (typeof catalog.eventSourceMappings)[number]) => {
    const live = mappings?.status(String(mapping.configuration.UUID));
    return live
      ? {
          ...mapping.configuration,
          State: live.State,
          StateTransitionReason: live.StateTransitionReason,
          LastModified: live.LastModified,
        }
      : mapping.configuration;
  };
  if (MAPPINGS_PATH.test(path)) {
    const functionName = query.get('FunctionName');
    if (functionName !== null && !checkFunctionName(response, functionName)) return true;
    const source = query.get('EventSourceArn');
    const mappings = catalog.eventSourceMappings
      .filter(
        (m) =>
          (functionName === null || m.functionName === FunctionCatalog.nameOf(functionName).name) &&
          (source === null || m.configuration.EventSourceArn === source),
      )
      .map(withLiveState);
    const body = page(response, query, mappings, 'EventSourceMappings');
    if (body && !refuse({ kind: 'api', action: 'lambda:ListEventSourceMappings' })) json(response, 200, body);
    return true;
  }
  const mappingPath = MAPPING_PATH.exec(path);
  if (mappingPath) {
    const uuid = decodeURIComponent(mappingPath[1] ?? '');
    if (refuse({ kind: 'api', action: 'lambda:GetEventSourceMapping', mappingUuid: uuid })) return true;
    const mapping = catalog.eventSourceMappings.find((m) => m.configuration.UUID === uuid);
    if (mapping) json(response, 200, withLiveState(mapping));
    else serviceError(response, 404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
    return true;
  }
  const configuration = CONFIGURATION_PATH.exec(path);
  const whole = configuration ? undefined : FUNCTION_PATH.exec(path);
  const match = configuration ?? whole;
  if (!match) return false;
  const functionName = decodeURIComponent(match[1] ?? '');
  if (!checkFunctionName(response, functionName)) return true;
  const action = configuration ? 'lambda:GetFunctionConfiguration' : 'lambda:GetFunction';
  if (refuse({ kind: 'api', action, functionName })) return true;
  const described = describedFunction(catalog, functionName, query.get('Qualifier'));
  if (!described) {
    notFound(functionName);
    return true;
  }
  if (configuration) {
    json(response, 200, described.configuration);
    return true;
  }
  // The code's location is a presigned S3 URL in AWS; the local code is a directory of cdk.out, not served.
  json(response, 200, {
    Configuration: described.configuration,
    Code: { RepositoryType: 'S3' },
    Tags: described.tags,
    ...(described.reservedConcurrency === undefined
      ? {}
      : { Concurrency: { ReservedConcurrentExecutions: described.reservedConcurrency } }),
  });
  return true;
}

function functionArnOf(catalog: FunctionCatalog, name: string): string {
  const any = catalog.functions.values().next().value?.configuration.FunctionArn;
  const prefix = typeof any === 'string' ? any.slice(0, any.indexOf(':function:') + ':function:'.length) : '';
  return `${prefix}${name}`;
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
    if (options.pipes && PipesApi.handles(path)) return await options.pipes.handle(request, response);
    const invokeMatch = INVOKE_PATH.exec(path);
    if (invokeMatch && request.method === 'POST') {
      const functionName = decodeURIComponent(invokeMatch[1] ?? '');
      if (!checkFunctionName(response, functionName)) return;
      if (refuse({ kind: 'invoke', functionName })) return;
      const notRunnable = options.functions?.functions.get(FunctionCatalog.nameOf(functionName).name)?.notRunnable;
      if (notRunnable)
        return serviceError(
          response,
          500,
          'ServiceException',
          `function ${functionName} is part of the template but does not run locally: ${notRunnable}`,
        );
      return await invoke(service, functionName, request, response);
    }
    if (options.functions) {
      const served = readOperation(options.functions, options.mappings, request, response, path, refuse);
      if (served) return await served;
      const mappingPath = MAPPING_PATH.exec(path);
      if (mappingPath && request.method === 'PUT')
        return await updateMapping(
          options.functions,
          options.mappings,
          options.trail,
          decodeURIComponent(mappingPath[1] ?? ''),
          request,
          response,
          refuse,
        );
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
  const server = createServer((request, response) => {
    if (!refuseBrowser(request, response)) void handleLambdaRequest(service, request, response, options);
  });
  await listen(server, port, 'Lambda endpoint');
  return { endpoint: `http://127.0.0.1:${port}`, server, stop: () => closeServer(server) };
}
