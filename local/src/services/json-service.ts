import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonObject } from './http.ts';

/**
 * What the small AWS JSON 1.1 services the runtime serves beside CloudWatch share (CloudWatch Logs, `logs/api.ts`;
 * CloudTrail, `cloudtrail/api.ts`): an error with the service's code (`__type`) and HTTP status, a gate that
 * authorizes one action on one resource, and the dispatch of `X-Amz-Target: <prefix><Operation>` to an operation
 * table, answering `application/x-amz-json-1.1`.
 */
export class JsonServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Authorizes one action on one resource; the refusal's code and message, or undefined when allowed. */
export type JsonServiceGate = (
  request: IncomingMessage,
  action: string,
  resource: string,
) => { readonly code: string; readonly message: string } | undefined;

/** Throws the gate's refusal as the service's error (no gate: `--iam off`, everything is allowed). */
export function authorizeCall(
  gate: JsonServiceGate | undefined,
  request: IncomingMessage,
  action: string,
  resource: string,
): void {
  const refusal = gate?.(request, action, resource);
  if (refusal) throw new JsonServiceError(refusal.code, refusal.message);
}

export type JsonOperation<Context> = (
  ctx: Context,
  input: Record<string, unknown>,
  request: IncomingMessage,
) => unknown;

/** Serves one request whose `X-Amz-Target` starts with `service.targetPrefix`. */
export async function serveJsonRequest<Context>(
  service: {
    readonly name: string;
    readonly targetPrefix: string;
    readonly operations: Readonly<Record<string, JsonOperation<Context>>>;
  },
  ctx: Context,
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
): Promise<void> {
  let status = 200;
  let body: unknown;
  try {
    const operation = String(request.headers['x-amz-target']).slice(service.targetPrefix.length);
    const implementation = Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;
    if (!implementation)
      throw new JsonServiceError(
        'UnknownOperationException',
        `operation '${operation}' is not supported by the local ${service.name} API (it serves ${Object.keys(service.operations).join(', ')}; see docs/ARCHITECTURE.md)`,
      );
    const input = await readJsonObject(request, (message) => new JsonServiceError('SerializationException', message));
    body = implementation(ctx, input, request);
  } catch (error: unknown) {
    const failure =
      error instanceof JsonServiceError ? error : new JsonServiceError('InternalFailure', String(error), 500);
    status = failure.status;
    body = { __type: failure.code, message: failure.message };
  }
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId });
  response.end(JSON.stringify(body));
}
