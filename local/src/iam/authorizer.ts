/**
 * The contract between the local IAM policy evaluator (`policy-evaluator.ts`, built from the template's policies) and
 * everything that enforces it (the local endpoints' gateway, the pipe emulators, alarm actions). One decision per
 * request, following AWS's policy evaluation logic
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 */

/** Who makes a request. */
export type Principal =
  /** A role of the template, acting through its local credentials (a function's execution role, a pipe role, ...). */
  | { kind: 'role'; roleArn: string; sessionName: string; logicalId: string }
  /** An AWS service acting for a resource of the template, e.g. `cloudwatch.amazonaws.com` for an alarm action. */
  | { kind: 'service'; service: string }
  /** Any other access key (the CLI, demo traffic, tests): the account's administrator, as documented. */
  | { kind: 'admin' };

/** Condition-key values of a request (`aws:SecureTransport`, `aws:SourceArn`, `aws:SourceAccount`, ...). */
export type ConditionContext = Readonly<Record<string, string | readonly string[] | boolean | number | undefined>>;

export interface AuthorizationRequest {
  readonly principal: Principal;
  /** `service:Action`, e.g. `dynamodb:PutItem`, `sns:Publish`. */
  readonly action: string;
  /** The resource's ARN, or `*` for actions that support no resource-level permissions. */
  readonly resource: string;
  readonly context?: ConditionContext;
}

export type DecisionReason =
  | 'admin'
  | 'allowed'
  | 'explicit-deny-identity'
  | 'explicit-deny-resource'
  | 'no-identity-allow'
  | 'no-resource-allow';

export interface AuthorizationDecision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /**
   * The text AWS gives for this decision, e.g. `User: arn:aws:sts::000000000000:assumed-role/ROLE/SESSION is not
   * authorized to perform: dynamodb:PutItem on resource: ARN because no identity-based policy allows the
   * dynamodb:PutItem action`. Empty for an allow.
   */
  readonly message: string;
  /**
   * The statement that decided, for logs: the Allow that allowed or the Deny that denied, e.g.
   * `AWS::IAM::Policy Name: Statement[2] (Sid)`. Absent for the admin and for an implicit deny.
   */
  readonly policy?: string;
}

export interface Authorizer {
  authorize(request: AuthorizationRequest): AuthorizationDecision;
}
