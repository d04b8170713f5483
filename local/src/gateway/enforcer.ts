import type {
  AuthorizationDecision,
  AuthorizationRequest,
  Authorizer,
  ConditionContext,
  Principal,
} from '../iam/authorizer.ts';
import type { DenialLog } from './denials.ts';
import { describePrincipal, type PrincipalDirectory } from './principals.ts';
import type { SignedCredential } from './sigv4.ts';

/**
 * The condition context of every local request. `aws:SecureTransport` is true although the endpoints are plain HTTP
 * on 127.0.0.1: a loopback connection never leaves the machine, and the template's "deny unless TLS" queue policies
 * would otherwise refuse every local call (a documented deviation, docs/ARCHITECTURE.md).
 */
export const LOCAL_CONDITION_CONTEXT: ConditionContext = Object.freeze({ 'aws:SecureTransport': true });

/** One permission a request needs: the action and the resource's ARN (`*` where the action has no resource type). */
export interface Permission {
  readonly action: string;
  readonly resource: string;
  /** Condition keys of this request beyond the local ones (e.g. `cloudwatch:namespace`). */
  readonly context?: ConditionContext;
}

/** Where a request came in, named in the denials log (`pipe`: a pipe's own target invocation; `pipes`: the Pipes API). */
export type Endpoint =
  | 'dynamodb'
  | 'sqs'
  | 'lambda'
  | 'cloudwatch'
  | 'logs'
  | 'cloudtrail'
  | 'cloudformation'
  | 'sns'
  | 'pipes'
  | 'pipe'
  | 'alarm-action';

/**
 * Authorizes requests with the policy evaluator and records every denial. Shared by the gateway listeners, the pipe
 * emulators (a pipe's own Lambda invocation) and, later, alarm actions.
 */
export class Enforcer {
  constructor(
    readonly authorizer: Authorizer,
    readonly principals: PrincipalDirectory,
    readonly denials: DenialLog,
  ) {}

  /** The principal of a request's credential; undefined for an unsigned request. */
  principalOf(credential: SignedCredential | undefined): Principal | undefined {
    return credential ? this.principals.principalOf(credential.accessKeyId) : undefined;
  }

  /** One decision; a denial is recorded with the message the caller gets. */
  authorize(principal: Principal, permission: Permission, endpoint: Endpoint): AuthorizationDecision {
    const request: AuthorizationRequest = {
      principal,
      action: permission.action,
      resource: permission.resource,
      context: permission.context ? { ...LOCAL_CONDITION_CONTEXT, ...permission.context } : LOCAL_CONDITION_CONTEXT,
    };
    const decision = this.authorizer.authorize(request);
    if (!decision.allowed)
      this.denials.record({
        time: new Date().toISOString(),
        principal: describePrincipal(principal),
        ...(principal.kind === 'role' ? { role: principal.logicalId } : {}),
        action: permission.action,
        resource: permission.resource,
        reason: decision.reason,
        message: decision.message,
        ...(decision.policy ? { policy: decision.policy } : {}),
        endpoint,
      });
    return decision;
  }

  /** Every permission a request needs, in order: the first denial, or undefined when all are allowed. */
  authorizeAll(
    principal: Principal,
    permissions: readonly Permission[],
    endpoint: Endpoint,
  ): AuthorizationDecision | undefined {
    for (const permission of permissions) {
      const decision = this.authorize(principal, permission, endpoint);
      if (!decision.allowed) return decision;
    }
    return undefined;
  }

  /** An unsigned request is refused before any policy is read; it is recorded too. */
  recordUnsigned(permission: Permission | undefined, endpoint: Endpoint): void {
    this.denials.record({
      time: new Date().toISOString(),
      principal: 'anonymous',
      action: permission?.action ?? 'unknown',
      resource: permission?.resource ?? '*',
      reason: 'unsigned',
      message: 'Request is missing Authentication Token',
      endpoint,
    });
  }
}
