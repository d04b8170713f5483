import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ArnScope } from '../gateway/dynamodb.ts';
import type { Enforcer, Permission } from '../gateway/enforcer.ts';
import type { ErrorResponse } from '../gateway/errors.ts';
import { credentialOf } from '../gateway/sigv4.ts';

/** The Pipes API operations, by the IAM action each needs (`pipes:<Operation>`). */
export type PipesOperation =
  | 'ListPipes'
  | 'DescribePipe'
  | 'StartPipe'
  | 'StopPipe'
  | 'CreatePipe'
  | 'UpdatePipe'
  | 'DeletePipe'
  | 'ListTagsForResource'
  | 'TagResource'
  | 'UntagResource';

/** The Pipes endpoint's check of an operation on a pipe (or on none: ListPipes); undefined: serve it. */
export type PipesGate = (
  request: IncomingMessage,
  operation: PipesOperation,
  pipeName: string | undefined,
) => ErrorResponse | undefined;

export const pipeArn = (name: string, scope: ArnScope) => `arn:aws:pipes:${scope.region}:${scope.account}:pipe/${name}`;

/**
 * The permission of a Pipes operation, per the Service Authorization Reference for Amazon EventBridge Pipes
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridgepipes.html): the action
 * has the operation's name; DescribePipe, StartPipe, StopPipe (and the other operations on a pipe) act on the pipe's
 * ARN (`arn:aws:pipes:REGION:ACCOUNT:pipe/NAME`), ListPipes has no resource type (`*`).
 */
export function pipesPermission(operation: PipesOperation, pipeName: string | undefined, scope: ArnScope): Permission {
  return { action: `pipes:${operation}`, resource: pipeName === undefined ? '*' : pipeArn(pipeName, scope) };
}

const UNSIGNED_MESSAGE = 'Request is missing Authentication Token';

/**
 * The Pipes API's refusal (REST JSON, like Lambda's): HTTP 403 with `x-amzn-ErrorType: AccessDeniedException` and the
 * message, or `MissingAuthenticationTokenException` for an unsigned request.
 */
export function pipesAccessError(kind: 'denied' | 'unsigned', message: string): ErrorResponse {
  const type = kind === 'denied' ? 'AccessDeniedException' : 'MissingAuthenticationTokenException';
  return {
    status: 403,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), 'x-amzn-errortype': type },
    body: JSON.stringify({ Message: kind === 'denied' ? message : UNSIGNED_MESSAGE }),
  };
}

/** Local IAM enforcement of the Pipes endpoint, as the Lambda and CloudWatch endpoints are (gateway/http-gates.ts). */
export function pipesGate(enforcer: Enforcer, scope: ArnScope): PipesGate {
  return (request, operation, pipeName) => {
    const permission = pipesPermission(operation, pipeName, scope);
    const principal = enforcer.principalOf(credentialOf(request.headers.authorization, request.url));
    if (!principal) {
      enforcer.recordUnsigned(permission, 'pipes');
      return pipesAccessError('unsigned', '');
    }
    const decision = enforcer.authorize(principal, permission, 'pipes');
    return decision.allowed ? undefined : pipesAccessError('denied', decision.message);
  };
}
