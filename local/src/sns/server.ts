import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Enforcer, Permission } from '../gateway/enforcer.ts';
import { assumedRoleArn } from '../gateway/principals.ts';
import { credentialOf } from '../gateway/sigv4.ts';
import type { Principal } from '../iam/authorizer.ts';
import { refuseBrowser } from '../services/browser-guard.ts';
import { closeServer, listen } from '../services/http.ts';
import { SnsApiError } from './model.ts';
import type { Outbox } from './outbox.ts';
import {
  asMap,
  messageAttributes,
  optional,
  type QueryParams,
  queryParams,
  readBody,
  SNS_API_VERSION,
  sendXml,
  type XmlValue,
  xmlError,
  xmlResponse,
} from './query-protocol.ts';
import type { SnsCaller, SnsService, SubscriptionView } from './sns-service.ts';

/**
 * The local SNS endpoint (`endpoints.sns` in runtime.json): the query protocol SNS speaks (see `query-protocol.ts`),
 * each request authorized like the other local endpoints (`gateway/`): the SigV4 access key names the principal (a
 * role of the template, or the administrator for any other key), an unsigned request is refused, and `SNS:<Action>`
 * is evaluated on the topic (Publish also on its KMS key, inside the operation). Local routes:
 * - `GET /_local/outbox[?to=ADDRESS&since=ISO&limit=N]`: email deliveries, newest first (`Outbox`);
 * - `GET /_local/deliveries`: the most recent deliveries of every protocol, failed ones with the reason;
 * - `GET /SimpleNotificationService-local.pem`: the public key notifications are signed with (their SigningCertURL).
 */

interface Operation {
  /** The permission the gateway checks first; undefined: the operation authorizes itself (Publish). */
  permission(params: QueryParams, scope: { region: string; account: string }): Permission | undefined;
  run(service: SnsService, params: QueryParams, caller: SnsCaller): Record<string, XmlValue> | undefined;
}

/** A required ARN parameter, before authorization (the permission names it). */
function required(params: QueryParams, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') throw SnsApiError.invalidParameter(name, 'No value for required parameter');
  return value;
}

const OPERATIONS: Record<string, Operation> = {
  ListTopics: {
    permission: () => ({ action: 'SNS:ListTopics', resource: '*' }),
    run: (service, params) => {
      const out = service.listTopics({ ...optionalToken(params) });
      return { Topics: out.Topics, NextToken: out.NextToken };
    },
  },
  ListSubscriptions: {
    permission: () => ({ action: 'SNS:ListSubscriptions', resource: '*' }),
    run: (service, params) => {
      const out = service.listSubscriptions({ ...optionalToken(params) });
      return { Subscriptions: subscriptions(out.Subscriptions), NextToken: out.NextToken };
    },
  },
  ListSubscriptionsByTopic: {
    permission: (params) => ({ action: 'SNS:ListSubscriptionsByTopic', resource: required(params, 'TopicArn') }),
    run: (service, params) => {
      const out = service.listSubscriptionsByTopic({
        TopicArn: required(params, 'TopicArn'),
        ...optionalToken(params),
      });
      return { Subscriptions: subscriptions(out.Subscriptions), NextToken: out.NextToken };
    },
  },
  GetTopicAttributes: {
    permission: (params) => ({ action: 'SNS:GetTopicAttributes', resource: required(params, 'TopicArn') }),
    run: (service, params) => ({
      Attributes: asMap(service.getTopicAttributes({ TopicArn: required(params, 'TopicArn') }).Attributes),
    }),
  },
  Publish: {
    permission: () => undefined,
    run: (service, params, caller) => {
      const attributes = messageAttributes(params);
      const input = {
        ...pick(params, [
          'TopicArn',
          'TargetArn',
          'PhoneNumber',
          'Message',
          'Subject',
          'MessageStructure',
          'MessageGroupId',
          'MessageDeduplicationId',
        ]),
        ...(attributes ? { MessageAttributes: attributes } : {}),
      };
      const out = service.publish(input, caller);
      return { MessageId: out.MessageId, SequenceNumber: out.SequenceNumber };
    },
  },
};

function optionalToken(params: QueryParams): { NextToken?: string } {
  const token = optional(params, 'NextToken');
  return token === undefined ? {} : { NextToken: token };
}

function pick(params: QueryParams, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = params.get(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

const subscriptions = (list: readonly SubscriptionView[]): XmlValue => list.map((s) => ({ ...s }));

export interface SnsServerContext {
  readonly service: SnsService;
  readonly outbox: Outbox;
  readonly region: string;
  readonly account: string;
  /** Local IAM enforcement; absent, every request acts as the administrator (`--iam off`). */
  readonly enforcer?: Enforcer;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(body, null, 2)}\n`);
}

/** The caller of a request, or undefined for an unsigned one; with IAM off, the administrator. */
function principalOf(ctx: SnsServerContext, request: IncomingMessage): Principal | undefined {
  if (!ctx.enforcer) return { kind: 'admin' };
  return ctx.enforcer.principalOf(credentialOf(request.headers.authorization, request.url));
}

/** `/_local/...` is the local administrator's: unsigned calls (curl) and administrator keys, never a role's key. */
function localRouteRefusal(ctx: SnsServerContext, request: IncomingMessage, path: string): string | undefined {
  const principal = principalOf(ctx, request);
  if (principal === undefined || principal.kind === 'admin') return undefined;
  const who = principal.kind === 'role' ? assumedRoleArn(principal) : principal.service;
  const action = `local:${request.method ?? 'GET'}`;
  const message = `User: ${who} is not authorized to perform: ${action} on resource: ${path} because the local administration routes are the account administrator's`;
  ctx.enforcer?.denials.record({
    time: new Date().toISOString(),
    principal: who,
    ...(principal.kind === 'role' ? { role: principal.logicalId } : {}),
    action,
    resource: path,
    reason: 'local-admin-route',
    message,
    endpoint: 'sns',
  });
  return message;
}

async function handleLocalRoute(
  ctx: SnsServerContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const refusal = localRouteRefusal(ctx, request, url.pathname);
  if (refusal) return sendJson(response, 403, { message: refusal });
  if (request.method !== 'GET') return sendJson(response, 405, { message: `${url.pathname} answers GET only` });
  if (url.pathname === '/_local/outbox') {
    const limitText = url.searchParams.get('limit');
    const sinceText = url.searchParams.get('since');
    const limit = limitText === null ? 100 : Number(limitText);
    if (!/^\d+$/.test(limitText ?? '100') || limit < 1 || limit > 1000)
      return sendJson(response, 400, { message: `limit must be an integer from 1 to 1000, got ${limitText}` });
    const since = sinceText === null ? undefined : Date.parse(sinceText);
    if (since !== undefined && Number.isNaN(since))
      return sendJson(response, 400, { message: `since must be an ISO 8601 time, got ${sinceText}` });
    const to = url.searchParams.get('to');
    return sendJson(response, 200, {
      dir: ctx.outbox.dir,
      messages: ctx.outbox.list({ limit, ...(since === undefined ? {} : { since }), ...(to ? { to } : {}) }),
    });
  }
  if (url.pathname === '/_local/deliveries') return sendJson(response, 200, { deliveries: ctx.service.deliveries() });
  return sendJson(response, 404, {
    message: `no local route ${url.pathname} (routes: /_local/outbox, /_local/deliveries)`,
  });
}

export async function handleSnsRequest(
  ctx: SnsServerContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  try {
    if (url.pathname.startsWith('/_local/')) return await handleLocalRoute(ctx, request, response, url);
    if (url.pathname === '/SimpleNotificationService-local.pem' && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/x-pem-file' });
      response.end(await ctx.service.signer.publicKeyPem());
      return;
    }
    const target = request.headers['x-amz-target'];
    if (typeof target === 'string' && target !== '') {
      // An AWS JSON request. SNS's models list the query protocol only, and no SDK sends SNS anything else, so the
      // answer is a JSON error such a client can read, naming the protocol to use (docs/AWS-FACTS.md, fact 16).
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId });
      response.end(
        JSON.stringify({
          __type: 'com.amazon.coral.service#UnknownOperationException',
          message: `${target}: SNS speaks the AWS query protocol (a form-encoded Action=... body), not AWS JSON`,
        }),
      );
      return;
    }
    const body = request.method === 'POST' ? await readBody(request) : '';
    const params = queryParams(request.url ?? '/', body, request.headers['content-type']);
    const action = params.get('Action');
    const operation = action === undefined ? undefined : OPERATIONS[action];
    if (!action || !operation)
      throw new SnsApiError(
        'InvalidAction',
        `${action ? `The action ${action} is not valid for this web service.` : 'The request has no Action parameter.'} The local SNS endpoint serves ${Object.keys(OPERATIONS).join(', ')}.`,
      );
    const version = params.get('Version');
    if (version !== undefined && version !== SNS_API_VERSION)
      throw SnsApiError.invalidParameter('Version', `must be ${SNS_API_VERSION}, got ${version}`);
    const permission = operation.permission(params, ctx);
    const principal = principalOf(ctx, request);
    if (!principal) {
      ctx.enforcer?.recordUnsigned(permission ?? { action: `SNS:${action}`, resource: '*' }, 'sns');
      throw new SnsApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    }
    if (permission && ctx.enforcer) {
      const decision = ctx.enforcer.authorize(principal, permission, 'sns');
      if (!decision.allowed) throw SnsApiError.authorization(decision.message);
    }
    const result = operation.run(ctx.service, params, { principal, endpoint: 'sns' });
    sendXml(response, 200, xmlResponse(action, result, requestId), requestId);
  } catch (error: unknown) {
    const apiError =
      error instanceof SnsApiError ? error : new SnsApiError('InternalError', (error as Error).message, 500);
    sendXml(response, apiError.status, xmlError(apiError, requestId), requestId);
  }
}

export interface SnsServer {
  readonly endpoint: string;
  readonly server: Server;
  stop(): Promise<void>;
}

export async function startSnsServer(ctx: SnsServerContext, port: number): Promise<SnsServer> {
  const server = createServer((request, response) => {
    if (!refuseBrowser(request, response)) void handleSnsRequest(ctx, request, response);
  });
  await listen(server, port, 'SNS endpoint');
  return { endpoint: `http://127.0.0.1:${port}`, server, stop: () => closeServer(server) };
}
