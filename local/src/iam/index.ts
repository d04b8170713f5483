/**
 * Local IAM enforcement, the evaluator side: read the template's policies (`buildPolicySet`), decide requests
 * (`createAuthorizer`), and the facts an enforcer needs about roles. See docs/ARCHITECTURE.md, "Local IAM enforcement:
 * the evaluator".
 *
 * ```ts
 * const policies = await buildPolicySet(loaded, context);          // context: the runtime's ResolveContext
 * for (const line of describeUnsupported(policies.unsupported)) log(line);
 * const authorizer = createAuthorizer(policies);
 * authorizer.authorize({ principal: rolePrincipal(policies, roleId, 'OrderProcessorFunction'), action, resource, context });
 * ```
 */
import type { Principal } from './authorizer.ts';
import type { UnsupportedStatement } from './policy-document.ts';
import { PolicyEvaluator, type PolicyEvaluatorOptions } from './policy-evaluator.ts';
import { type PolicySet, PolicySetError, roleSessionArn } from './policy-set.ts';

export type {
  AuthorizationDecision,
  AuthorizationRequest,
  Authorizer,
  ConditionContext,
  DecisionReason,
  Principal,
} from './authorizer.ts';
export { CONDITION_OPERATORS, type CompiledCondition, compileCondition } from './conditions.ts';
export { contextKeySupport, DERIVED_CONTEXT_KEYS, REQUEST_CONTEXT_KEYS } from './context-keys.ts';
export { awsManagedPolicyName, loadAwsManagedPolicies } from './managed-policies.ts';
export { buildPolicySet, type ExecutionRoleUse, type ResourceValue, type TemplatePolicySet } from './policies.ts';
export {
  type CompiledPolicy,
  type CompiledStatement,
  type CompileOptions,
  compilePolicy,
  PolicyDocumentError,
  type PolicyKind,
  type UnsupportedStatement,
  type UnsupportedTreatment,
} from './policy-document.ts';
export {
  AuthorizationRequestError,
  denialMessage,
  PolicyEvaluator,
  type PolicyEvaluatorOptions,
} from './policy-evaluator.ts';
export {
  createPolicySet,
  type PolicySet,
  PolicySetError,
  type PolicySetInput,
  type PolicySource,
  type ResourcePolicyKind,
  type ResourcePolicySource,
  type RoleInfo,
  type RoleInput,
  roleArn,
  roleSessionArn,
} from './policy-set.ts';

/** The authorizer enforcers call for every request. */
export function createAuthorizer(policySet: PolicySet, options?: PolicyEvaluatorOptions): PolicyEvaluator {
  return new PolicyEvaluator(policySet, options);
}

function roleOf(policySet: PolicySet, logicalId: string) {
  const role = policySet.roles.get(logicalId);
  if (!role)
    throw new PolicySetError(
      `${logicalId} is not a role of the template (roles: ${[...policySet.roles.keys()].join(', ') || 'none'})`,
    );
  return role;
}

/** `arn:aws:iam::000000000000:role/NAME` of a role, by logical id. */
export function roleArnOf(policySet: PolicySet, roleLogicalId: string): string {
  return roleOf(policySet, roleLogicalId).arn;
}

/** `arn:aws:sts::000000000000:assumed-role/NAME/SESSION` of a role session, by role logical id. */
export function sessionArnOf(policySet: PolicySet, roleLogicalId: string, sessionName: string): string {
  const role = roleOf(policySet, roleLogicalId);
  return roleSessionArn(policySet.account, role.name, sessionName, policySet.partition);
}

/**
 * The principal of a request made with a role's credentials. Lambda names the session after the function (an
 * execution role's session ARN is `assumed-role/ROLE/FUNCTION_NAME`).
 */
export function rolePrincipal(policySet: PolicySet, roleLogicalId: string, sessionName: string): Principal {
  const role = roleOf(policySet, roleLogicalId);
  return { kind: 'role', roleArn: role.arn, sessionName, logicalId: role.logicalId };
}

/** One line per unsupported statement or policy, for the runtime to list at start. */
export function describeUnsupported(unsupported: readonly UnsupportedStatement[]): string[] {
  const treatment = {
    'never-allows': 'never allows',
    'denies-when-readable-parts-match': 'denies whenever the parts that can be read match',
    'policy-ignored': 'ignored',
  } as const;
  return unsupported.map((entry) => {
    const where =
      entry.statement === undefined
        ? entry.policy
        : `${entry.policy}: Statement[${entry.statement}]${entry.sid ? ` (${entry.sid})` : ''}`;
    const effect = entry.effect ? `${entry.effect} ` : '';
    return `${where}: ${effect}${treatment[entry.treatment]}: ${entry.reasons.join('; ')}`;
  });
}
