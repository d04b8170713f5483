/**
 * Decides local requests from the template's policies, following AWS's policy evaluation logic for requests within
 * one account (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
 * .../reference_policies_evaluation-logic_policy-eval-denyallow.html, .../reference_policies_evaluation-logic_policy-eval-basics.html):
 *
 * 1. An explicit Deny in any applicable policy (the principal's identity-based policies, the resource's resource-based
 *    policies) denies.
 * 2. Otherwise an Allow in an identity-based policy of the principal, or in a resource-based policy of the resource
 *    that names the principal (its role session ARN, its role ARN, `*`, or its service principal), allows: within one
 *    account either suffices.
 * 3. A resource-based policy that names the account (`arn:aws:iam::ACCOUNT:root` or `ACCOUNT`) delegates to the
 *    account: it allows only a principal whose identity-based policies allow too
 *    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html, "AWS account
 *    principals").
 * 4. KMS keys and role trust: the key policy (the trust policy) must allow, directly or through the account and then
 *    with an identity-based allow (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
 * 5. A service principal (`cloudwatch.amazonaws.com`) has no identity-based policies: only a resource-based policy
 *    naming it (or `*`) allows it.
 * 6. Otherwise the request is implicitly denied.
 *
 * Denial messages follow AWS's form (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
 * Decisions are cached per principal, action, resource and the values of every request-context key that some
 * statement of the policy set reads, so a cached decision is the one evaluation would give.
 */
import type {
  AuthorizationDecision,
  AuthorizationRequest,
  Authorizer,
  ConditionContext,
  DecisionReason,
  Principal,
} from './authorizer.ts';
import { isDerivedKey } from './context-keys.ts';
import type { CompiledStatement, RequestIdentity } from './policy-document.ts';
import { type CompiledResourcePolicy, type PolicySet, roleSessionArn } from './policy-set.ts';
import type { ContextLookup } from './variables.ts';

export class AuthorizationRequestError extends Error {
  override readonly name = 'AuthorizationRequestError';
}

export interface PolicyEvaluatorOptions {
  /** Most decisions kept (default 50,000); the cache is emptied when full. */
  readonly cacheSize?: number;
  /** Clock for `aws:CurrentTime`/`aws:EpochTime` (tests). */
  readonly now?: () => Date;
}

const ACTION = /^[a-z0-9-]+:[a-z0-9]+$/i;
const TIME_KEYS = ['aws:currenttime', 'aws:epochtime'];

function contextValues(value: ConditionContext[string]): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (typeof value === 'boolean' || typeof value === 'number') return [String(value)];
  return value.map(String);
}

function describe(statement: CompiledStatement): string {
  return `${statement.policy}: Statement[${statement.index}]${statement.sid ? ` (${statement.sid})` : ''}`;
}

export class PolicyEvaluator implements Authorizer {
  private readonly cache = new Map<string, AuthorizationDecision>();
  private readonly cacheSize: number;
  private readonly now: () => Date;
  /** Request-context keys (lowercase) that some statement reads: the part of a context a decision depends on. */
  private readonly requestKeys: readonly string[];
  private readonly requestKeySlot: ReadonlyMap<string, number>;
  private readonly readsTime: boolean;
  /**
   * The part of the cache key a context contributes, per context object: most requests share one frozen context
   * (the gateway's), and building the part costs more than the rest of the lookup.
   */
  private readonly contextParts = new WeakMap<object, string>();
  private hits = 0;
  private misses = 0;

  constructor(
    readonly policySet: PolicySet,
    options: PolicyEvaluatorOptions = {},
  ) {
    this.cacheSize = options.cacheSize ?? 50_000;
    this.now = options.now ?? (() => new Date());
    this.requestKeys = [...policySet.contextKeys].filter((key) => !isDerivedKey(key)).sort();
    this.requestKeySlot = new Map(this.requestKeys.map((key, i) => [key, i]));
    this.readsTime = TIME_KEYS.some((key) => policySet.contextKeys.has(key));
  }

  get cacheStats(): { hits: number; misses: number; size: number } {
    return { hits: this.hits, misses: this.misses, size: this.cache.size };
  }

  authorize(request: AuthorizationRequest): AuthorizationDecision {
    if (request.principal.kind === 'admin') return { allowed: true, reason: 'admin', message: '' };
    if (this.readsTime) return this.evaluate(request);
    const key = this.cacheKey(request);
    const cached = this.cache.get(key);
    if (cached) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const decision = this.evaluate(request);
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(key, decision);
    return decision;
  }

  private cacheKey(request: AuthorizationRequest): string {
    const principal = request.principal;
    let key =
      principal.kind === 'role'
        ? `r\u0000${principal.logicalId}\u0000${principal.roleArn}\u0000${principal.sessionName}`
        : `s\u0000${principal.kind === 'service' ? principal.service : ''}`;
    key += `\u0000${request.action}\u0000${request.resource}`;
    if (this.requestKeys.length > 0 && request.context) key += this.contextPart(request.context);
    return key;
  }

  private contextPart(context: ConditionContext): string {
    const known = this.contextParts.get(context);
    if (known !== undefined) return known;
    const slots = new Array<string>(this.requestKeys.length).fill('');
    for (const [name, value] of Object.entries(context)) {
      const slot = this.requestKeySlot.get(name.toLowerCase());
      if (slot !== undefined && value !== undefined) slots[slot] = JSON.stringify(value);
    }
    const part = `\u0000${slots.join('\u0000')}`;
    // Only a context that cannot change is remembered (frozen, and so is every value that is an object).
    const unchanging =
      Object.isFrozen(context) &&
      Object.values(context).every((value) => typeof value !== 'object' || value === null || Object.isFrozen(value));
    if (unchanging) this.contextParts.set(context, part);
    return part;
  }

  /** The decision without the cache. */
  evaluate(request: AuthorizationRequest): AuthorizationDecision {
    const { principal, action, resource } = request;
    if (principal.kind === 'admin') return { allowed: true, reason: 'admin', message: '' };
    if (typeof action !== 'string' || !ACTION.test(action))
      throw new AuthorizationRequestError(
        `action must be service:Action, e.g. sqs:SendMessage; got ${JSON.stringify(action)}`,
      );
    if (typeof resource !== 'string' || resource === '')
      throw new AuthorizationRequestError(`resource must be an ARN or *, got ${JSON.stringify(resource)}`);
    const { identity, statements: identityStatements, caller } = this.identityOf(principal);
    const lookup = this.lookupFor(request, identity);
    const actionLower = action.toLowerCase();
    const applies = (statement: CompiledStatement) =>
      statement.matchesAction(actionLower) &&
      statement.matchesResource(resource, lookup) &&
      (statement.condition === undefined || statement.condition.test(lookup));
    const resourcePolicies = this.resourcePoliciesFor(resource, actionLower);

    const deny = (reason: DecisionReason, statement: CompiledStatement): AuthorizationDecision => ({
      allowed: false,
      reason,
      message: denialMessage(caller, action, resource, reason),
      policy: describe(statement),
    });
    for (const statement of identityStatements)
      if (statement.effect === 'Deny' && applies(statement)) return deny('explicit-deny-identity', statement);
    for (const policy of resourcePolicies)
      for (const statement of policy.statements)
        if (statement.effect === 'Deny' && statement.matchesPrincipal(identity) !== 'none' && applies(statement))
          return deny('explicit-deny-resource', statement);

    const identityAllow = identityStatements.find((s) => s.effect === 'Allow' && applies(s));
    let direct: CompiledStatement | undefined;
    let viaAccount: CompiledStatement | undefined;
    for (const policy of resourcePolicies)
      for (const statement of policy.statements) {
        if (statement.effect !== 'Allow' || direct) continue;
        const match = statement.matchesPrincipal(identity);
        if (match === 'none' || !applies(statement)) continue;
        if (match === 'direct') direct = statement;
        else viaAccount ??= statement;
      }
    const allow = (statement: CompiledStatement): AuthorizationDecision => ({
      allowed: true,
      reason: 'allowed',
      message: '',
      policy: describe(statement),
    });
    const implicit = (reason: DecisionReason): AuthorizationDecision => ({
      allowed: false,
      reason,
      message: denialMessage(caller, action, resource, reason),
    });
    if (direct) return allow(direct);
    const mandatory = this.resourcePolicyRequired(resource, actionLower);
    if (mandatory) {
      if (viaAccount && identityAllow) return allow(identityAllow);
      return implicit(viaAccount ? 'no-identity-allow' : 'no-resource-allow');
    }
    if (identityAllow) return allow(identityAllow);
    return implicit(identity.kind === 'service' ? 'no-resource-allow' : 'no-identity-allow');
  }

  private identityOf(principal: Exclude<Principal, { kind: 'admin' }>): {
    identity: RequestIdentity;
    statements: readonly CompiledStatement[];
    caller: string;
  } {
    const set = this.policySet;
    if (principal.kind === 'service') {
      if (typeof principal.service !== 'string' || !/^[a-z0-9.-]+\.amazonaws\.com$/i.test(principal.service))
        throw new AuthorizationRequestError(
          `a service principal is a name like cloudwatch.amazonaws.com, got ${JSON.stringify(principal.service)}`,
        );
      return { identity: { kind: 'service', service: principal.service }, statements: [], caller: principal.service };
    }
    const role = set.roles.get(principal.logicalId);
    if (!role)
      throw new AuthorizationRequestError(
        `principal role ${principal.logicalId} is not a role of the template (roles: ${[...set.roles.keys()].join(', ') || 'none'})`,
      );
    if (principal.roleArn !== role.arn)
      throw new AuthorizationRequestError(
        `principal role ARN ${principal.roleArn} is not the ARN of role ${principal.logicalId} (${role.arn})`,
      );
    if (typeof principal.sessionName !== 'string' || !/^[\w+=,.@-]{2,64}$/.test(principal.sessionName))
      throw new AuthorizationRequestError(
        `role session name must be 2-64 characters of letters, digits and +=,.@_-; got ${JSON.stringify(principal.sessionName)}`,
      );
    const sessionArn = roleSessionArn(set.account, role.name, principal.sessionName, set.partition);
    return {
      identity: { kind: 'role', sessionArn, roleArn: role.arn, account: set.account },
      statements: set.identityStatements.get(role.logicalId) ?? [],
      caller: sessionArn,
    };
  }

  private lookupFor(request: AuthorizationRequest, identity: RequestIdentity): ContextLookup {
    const values = new Map<string, string[]>();
    for (const [name, value] of Object.entries(request.context ?? {})) {
      const key = name.toLowerCase();
      const list = contextValues(value);
      if (list && !isDerivedKey(key)) values.set(key, list);
    }
    if (!values.has('aws:requestedregion')) values.set('aws:requestedregion', [this.policySet.region]);
    if (identity.kind === 'role') {
      values.set('aws:principalarn', [identity.roleArn]);
      values.set('aws:principalaccount', [identity.account]);
      values.set('aws:principaltype', ['AssumedRole']);
      values.set('aws:principalisawsservice', ['false']);
      if (request.action.toLowerCase().startsWith('kms:')) values.set('kms:calleraccount', [identity.account]);
    } else {
      values.set('aws:principalservicename', [identity.service]);
      values.set('aws:principalisawsservice', ['true']);
    }
    if (this.readsTime) {
      const now = this.now();
      values.set('aws:currenttime', [now.toISOString()]);
      values.set('aws:epochtime', [String(Math.floor(now.getTime() / 1000))]);
    }
    return (key) => values.get(key);
  }

  /** The resource-based policies of a resource ARN (an S3 object's bucket, a DynamoDB index's table included). */
  private resourcePoliciesFor(resource: string, actionLower: string): readonly CompiledResourcePolicy[] {
    const map = this.policySet.resourceStatements;
    const own = (map.get(resource) ?? []).filter((policy) => policy.kind !== 'trust' || actionLower.startsWith('sts:'));
    const parent = parentResource(resource);
    const inherited = parent ? (map.get(parent) ?? []).filter((policy) => policy.kind === 'resource') : [];
    return inherited.length === 0 ? own : [...own, ...inherited];
  }

  private resourcePolicyRequired(resource: string, actionLower: string): boolean {
    if (/^arn:[^:]+:kms:[^:]*:[^:]*:key\//.test(resource)) return true;
    return actionLower.startsWith('sts:') && /^arn:[^:]+:iam::[^:]*:role\//.test(resource);
  }
}

/** The resource whose policy also covers `resource`: an S3 object's bucket, a DynamoDB index's table. */
function parentResource(resource: string): string | undefined {
  if (resource.startsWith('arn:aws:s3:::')) {
    const slash = resource.indexOf('/');
    return slash > 0 ? resource.slice(0, slash) : undefined;
  }
  const index = /^(arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/[^/]+)\/index\/.+$/.exec(resource);
  return index?.[1];
}

/** AWS's access-denied text (troubleshoot_access-denied.html); `on resource:` is left out for `*`, as AWS does. */
export function denialMessage(caller: string, action: string, resource: string, reason: DecisionReason): string {
  const head = `User: ${caller} is not authorized to perform: ${action}${resource === '*' ? '' : ` on resource: ${resource}`}`;
  switch (reason) {
    case 'explicit-deny-identity':
      return `${head} with an explicit deny in an identity-based policy`;
    case 'explicit-deny-resource':
      return `${head} with an explicit deny in a resource-based policy`;
    case 'no-resource-allow':
      return `${head} because no resource-based policy allows the ${action} action`;
    case 'no-identity-allow':
      return `${head} because no identity-based policy allows the ${action} action`;
    default:
      return '';
  }
}
