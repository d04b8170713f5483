// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are ${...} inside plain strings
/**
 * Differential test of the local evaluator against @cloud-copilot/iam-simulate (AGPL-3.0, a dev dependency used by
 * this test only; never imported from src/). fast-check generates policies and requests over the features both
 * implement; every disagreement is either a bug of ours or a difference listed in docs/ARCHITECTURE.md ("Local IAM
 * enforcement: the evaluator") and left out of the generators below:
 *
 * - NotPrincipal (iam-simulate spares a session when only its role is listed; we deny unless session, role and
 *   account are all listed, as AWS's NotPrincipal page advises).
 * - NotResource in a resource-based policy (iam-simulate 0.1.173 applies such a statement to nothing, so its Allow
 *   never allows and its Deny never denies; we apply NotResource as in any policy, per
 *   reference_policies_elements_notresource).
 * - NotResource with an ARN pattern of fewer than six components, such as `arn:aws:sqs:*` (iam-simulate 0.1.173 does
 *   not apply the statement to an SNS topic; we do: the topic is not an SQS resource, so NotResource covers it).
 * - Policy variables in Resource/NotResource (iam-simulate 0.1.173 matches `${aws:PrincipalAccount}` there as
 *   literal text; AWS substitutes them, reference_policies_variables). Variables in condition values agree.
 * - An IPv6 request address against IPv4-only `NotIpAddress` blocks (iam-simulate 0.1.173: the condition does not
 *   hold; we: the address is in none of the blocks, so it holds). Requests here use IPv4 addresses.
 * - Multivalued request keys without a set qualifier, and set qualifiers on single-valued keys.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuthorizationDecision,
  createAuthorizer,
  createPolicySet,
  type Principal,
  type ResourcePolicyKind,
} from '../src/iam/index.ts';

const ACCOUNT = '000000000000';
const ROLE = 'Worker';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/w1`;
const OTHER_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Other`;
const Q1 = `arn:aws:sqs:us-east-1:${ACCOUNT}:jobs`;
const Q2 = `arn:aws:sqs:us-east-1:${ACCOUNT}:other`;
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:alarms`;
const ALARM = `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:orderflow-dlq`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const TARGET_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Target`;

const actionValues = [
  'sqs:SendMessage',
  'sqs:ReceiveMessage',
  'sqs:*',
  'sqs:Send*',
  'sqs:?eceiveMessage',
  'SQS:sendmessage',
  '*',
  'sns:Publish',
  'sns:*',
];
const resourceValues = [
  Q1,
  Q2,
  TOPIC,
  `arn:aws:sqs:us-east-1:${ACCOUNT}:*`,
  '*',
  `arn:aws:sqs:*:${ACCOUNT}:jo?s`,
  'arn:aws:sqs:*',
  `arn:aws:sns:us-east-1:${ACCOUNT}:a*`,
  `arn:aws:sqs:us-east-1:${ACCOUNT}:Jobs`,
];
/** NotResource values with all six ARN components (see the differences above). */
function fullArns(resources: string[]): string[] {
  const full = resources.filter((resource) => resource !== 'arn:aws:sqs:*');
  return full.length > 0 ? full : [Q2];
}
const principalValues: unknown[] = [
  '*',
  { AWS: '*' },
  { AWS: ROLE_ARN },
  { AWS: SESSION_ARN },
  { AWS: OTHER_ROLE_ARN },
  { AWS: ACCOUNT },
  { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  { AWS: '111111111111' },
  { Service: 'cloudwatch.amazonaws.com' },
  { Service: 'events.amazonaws.com' },
  { Service: 'pipes.amazonaws.com' },
  { AWS: ROLE_ARN, Service: 'cloudwatch.amazonaws.com' },
];

const clause = fc.oneof(
  fc.record({
    operator: fc.constantFrom('Bool', 'BoolIfExists'),
    key: fc.constant('aws:SecureTransport'),
    values: fc.subarray(['true', 'false'], { minLength: 1 }),
  }),
  fc.record({
    operator: fc.constantFrom(
      'StringEquals',
      'StringNotEquals',
      'StringLike',
      'StringNotLike',
      'StringEqualsIgnoreCase',
      'StringEqualsIfExists',
      'StringNotEqualsIfExists',
    ),
    key: fc.constant('aws:SourceAccount'),
    values: fc.subarray([ACCOUNT, '111111111111', '0000*', '${aws:PrincipalAccount}'], { minLength: 1 }),
  }),
  fc.record({
    operator: fc.constantFrom('IpAddress', 'NotIpAddress', 'IpAddressIfExists'),
    key: fc.constant('aws:SourceIp'),
    values: fc.subarray(['127.0.0.0/8', '10.0.0.0/8', '192.168.1.7', '::1/128'], { minLength: 1 }),
  }),
  fc.record({
    operator: fc.constantFrom(
      'ForAnyValue:StringEquals',
      'ForAllValues:StringEquals',
      'ForAnyValue:StringNotEquals',
      'ForAllValues:StringNotEquals',
      'ForAllValues:StringLike',
    ),
    key: fc.constant('aws:CalledVia'),
    values: fc.subarray(['athena.amazonaws.com', 'cloudformation.amazonaws.com', '*.amazonaws.com'], { minLength: 1 }),
  }),
  fc.record({
    operator: fc.constantFrom('ArnLike', 'ArnNotLike', 'ArnEquals', 'ArnNotEquals', 'ArnLikeIfExists', 'StringLike'),
    key: fc.constant('aws:SourceArn'),
    values: fc.subarray([ALARM, `arn:aws:cloudwatch:*:${ACCOUNT}:alarm:*`, 'arn:aws:sns:*:*:*'], { minLength: 1 }),
  }),
  fc.record({
    operator: fc.constantFrom('ArnLike', 'ArnEquals', 'StringEquals', 'ArnNotLike'),
    key: fc.constant('aws:PrincipalArn'),
    values: fc.subarray([ROLE_ARN, `arn:aws:iam::${ACCOUNT}:role/*`, OTHER_ROLE_ARN], { minLength: 1 }),
  }),
  fc.record({
    operator: fc.constant('Null'),
    key: fc.constantFrom('aws:SourceArn', 'aws:SourceAccount'),
    values: fc.constantFrom<string[]>(['true'], ['false']),
  }),
);

const condition = fc.option(
  fc.array(clause, { minLength: 1, maxLength: 2 }).map((clauses) => {
    const block: Record<string, Record<string, string[]>> = {};
    for (const { operator, key, values } of clauses) block[operator] = { ...(block[operator] ?? {}), [key]: values };
    return block;
  }),
  { nil: undefined, freq: 2 },
);

interface World {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly principals: readonly string[];
  readonly requests: readonly { action: string; resource: string; kind: ResourcePolicyKind }[];
}

const statement = (world: World, withPrincipal: boolean, trust: boolean) =>
  fc
    .record({
      // Allows are rarer to come out of random statements: weigh towards them so every outcome is well covered.
      effect: fc.oneof({ arbitrary: fc.constant('Allow'), weight: 3 }, { arbitrary: fc.constant('Deny'), weight: 1 }),
      notAction: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
      actions: fc.subarray([...world.actions], { minLength: 1, maxLength: 2 }),
      notResource: withPrincipal
        ? fc.constant(false)
        : fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
      resources: fc.subarray([...world.resources], { minLength: 1, maxLength: 2 }),
      principal: fc.constantFrom(...principalValues),
      condition,
    })
    .map(({ effect, notAction, actions, notResource, resources, principal, condition: block }) => ({
      Effect: effect,
      [notAction ? 'NotAction' : 'Action']: actions,
      // A trust policy has no Resource.
      ...(trust ? {} : { [notResource ? 'NotResource' : 'Resource']: notResource ? fullArns(resources) : resources }),
      ...(withPrincipal ? { Principal: principal } : {}),
      ...(block ? { Condition: block } : {}),
    }));

/** Queues and a topic: resource-based policies that allow on their own within the account. */
const QUEUES: World = {
  actions: actionValues,
  resources: resourceValues,
  principals: ['role', 'cloudwatch.amazonaws.com', 'events.amazonaws.com'],
  requests: [
    { action: 'sqs:SendMessage', resource: Q1, kind: 'resource' },
    { action: 'sqs:ReceiveMessage', resource: Q1, kind: 'resource' },
    { action: 'sqs:SendMessage', resource: Q2, kind: 'resource' },
    { action: 'sns:Publish', resource: TOPIC, kind: 'resource' },
  ],
};

/** A KMS key and a role: the key policy (trust policy) must allow, directly or through the account. */
const KEYS_AND_TRUST: World = {
  actions: ['kms:Decrypt', 'kms:GenerateDataKey*', 'kms:*', 'sts:AssumeRole', 'sts:*', '*'],
  resources: ['*', KEY, `arn:aws:kms:us-east-1:${ACCOUNT}:key/*`, TARGET_ROLE_ARN],
  principals: ['role', 'cloudwatch.amazonaws.com', 'pipes.amazonaws.com'],
  requests: [
    { action: 'kms:Decrypt', resource: KEY, kind: 'key' },
    { action: 'kms:GenerateDataKey', resource: KEY, kind: 'key' },
    { action: 'kms:Encrypt', resource: KEY, kind: 'key' },
    { action: 'sts:AssumeRole', resource: TARGET_ROLE_ARN, kind: 'trust' },
  ],
};

const scenario = (world: World) =>
  fc.constantFrom(...world.requests).chain((request) =>
    fc.record({
      identity: fc.array(statement(world, false, false), { minLength: 0, maxLength: 3 }),
      // Every role has a trust policy and every key a key policy; other resources may have no policy.
      resource: (() => {
        const statements = fc.array(statement(world, true, request.kind === 'trust'), { minLength: 1, maxLength: 3 });
        return request.kind === 'resource' ? fc.option(statements, { nil: undefined }) : statements;
      })(),
      principal: fc.constantFrom(...world.principals),
      request: fc.constant(request),
      secure: fc.constantFrom('true', 'false', undefined),
      sourceAccount: fc.constantFrom(ACCOUNT, '111111111111', undefined),
      sourceArn: fc.constantFrom(ALARM, `arn:aws:sns:us-east-1:${ACCOUNT}:x`, undefined),
      sourceIp: fc.constantFrom('127.0.0.1', '10.1.2.3', '192.168.1.7', undefined),
      calledVia: fc.constantFrom(
        undefined,
        [] as string[],
        ['athena.amazonaws.com'],
        ['athena.amazonaws.com', 'cloudformation.amazonaws.com'],
        ['glue.amazonaws.com'],
      ),
    }),
  );

type Scenario = ReturnType<typeof scenario> extends fc.Arbitrary<infer T> ? T : never;

/** The request's own context keys, the same for both evaluators. */
function requestContext(s: Scenario): Record<string, string | string[]> {
  return {
    ...(s.secure === undefined ? {} : { 'aws:SecureTransport': s.secure }),
    ...(s.sourceAccount === undefined ? {} : { 'aws:SourceAccount': s.sourceAccount }),
    ...(s.sourceArn === undefined ? {} : { 'aws:SourceArn': s.sourceArn }),
    ...(s.sourceIp === undefined ? {} : { 'aws:SourceIp': s.sourceIp }),
    ...(s.calledVia === undefined ? {} : { 'aws:CalledVia': s.calledVia }),
  };
}

function outcome(decision: AuthorizationDecision): string {
  if (decision.allowed) return 'Allowed';
  return decision.reason.startsWith('explicit-deny') ? 'ExplicitlyDenied' : 'ImplicitlyDenied';
}

async function ours(s: Scenario): Promise<string> {
  const set = await createPolicySet({
    account: ACCOUNT,
    region: 'us-east-1',
    roles: [
      {
        logicalId: ROLE,
        name: ROLE,
        policies:
          s.identity.length > 0
            ? [{ name: 'identity', document: { Version: '2012-10-17', Statement: s.identity } }]
            : [],
      },
      // The role to assume; its trust policy is the resource policy of sts:AssumeRole.
      {
        logicalId: 'Target',
        name: 'Target',
        policies: [],
        ...(s.resource && s.request.kind === 'trust'
          ? { trustPolicy: { name: 'trust', document: { Version: '2012-10-17', Statement: s.resource } } }
          : {}),
      },
    ],
    resourcePolicies:
      s.resource && s.request.kind !== 'trust'
        ? [
            {
              name: 'resource',
              resourceArn: s.request.resource,
              kind: s.request.kind,
              document: { Version: '2012-10-17', Statement: s.resource },
            },
          ]
        : [],
  });
  const principal: Principal =
    s.principal === 'role'
      ? { kind: 'role', roleArn: ROLE_ARN, sessionName: 'w1', logicalId: ROLE }
      : { kind: 'service', service: s.principal };
  const { action, resource } = s.request;
  return outcome(createAuthorizer(set).authorize({ principal, action, resource, context: requestContext(s) }));
}

async function theirs(s: Scenario): Promise<string | undefined> {
  const role = s.principal === 'role';
  // iam-simulate does not derive principal keys yet (its README): pass the ones our evaluator derives.
  const derived: Record<string, string> = role
    ? { 'aws:PrincipalArn': ROLE_ARN, 'aws:PrincipalAccount': ACCOUNT, 'aws:PrincipalIsAWSService': 'false' }
    : { 'aws:PrincipalServiceName': s.principal, 'aws:PrincipalIsAWSService': 'true' };
  const simulation: Simulation = {
    request: {
      principal: role ? SESSION_ARN : s.principal,
      action: s.request.action,
      resource: { resource: s.request.resource, accountId: ACCOUNT },
      contextVariables: { ...derived, ...requestContext(s) },
    },
    identityPolicies:
      role && s.identity.length > 0
        ? [{ name: 'identity', policy: { Version: '2012-10-17', Statement: s.identity } }]
        : [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(s.resource ? { resourcePolicy: { Version: '2012-10-17', Statement: s.resource } } : {}),
  };
  const result = await runSimulation(simulation, {});
  return result.resultType === 'error' ? undefined : result.overallResult;
}

async function agree(world: World, numRuns: number): Promise<void> {
  let compared = 0;
  let runs = 0;
  const outcomes = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(scenario(world), async (s) => {
      runs++;
      const expected = await theirs(s);
      if (expected === undefined) return;
      compared++;
      const actual = await ours(s);
      outcomes.set(actual, (outcomes.get(actual) ?? 0) + 1);
      expect(actual).toBe(expected);
    }),
    { numRuns, seed: Number(process.env.IAM_DIFF_SEED ?? 20261207) },
  );
  // The generators must stay within what iam-simulate accepts, and exercise every outcome.
  expect(compared).toBeGreaterThanOrEqual(runs * 0.9);
  for (const result of ['Allowed', 'ExplicitlyDenied', 'ImplicitlyDenied'])
    expect(outcomes.get(result) ?? 0, `${result} in ${JSON.stringify(Object.fromEntries(outcomes))}`).toBeGreaterThan(
      runs / 25,
    );
}

describe('differential: the local evaluator against @cloud-copilot/iam-simulate', () => {
  it('agrees on allow, explicit deny and implicit deny for queues and topics', async () => {
    await agree(QUEUES, 1000);
  });

  it('agrees on KMS key policies and role trust policies, which must allow', async () => {
    await agree(KEYS_AND_TRUST, 600);
  });
});
