/**
 * One policy document (identity-based, resource-based or a role's trust policy), validated like IAM validates it
 * and compiled into statements that match a request without re-reading the JSON
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html).
 *
 * What AWS would refuse (a missing `Effect`, both `Action` and `NotAction`, a `Principal` in an identity policy, ...)
 * throws `PolicyDocumentError`. What AWS accepts but the evaluator cannot evaluate locally (an unknown condition
 * operator, a condition key the runtime does not supply, an element the template resolver could not resolve) makes
 * the statement *unsupported*: an unsupported Allow never allows; an unsupported Deny is applied as if its unreadable
 * parts matched every request (it may deny what AWS would allow, never allow what AWS would deny).
 */
import { type CompiledCondition, compileCondition, PolicyDocumentError } from './conditions.ts';
import { contextKeySupport } from './context-keys.ts';
import { actionMatcher, type Matcher, resourceMatcher, resourcePatternSource } from './patterns.ts';
import { type ContextLookup, parseVariables, substitute, variableKeys } from './variables.ts';

export { PolicyDocumentError };

export type PolicyKind = 'identity' | 'resource' | 'trust';
export type Effect = 'Allow' | 'Deny';

/** Who a request comes from, as resource-policy `Principal` elements see it. */
export type RequestIdentity =
  | {
      readonly kind: 'role';
      readonly sessionArn: string;
      readonly roleArn: string;
      readonly account: string;
    }
  | { readonly kind: 'service'; readonly service: string };

/** How a statement's `Principal` covers a request: directly, through its account (delegation), or not at all. */
export type PrincipalMatch = 'direct' | 'account' | 'none';

export interface CompiledStatement {
  readonly effect: Effect;
  readonly index: number;
  readonly sid?: string;
  /** The policy it comes from, for messages and the unsupported list. */
  readonly policy: string;
  /** Lowercase context keys it reads (conditions and policy variables). */
  readonly keys: readonly string[];
  /** Lowercase action, e.g. `sqs:sendmessage`. */
  matchesAction(action: string): boolean;
  matchesResource(resource: string, lookup: ContextLookup): boolean;
  /** Resource and trust policies only; identity statements apply to their own principal. */
  matchesPrincipal(identity: RequestIdentity): PrincipalMatch;
  readonly condition: CompiledCondition | undefined;
  /** A Deny compiled from what could be read: it applies whenever those parts match. */
  readonly partial: boolean;
}

export type UnsupportedTreatment = 'never-allows' | 'denies-when-readable-parts-match' | 'policy-ignored';

export interface UnsupportedStatement {
  /** The policy, e.g. `AWS::SNS::TopicPolicy MonitoringAlarmTopicPolicyCB9CCFB0 on arn:aws:sns:...`. */
  readonly policy: string;
  /** Statement index in the policy (0-based), undefined for a whole policy. */
  readonly statement?: number;
  readonly sid?: string;
  readonly effect?: Effect;
  readonly reasons: readonly string[];
  readonly treatment: UnsupportedTreatment;
}

export interface CompiledPolicy {
  readonly statements: readonly CompiledStatement[];
  readonly unsupported: readonly UnsupportedStatement[];
  /** Every action name the policy lists (for validation against AWS's action list). */
  readonly actions: readonly string[];
}

export interface CompileOptions {
  readonly kind: PolicyKind;
  /** Names the policy in errors, messages and the unsupported list. */
  readonly name: string;
  /** Elements of statements the template resolver could not resolve: statement index → element → reason. */
  readonly unresolved?: ReadonlyMap<number, Readonly<Record<string, string>>>;
  /** Override of which condition keys can be evaluated (tests). */
  readonly keySupport?: (lowercaseKey: string) => string | undefined;
}

const ELEMENTS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Principal',
  'NotPrincipal',
  'Condition',
]);
const ACTION_NAME = /^[a-zA-Z0-9-]+:[a-zA-Z0-9*?_-]+$/;
const ACCOUNT_ID = /^\d{12}$/;

function stringList(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyDocumentError(`${where} must not be empty`);
  return list.map((item) => {
    if (typeof item !== 'string' || item === '')
      throw new PolicyDocumentError(`${where} must be a string or a list of strings, got ${JSON.stringify(item)}`);
    return item;
  });
}

interface PrincipalSpec {
  readonly any: boolean;
  readonly arns: ReadonlySet<string>;
  readonly accounts: ReadonlySet<string>;
  readonly services: ReadonlySet<string>;
}

/** Parses a `Principal`/`NotPrincipal` element; unsupported values come back as reasons. */
function parsePrincipal(value: unknown, where: string, reasons: string[]): PrincipalSpec {
  const arns = new Set<string>();
  const accounts = new Set<string>();
  const services = new Set<string>();
  if (value === '*') return { any: true, arns, accounts, services };
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PolicyDocumentError(`${where} must be "*" or an object such as {"AWS": ...} or {"Service": ...}`);
  let any = false;
  for (const [type, raw] of Object.entries(value)) {
    const entries = stringList(raw, `${where}.${type}`);
    for (const entry of entries) {
      if (type === 'AWS') {
        if (entry === '*') any = true;
        else if (entry.includes('*') || entry.includes('?'))
          reasons.push(`${where}.AWS ${entry}: a wildcard inside a principal is not a valid principal`);
        else if (ACCOUNT_ID.test(entry)) accounts.add(entry);
        else {
          const root = /^arn:aws:iam::(\d{12}):root$/.exec(entry);
          if (root?.[1]) accounts.add(root[1]);
          else if (entry.startsWith('arn:')) arns.add(entry);
          else reasons.push(`${where}.AWS ${entry} is neither an account id nor an ARN`);
        }
      } else if (type === 'Service') {
        if (entry === '*') any = true;
        else services.add(entry.toLowerCase());
      } else if (type === 'Federated' || type === 'CanonicalUser') {
        // Web identity, SAML and S3 canonical users never make local requests: the entry matches nothing.
      } else throw new PolicyDocumentError(`${where} has unknown principal type ${type}`);
    }
  }
  return { any, arns, accounts, services };
}

function principalMatch(spec: PrincipalSpec, identity: RequestIdentity): PrincipalMatch {
  if (spec.any) return 'direct';
  if (identity.kind === 'service') return spec.services.has(identity.service.toLowerCase()) ? 'direct' : 'none';
  if (spec.arns.has(identity.sessionArn) || spec.arns.has(identity.roleArn)) return 'direct';
  return spec.accounts.has(identity.account) ? 'account' : 'none';
}

/**
 * `NotPrincipal` (Deny only): the statement applies unless every identity the request carries is listed; a role
 * session carries its session ARN, its role ARN and its account
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html).
 */
function notPrincipalApplies(spec: PrincipalSpec, identity: RequestIdentity): boolean {
  if (spec.any) return false;
  if (identity.kind === 'service') return !spec.services.has(identity.service.toLowerCase());
  return !(
    spec.arns.has(identity.sessionArn) &&
    spec.arns.has(identity.roleArn) &&
    spec.accounts.has(identity.account)
  );
}

/** A `Resource`/`NotResource` entry, with policy variables substituted per request when the version allows them. */
function compileResource(pattern: string, variables: boolean, reasons: string[], keys: Set<string>) {
  const parts = variables ? parseVariables(pattern) : undefined;
  if (!parts) {
    const matcher = resourceMatcher(pattern);
    return (resource: string) => matcher(resource);
  }
  for (const key of variableKeys(parts)) {
    const problem = contextKeySupport(key);
    if (problem) reasons.push(`Resource ${pattern}: policy variable: ${problem}`);
    keys.add(key);
  }
  return (resource: string, lookup: ContextLookup) => {
    const chunks = substitute(parts, lookup);
    return chunks !== undefined && new RegExp(`^${resourcePatternSource(chunks)}$`, 's').test(resource);
  };
}

const ANY_ACTION: Matcher = () => true;

function compileStatement(
  raw: unknown,
  index: number,
  options: CompileOptions,
  variables: boolean,
  actions: string[],
): { statement?: CompiledStatement; unsupported?: UnsupportedStatement } {
  const where = `${options.name}: Statement[${index}]`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new PolicyDocumentError(`${where} must be an object`);
  const statement = raw as Record<string, unknown>;
  for (const key of Object.keys(statement))
    if (!ELEMENTS.has(key)) throw new PolicyDocumentError(`${where} has unknown element ${key}`);
  const unresolved = options.unresolved?.get(index) ?? {};
  const has = (element: string) => statement[element] !== undefined || unresolved[element] !== undefined;
  const effect = statement.Effect;
  if (effect !== 'Allow' && effect !== 'Deny')
    throw new PolicyDocumentError(`${where}: Effect must be "Allow" or "Deny", got ${JSON.stringify(effect)}`);
  const sid = typeof statement.Sid === 'string' ? statement.Sid : undefined;
  if (statement.Sid !== undefined && sid === undefined) throw new PolicyDocumentError(`${where}: Sid must be a string`);
  const label = sid ? `${where} (${sid})` : where;
  const reasons: string[] = Object.entries(unresolved).map(([element, reason]) => `${element}: ${reason}`);
  const keys = new Set<string>();

  // Action / NotAction
  if (has('Action') === has('NotAction'))
    throw new PolicyDocumentError(`${label} must have exactly one of Action and NotAction`);
  const actionElement = has('Action') ? 'Action' : 'NotAction';
  let actionTest: Matcher = ANY_ACTION;
  if (unresolved[actionElement] === undefined) {
    const list = stringList(statement[actionElement], `${label}.${actionElement}`);
    for (const action of list)
      if (action !== '*' && !ACTION_NAME.test(action))
        throw new PolicyDocumentError(`${label}.${actionElement}: '${action}' is not of the form service:action`);
    actions.push(...list);
    const matchers = list.map(actionMatcher);
    const any: Matcher = (action) => matchers.some((m) => m(action));
    actionTest = actionElement === 'Action' ? any : (action) => !any(action);
  }

  // Resource / NotResource
  let resourceTest: CompiledStatement['matchesResource'] = () => true;
  if (options.kind === 'trust') {
    if (has('Resource') || has('NotResource'))
      throw new PolicyDocumentError(`${label}: a trust policy has no Resource or NotResource`);
  } else {
    if (has('Resource') === has('NotResource'))
      throw new PolicyDocumentError(`${label} must have exactly one of Resource and NotResource`);
    const element = has('Resource') ? 'Resource' : 'NotResource';
    if (unresolved[element] === undefined) {
      const before = reasons.length;
      const matchers = stringList(statement[element], `${label}.${element}`).map((pattern) =>
        compileResource(pattern, variables, reasons, keys),
      );
      const any = (resource: string, lookup: ContextLookup) => matchers.some((m) => m(resource, lookup));
      if (reasons.length === before)
        resourceTest = element === 'Resource' ? any : (resource, lookup) => !any(resource, lookup);
    }
  }

  // Principal / NotPrincipal
  let principalTest: CompiledStatement['matchesPrincipal'] = () => 'direct';
  if (options.kind === 'identity') {
    if (has('Principal') || has('NotPrincipal'))
      throw new PolicyDocumentError(`${label}: an identity-based policy cannot have Principal or NotPrincipal`);
  } else {
    if (has('Principal') === has('NotPrincipal'))
      throw new PolicyDocumentError(`${label} must have exactly one of Principal and NotPrincipal`);
    const element = has('Principal') ? 'Principal' : 'NotPrincipal';
    if (unresolved[element] === undefined) {
      const before = reasons.length;
      const spec = parsePrincipal(statement[element], `${label}.${element}`, reasons);
      if (element === 'NotPrincipal' && effect === 'Allow')
        reasons.push('NotPrincipal with "Effect": "Allow" is not evaluated (AWS advises against it)');
      if (reasons.length === before)
        principalTest =
          element === 'Principal'
            ? (identity) => principalMatch(spec, identity)
            : (identity) => (notPrincipalApplies(spec, identity) ? 'direct' : 'none');
    }
  }

  // Condition
  let condition: CompiledCondition | undefined;
  if (unresolved.Condition === undefined) {
    const compiled = compileCondition(statement.Condition, {
      variables,
      keySupport: options.keySupport ?? contextKeySupport,
      where: label,
    });
    if (compiled.unsupported) reasons.push(...compiled.unsupported);
    else condition = compiled.condition;
    for (const key of condition?.keys ?? []) keys.add(key);
  }

  const base = {
    effect,
    index,
    ...(sid ? { sid } : {}),
    policy: options.name,
    keys: [...keys],
    matchesAction: actionTest,
    matchesResource: resourceTest,
    matchesPrincipal: principalTest,
    condition,
  } as const;
  if (reasons.length === 0) return { statement: { ...base, partial: false } };
  const unsupported: UnsupportedStatement = {
    policy: options.name,
    statement: index,
    ...(sid ? { sid } : {}),
    effect,
    reasons,
    treatment: effect === 'Allow' ? 'never-allows' : 'denies-when-readable-parts-match',
  };
  // An unsupported Deny keeps what could be read; what could not (left at its match-everything default above, or a
  // dropped condition) matches every request.
  if (effect === 'Deny') return { statement: { ...base, partial: true }, unsupported };
  return { unsupported };
}

/** Validates and compiles a policy document. */
export function compilePolicy(document: unknown, options: CompileOptions): CompiledPolicy {
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw new PolicyDocumentError(`${options.name}: a policy document must be a JSON object`);
  const { Version: version, Statement: statementElement, Id: id, ...rest } = document as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new PolicyDocumentError(`${options.name}: unknown policy element ${extra.join(', ')}`);
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17')
    throw new PolicyDocumentError(
      `${options.name}: Version must be "2012-10-17" or "2008-10-17", got ${JSON.stringify(version)}`,
    );
  if (id !== undefined && typeof id !== 'string') throw new PolicyDocumentError(`${options.name}: Id must be a string`);
  if (statementElement === undefined) throw new PolicyDocumentError(`${options.name}: the policy has no Statement`);
  const list = Array.isArray(statementElement) ? statementElement : [statementElement];
  const variables = version === '2012-10-17';
  const statements: CompiledStatement[] = [];
  const unsupported: UnsupportedStatement[] = [];
  const actions: string[] = [];
  list.forEach((raw, index) => {
    const out = compileStatement(raw, index, options, variables, actions);
    if (out.statement) statements.push(out.statement);
    if (out.unsupported) unsupported.push(out.unsupported);
  });
  return { statements, unsupported, actions };
}
