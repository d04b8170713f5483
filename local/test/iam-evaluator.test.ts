// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are ${...} inside plain strings
import { describe, expect, it } from 'vitest';
import {
  AuthorizationRequestError,
  createAuthorizer,
  createPolicySet,
  describeUnsupported,
  PolicyDocumentError,
  type PolicySet,
  type Principal,
  type ResourcePolicySource,
  rolePrincipal,
} from '../src/iam/index.ts';

const ACCOUNT = '000000000000';
const ROLE = 'WorkerRole';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
const SESSION = 'worker';
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/${SESSION}`;
const QUEUE = `arn:aws:sqs:us-east-1:${ACCOUNT}:jobs`;
const OTHER_QUEUE = `arn:aws:sqs:us-east-1:${ACCOUNT}:other`;
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:alarms`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/TopicKey`;
const ALARM = `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:orderflow-dlq`;
const ME: Principal = { kind: 'role', roleArn: ROLE_ARN, sessionName: SESSION, logicalId: ROLE };
const CLOUDWATCH: Principal = { kind: 'service', service: 'cloudwatch.amazonaws.com' };

type Statement = Record<string, unknown>;
const doc = (...Statement: Statement[]) => ({ Version: '2012-10-17', Statement });
const allow = (Action: unknown, Resource: unknown, extra: Statement = {}) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...extra,
});
const deny = (Action: unknown, Resource: unknown, extra: Statement = {}) => ({
  Effect: 'Deny',
  Action,
  Resource,
  ...extra,
});

async function setOf(
  identity: Statement[] = [],
  resources: Record<string, Statement[] | { kind: ResourcePolicySource['kind']; statements: Statement[] }> = {},
  trust?: Statement[],
): Promise<PolicySet> {
  return createPolicySet({
    account: ACCOUNT,
    region: 'us-east-1',
    roles: [
      {
        logicalId: ROLE,
        name: ROLE,
        policies: identity.length > 0 ? [{ name: 'identity', document: doc(...identity) }] : [],
        ...(trust ? { trustPolicy: { name: 'trust', document: doc(...trust) } } : {}),
      },
    ],
    resourcePolicies: Object.entries(resources).map(([resourceArn, value]) => {
      const { kind, statements } = Array.isArray(value) ? { kind: 'resource' as const, statements: value } : value;
      return { name: `policy on ${resourceArn}`, resourceArn, kind, document: doc(...statements) };
    }),
  });
}

async function decide(
  set: PolicySet | Promise<PolicySet>,
  action: string,
  resource: string,
  context: Record<string, string | boolean> = {},
  principal: Principal = ME,
) {
  return createAuthorizer(await set).authorize({ principal, action, resource, context });
}

describe('evaluation logic: one account, a role session', () => {
  it('denies by default, in AWS words', async () => {
    const decision = await decide(setOf(), 'sqs:SendMessage', QUEUE);
    expect(decision).toEqual({
      allowed: false,
      reason: 'no-identity-allow',
      message: `User: ${SESSION_ARN} is not authorized to perform: sqs:SendMessage on resource: ${QUEUE} because no identity-based policy allows the sqs:SendMessage action`,
    });
  });

  it('leaves "on resource" out for actions without resource-level permissions', async () => {
    const decision = await decide(setOf(), 'cloudwatch:GetMetricData', '*');
    expect(decision.message).toBe(
      `User: ${SESSION_ARN} is not authorized to perform: cloudwatch:GetMetricData because no identity-based policy allows the cloudwatch:GetMetricData action`,
    );
  });

  it('allows what an identity-based policy allows, and nothing else', async () => {
    const set = setOf([allow('sqs:SendMessage', QUEUE)]);
    expect(await decide(set, 'sqs:SendMessage', QUEUE)).toMatchObject({
      allowed: true,
      reason: 'allowed',
      message: '',
      policy: 'identity: Statement[0]',
    });
    expect((await decide(set, 'sqs:SendMessage', OTHER_QUEUE)).allowed).toBe(false);
    expect((await decide(set, 'sqs:DeleteMessage', QUEUE)).allowed).toBe(false);
  });

  it('an explicit deny in an identity-based policy overrides any allow', async () => {
    const set = setOf([allow('sqs:*', '*'), deny('sqs:SendMessage', QUEUE, { Sid: 'NoJobs' })], {
      [QUEUE]: [allow('sqs:SendMessage', QUEUE, { Principal: { AWS: ROLE_ARN } })],
    });
    expect(await decide(set, 'sqs:SendMessage', QUEUE)).toEqual({
      allowed: false,
      reason: 'explicit-deny-identity',
      message: `User: ${SESSION_ARN} is not authorized to perform: sqs:SendMessage on resource: ${QUEUE} with an explicit deny in an identity-based policy`,
      policy: 'identity: Statement[1] (NoJobs)',
    });
    expect((await decide(set, 'sqs:SendMessage', OTHER_QUEUE)).allowed).toBe(true);
  });

  it('an explicit deny in a resource-based policy overrides an identity-based allow', async () => {
    const set = setOf([allow('sqs:SendMessage', QUEUE)], {
      [QUEUE]: [
        deny('sqs:*', QUEUE, { Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ],
    });
    const plain = await decide(set, 'sqs:SendMessage', QUEUE, { 'aws:SecureTransport': false });
    expect(plain.reason).toBe('explicit-deny-resource');
    expect(plain.message).toBe(
      `User: ${SESSION_ARN} is not authorized to perform: sqs:SendMessage on resource: ${QUEUE} with an explicit deny in a resource-based policy`,
    );
    expect((await decide(set, 'sqs:SendMessage', QUEUE, { 'aws:SecureTransport': true })).allowed).toBe(true);
  });

  it('within one account a resource-based policy naming the role, the session or * allows on its own', async () => {
    for (const Principal of [
      { AWS: ROLE_ARN },
      { AWS: SESSION_ARN },
      { AWS: [OTHER_QUEUE, ROLE_ARN] },
      '*',
      { AWS: '*' },
    ]) {
      const set = setOf([], { [QUEUE]: [allow('sqs:SendMessage', QUEUE, { Principal })] });
      expect(await decide(set, 'sqs:SendMessage', QUEUE), JSON.stringify(Principal)).toMatchObject({ allowed: true });
    }
    const otherRole = setOf([], {
      [QUEUE]: [allow('sqs:SendMessage', QUEUE, { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Other` } })],
    });
    expect((await decide(otherRole, 'sqs:SendMessage', QUEUE)).reason).toBe('no-identity-allow');
  });

  it('a resource-based policy naming the account only delegates: the identity-based policy must allow too', async () => {
    for (const account of [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`]) {
      const resourceOnly = setOf([], { [QUEUE]: [allow('sqs:SendMessage', QUEUE, { Principal: { AWS: account } })] });
      expect((await decide(resourceOnly, 'sqs:SendMessage', QUEUE)).reason).toBe('no-identity-allow');
      const both = setOf([allow('sqs:SendMessage', QUEUE)], {
        [QUEUE]: [allow('sqs:SendMessage', QUEUE, { Principal: { AWS: account } })],
      });
      expect((await decide(both, 'sqs:SendMessage', QUEUE)).allowed).toBe(true);
    }
  });

  it('a Deny naming the account applies to every principal of the account', async () => {
    const set = setOf([allow('sqs:SendMessage', QUEUE)], {
      [QUEUE]: [deny('sqs:SendMessage', QUEUE, { Principal: { AWS: ACCOUNT } })],
    });
    expect((await decide(set, 'sqs:SendMessage', QUEUE)).reason).toBe('explicit-deny-resource');
  });

  it('NotAction and NotResource', async () => {
    const set = setOf([
      allow('*', '*'),
      { Effect: 'Deny', NotAction: ['sqs:ReceiveMessage'], NotResource: [OTHER_QUEUE] },
    ]);
    expect((await decide(set, 'sqs:SendMessage', QUEUE)).reason).toBe('explicit-deny-identity');
    expect((await decide(set, 'sqs:ReceiveMessage', QUEUE)).allowed).toBe(true);
    expect((await decide(set, 'sqs:SendMessage', OTHER_QUEUE)).allowed).toBe(true);
  });

  it('NotPrincipal in a Deny spares only a request whose session, role and account are all listed', async () => {
    const notPrincipal = (AWS: string[]) =>
      setOf([allow('sqs:SendMessage', QUEUE)], {
        [QUEUE]: [{ Effect: 'Deny', NotPrincipal: { AWS }, Action: 'sqs:*', Resource: QUEUE }],
      });
    expect((await decide(notPrincipal([SESSION_ARN, ROLE_ARN, ACCOUNT]), 'sqs:SendMessage', QUEUE)).allowed).toBe(true);
    expect((await decide(notPrincipal([ROLE_ARN]), 'sqs:SendMessage', QUEUE)).reason).toBe('explicit-deny-resource');
    expect((await decide(notPrincipal([SESSION_ARN, ROLE_ARN]), 'sqs:SendMessage', QUEUE)).reason).toBe(
      'explicit-deny-resource',
    );
  });

  it('derives aws:PrincipalArn (the role ARN) and ignores a value the caller passes', async () => {
    const set = setOf([allow('sqs:SendMessage', '*', { Condition: { ArnEquals: { 'aws:PrincipalArn': ROLE_ARN } } })]);
    expect((await decide(set, 'sqs:SendMessage', QUEUE)).allowed).toBe(true);
    const other = setOf([
      allow('sqs:SendMessage', '*', {
        Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/X` } },
      }),
    ]);
    const forged = await decide(other, 'sqs:SendMessage', QUEUE, {
      'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/X`,
    });
    expect(forged.allowed).toBe(false);
  });

  it('substitutes policy variables in Resource', async () => {
    const set = setOf([allow('s3:GetObject', 'arn:aws:s3:::bucket/${aws:PrincipalAccount}/*')]);
    expect((await decide(set, 's3:GetObject', `arn:aws:s3:::bucket/${ACCOUNT}/a.json`)).allowed).toBe(true);
    expect((await decide(set, 's3:GetObject', 'arn:aws:s3:::bucket/111111111111/a.json')).allowed).toBe(false);
    const old = createPolicySet({
      account: ACCOUNT,
      region: 'us-east-1',
      roles: [
        {
          logicalId: ROLE,
          name: ROLE,
          policies: [
            {
              name: 'v2008',
              document: {
                Version: '2008-10-17',
                Statement: [allow('s3:GetObject', 'arn:aws:s3:::bucket/${aws:PrincipalAccount}/*')],
              },
            },
          ],
        },
      ],
      resourcePolicies: [],
    });
    expect((await decide(old, 's3:GetObject', `arn:aws:s3:::bucket/${ACCOUNT}/a.json`)).allowed).toBe(false);
    expect((await decide(old, 's3:GetObject', 'arn:aws:s3:::bucket/${aws:PrincipalAccount}/a.json')).allowed).toBe(
      true,
    );
  });

  it("an S3 object is covered by its bucket's policy, a DynamoDB index by its table's", async () => {
    const table = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Orders`;
    const set = setOf([], {
      'arn:aws:s3:::bucket': [allow('s3:GetObject', 'arn:aws:s3:::bucket/*', { Principal: { AWS: ROLE_ARN } })],
      [table]: [allow('dynamodb:Query', `${table}/index/*`, { Principal: { AWS: ROLE_ARN } })],
    });
    expect((await decide(set, 's3:GetObject', 'arn:aws:s3:::bucket/a/b')).allowed).toBe(true);
    expect((await decide(set, 's3:GetObject', 'arn:aws:s3:::other/a')).allowed).toBe(false);
    expect((await decide(set, 'dynamodb:Query', `${table}/index/byStatus`)).allowed).toBe(true);
  });

  it('reads the clock for aws:CurrentTime', async () => {
    const set = await setOf([
      allow('sqs:SendMessage', QUEUE, { Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } } }),
    ]);
    const before = createAuthorizer(set, { now: () => new Date('2029-12-31T00:00:00Z') });
    const after = createAuthorizer(set, { now: () => new Date('2030-01-02T00:00:00Z') });
    const request = { principal: ME, action: 'sqs:SendMessage', resource: QUEUE };
    expect(before.authorize(request).allowed).toBe(true);
    expect(after.authorize(request).allowed).toBe(false);
  });
});

describe('service principals', () => {
  const topicPolicy = (condition?: Statement) => ({
    [TOPIC]: [
      deny('sns:Publish', TOPIC, { Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      allow('sns:Publish', TOPIC, {
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        ...(condition ? { Condition: condition } : {}),
      }),
    ],
  });

  it('are allowed only by a resource-based policy naming them', async () => {
    const conditions = {
      ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:*` },
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
    };
    const set = setOf([allow('*', '*')], topicPolicy(conditions));
    const ok = { 'aws:SecureTransport': true, 'aws:SourceArn': ALARM, 'aws:SourceAccount': ACCOUNT };
    expect((await decide(set, 'sns:Publish', TOPIC, ok, CLOUDWATCH)).allowed).toBe(true);
    expect(
      (await decide(set, 'sns:Publish', TOPIC, { ...ok, 'aws:SourceAccount': '111111111111' }, CLOUDWATCH)).reason,
    ).toBe('no-resource-allow');
    expect((await decide(set, 'sns:Publish', TOPIC, { ...ok, 'aws:SecureTransport': false }, CLOUDWATCH)).reason).toBe(
      'explicit-deny-resource',
    );
    const other = await decide(set, 'sns:Publish', TOPIC, ok, { kind: 'service', service: 'events.amazonaws.com' });
    expect(other).toEqual({
      allowed: false,
      reason: 'no-resource-allow',
      message: `User: events.amazonaws.com is not authorized to perform: sns:Publish on resource: ${TOPIC} because no resource-based policy allows the sns:Publish action`,
    });
  });

  it('a role identity policy allowing everything does not make a service allowed', async () => {
    const set = setOf([allow('*', '*')], {
      [TOPIC]: [
        deny('sns:Publish', TOPIC, { Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ],
    });
    expect((await decide(set, 'sns:Publish', TOPIC, { 'aws:SecureTransport': true }, CLOUDWATCH)).reason).toBe(
      'no-resource-allow',
    );
    expect((await decide(set, 'sns:Publish', TOPIC, { 'aws:SecureTransport': true })).allowed).toBe(true);
  });
});

describe('KMS key policies and role trust policies must allow', () => {
  const keyPolicy = (...statements: Statement[]) => ({ [KEY]: { kind: 'key' as const, statements } });
  const root = { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } };

  it('an identity-based allow is not enough without the key policy', async () => {
    const set = setOf(
      [allow('kms:*', '*')],
      keyPolicy(allow('kms:Decrypt', '*', { Principal: { Service: 'cloudwatch.amazonaws.com' } })),
    );
    expect((await decide(set, 'kms:Decrypt', KEY)).reason).toBe('no-resource-allow');
    const unknownKey = await decide(set, 'kms:Decrypt', `arn:aws:kms:us-east-1:${ACCOUNT}:key/elsewhere`);
    expect(unknownKey.reason).toBe('no-resource-allow');
  });

  it('a key policy allowing the account enables IAM policies, which must then allow', async () => {
    const withIdentity = setOf([allow('kms:Decrypt', KEY)], keyPolicy(allow('kms:*', '*', root)));
    expect((await decide(withIdentity, 'kms:Decrypt', KEY)).allowed).toBe(true);
    expect((await decide(withIdentity, 'kms:Encrypt', KEY)).reason).toBe('no-identity-allow');
  });

  it('a key policy naming the role or the service allows on its own', async () => {
    const set = setOf(
      [],
      keyPolicy(
        allow('kms:Decrypt', '*', { Principal: { AWS: ROLE_ARN } }),
        allow(['kms:Decrypt', 'kms:GenerateDataKey*'], '*', { Principal: { Service: 'cloudwatch.amazonaws.com' } }),
      ),
    );
    expect((await decide(set, 'kms:Decrypt', KEY)).allowed).toBe(true);
    expect((await decide(set, 'kms:GenerateDataKey', KEY, {}, CLOUDWATCH)).allowed).toBe(true);
    expect((await decide(set, 'kms:Encrypt', KEY, {}, CLOUDWATCH)).reason).toBe('no-resource-allow');
  });

  it('kms:CallerAccount is the caller role account', async () => {
    const set = setOf(
      [allow('kms:Decrypt', KEY)],
      keyPolicy(allow('kms:Decrypt', '*', { ...root, Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT } } })),
    );
    expect((await decide(set, 'kms:Decrypt', KEY)).allowed).toBe(true);
  });

  it('only a trust policy lets a principal assume a role', async () => {
    const trust = [
      {
        Effect: 'Allow',
        Principal: { Service: 'pipes.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ];
    const set = await setOf([allow('sts:AssumeRole', '*')], {}, trust);
    const pipes: Principal = { kind: 'service', service: 'pipes.amazonaws.com' };
    const assume = (principal: Principal, context = {}) =>
      createAuthorizer(set).authorize({ principal, action: 'sts:AssumeRole', resource: ROLE_ARN, context });
    expect(assume(pipes, { 'aws:SourceAccount': ACCOUNT }).allowed).toBe(true);
    expect(assume(pipes, { 'aws:SourceAccount': '111111111111' }).reason).toBe('no-resource-allow');
    expect(assume({ kind: 'service', service: 'lambda.amazonaws.com' }).reason).toBe('no-resource-allow');
    expect(assume(ME).reason).toBe('no-resource-allow');
    expect(set.roles.get(ROLE)?.trustedServices).toEqual(['pipes.amazonaws.com']);
    // The trust policy is not a resource policy of the role for other actions.
    expect(
      createAuthorizer(set).authorize({ principal: pipes, action: 'iam:GetRole', resource: ROLE_ARN }).reason,
    ).toBe('no-resource-allow');
  });
});

describe('statements the evaluator cannot evaluate', () => {
  it('an Allow never allows; a Deny denies whenever what can be read matches; both are listed', async () => {
    const set = await setOf([
      allow('sqs:SendMessage', QUEUE, { Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } }),
      allow('sqs:ReceiveMessage', '*'),
      deny('sqs:ReceiveMessage', OTHER_QUEUE, { Condition: { StringEqualsSometimes: { 'aws:SourceArn': 'x' } } }),
    ]);
    const authorizer = createAuthorizer(set);
    const run = (action: string, resource: string) => authorizer.authorize({ principal: ME, action, resource });
    expect(run('sqs:SendMessage', QUEUE).reason).toBe('no-identity-allow');
    expect(run('sqs:ReceiveMessage', QUEUE).allowed).toBe(true);
    expect(run('sqs:ReceiveMessage', OTHER_QUEUE).reason).toBe('explicit-deny-identity');
    expect(describeUnsupported(set.unsupported)).toEqual([
      'identity: Statement[0]: Allow never allows: condition key aws:principalorgid is an AWS global key the local runtime does not supply',
      'identity: Statement[2]: Deny denies whenever the parts that can be read match: unknown condition operator StringEqualsSometimes',
    ]);
  });

  it('warns about actions AWS does not have', async () => {
    const set = await setOf([allow(['sqs:SendMesage', 'sqx:Get*', 'sqs:Zap*', 'sqs:Send*'], '*')]);
    expect(set.warnings).toEqual([
      'identity: action sqs:SendMesage does not exist in sqs',
      'identity: action sqx:Get* names service sqx, which AWS does not have',
      'identity: action pattern sqs:Zap* matches no action of sqs',
    ]);
  });
});

describe('malformed policies are refused as IAM refuses them', () => {
  const bad = async (statement: Statement) => setOf([statement]);
  it('names the policy, the statement and what is wrong', async () => {
    await expect(bad({ Action: 'sqs:*', Resource: '*' })).rejects.toThrow(
      'identity: Statement[0]: Effect must be "Allow" or "Deny", got undefined',
    );
    await expect(bad({ Effect: 'Allow', Action: 'sqs:*', NotAction: 'sns:*', Resource: '*' })).rejects.toThrow(
      /must have exactly one of Action and NotAction/,
    );
    await expect(bad({ Effect: 'Allow', Action: 'sqs:*' })).rejects.toThrow(/exactly one of Resource and NotResource/);
    await expect(bad({ Effect: 'Allow', Action: 'sendmessage', Resource: '*' })).rejects.toThrow(
      /'sendmessage' is not of the form service:action/,
    );
    await expect(bad({ Effect: 'Allow', Action: 'sqs:*', Resource: '*', Principal: '*' })).rejects.toThrow(
      /an identity-based policy cannot have Principal/,
    );
    await expect(bad({ Effect: 'Allow', Action: 'sqs:*', Resource: '*', Conditions: {} })).rejects.toThrow(
      /unknown element Conditions/,
    );
    await expect(bad({ Effect: 'Allow', Action: [], Resource: '*' })).rejects.toThrow(PolicyDocumentError);
    await expect(setOf([], { [QUEUE]: [allow('sqs:*', QUEUE)] })).rejects.toThrow(
      /exactly one of Principal and NotPrincipal/,
    );
    await expect(
      setOf([], {}, [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: '*', Resource: '*' }]),
    ).rejects.toThrow(/a trust policy has no Resource/);
    await expect(
      createPolicySet({
        account: ACCOUNT,
        region: 'us-east-1',
        roles: [{ logicalId: 'R', name: 'R', policies: [{ name: 'p', document: { Statement: [], Versoin: 1 } }] }],
        resourcePolicies: [],
      }),
    ).rejects.toThrow('p: unknown policy element Versoin');
  });
});

describe('requests', () => {
  it('the admin is allowed', async () => {
    expect(await decide(setOf(), 'sqs:DeleteQueue', QUEUE, {}, { kind: 'admin' })).toEqual({
      allowed: true,
      reason: 'admin',
      message: '',
    });
  });

  it('a bad request is an error naming what is wrong', async () => {
    const authorizer = createAuthorizer(await setOf());
    const run = (principal: Principal, action = 'sqs:SendMessage', resource = QUEUE) =>
      authorizer.authorize({ principal, action, resource });
    expect(() => run({ ...ME, logicalId: 'Nope' } as Principal)).toThrow(
      new AuthorizationRequestError(`principal role Nope is not a role of the template (roles: ${ROLE})`),
    );
    expect(() => run({ ...ME, roleArn: 'arn:aws:iam::000000000000:role/Else' } as Principal)).toThrow(
      /is not the ARN of role WorkerRole/,
    );
    expect(() => run({ ...ME, sessionName: 'a b' } as Principal)).toThrow(/role session name/);
    expect(() => run({ kind: 'service', service: 'cloudwatch' })).toThrow(/a service principal is a name like/);
    expect(() => run(ME, 'SendMessage')).toThrow(/action must be service:Action/);
    expect(() => run(ME, 'sqs:SendMessage', '')).toThrow(/resource must be an ARN or \*/);
  });

  it('rolePrincipal builds the principal of a role session', async () => {
    const set = await setOf();
    expect(rolePrincipal(set, ROLE, SESSION)).toEqual(ME);
    expect(() => rolePrincipal(set, 'Nope', SESSION)).toThrow(/Nope is not a role of the template/);
  });
});

describe('the decision cache', () => {
  it('keys on the context keys some statement reads, and only those', async () => {
    const set = await setOf([allow('sqs:SendMessage', QUEUE)], {
      [QUEUE]: [deny('sqs:*', QUEUE, { Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
    });
    const authorizer = createAuthorizer(set);
    const ask = (context: Record<string, string | boolean>) =>
      authorizer.authorize({ principal: ME, action: 'sqs:SendMessage', resource: QUEUE, context });
    expect(ask({ 'aws:SecureTransport': true }).allowed).toBe(true);
    expect(ask({ 'aws:SecureTransport': true, 'aws:UserAgent': 'a' }).allowed).toBe(true);
    expect(ask({ 'AWS:SecureTransport': true, 'aws:UserAgent': 'b' }).allowed).toBe(true);
    expect(authorizer.cacheStats).toEqual({ hits: 2, misses: 1, size: 1 });
    expect(ask({ 'aws:SecureTransport': false }).allowed).toBe(false);
    expect(ask({}).allowed).toBe(true);
    expect(authorizer.cacheStats).toEqual({ hits: 2, misses: 3, size: 3 });
  });

  it('remembers a frozen context by identity, and never a context that can change', async () => {
    const set = await setOf([allow('sqs:SendMessage', QUEUE)], {
      [QUEUE]: [deny('sqs:*', QUEUE, { Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
    });
    const authorizer = createAuthorizer(set);
    const ask = (context: Record<string, unknown>) =>
      authorizer.authorize({ principal: ME, action: 'sqs:SendMessage', resource: QUEUE, context: context as never })
        .allowed;
    const secure = Object.freeze({ 'aws:SecureTransport': true });
    expect(ask(secure)).toBe(true);
    expect(ask(secure)).toBe(true);
    expect(ask(Object.freeze({ 'aws:SecureTransport': false }))).toBe(false);
    // A mutable context, and a frozen one holding a mutable value, are read again at every request.
    const mutable: Record<string, unknown> = { 'aws:SecureTransport': true };
    expect(ask(mutable)).toBe(true);
    mutable['aws:SecureTransport'] = false;
    expect(ask(mutable)).toBe(false);
    const values = [true];
    const shallow = Object.freeze({ 'aws:SecureTransport': values });
    expect(ask(shallow)).toBe(true);
    values[0] = false;
    expect(ask(shallow)).toBe(false);
  });

  it('gives what evaluation gives, over many requests', async () => {
    const set = await setOf(
      [
        allow('sqs:*', '*', { Condition: { StringEqualsIfExists: { 'aws:SourceAccount': ACCOUNT } } }),
        deny('sqs:Delete*', OTHER_QUEUE),
      ],
      { [QUEUE]: [deny('sqs:*', QUEUE, { Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    );
    const cached = createAuthorizer(set, { cacheSize: 7 });
    const fresh = createAuthorizer(set);
    let compared = 0;
    for (const action of ['sqs:SendMessage', 'sqs:DeleteMessage', 'sns:Publish'])
      for (const resource of [QUEUE, OTHER_QUEUE])
        for (const secure of [true, false, undefined])
          for (const account of [ACCOUNT, '111111111111', undefined]) {
            const context = {
              ...(secure === undefined ? {} : { 'aws:SecureTransport': secure }),
              ...(account === undefined ? {} : { 'aws:SourceAccount': account }),
            };
            for (let round = 0; round < 2; round++) {
              expect(cached.authorize({ principal: ME, action, resource, context })).toEqual(
                fresh.evaluate({ principal: ME, action, resource, context }),
              );
              compared++;
            }
          }
    expect(compared).toBe(108);
    expect(cached.cacheStats.hits).toBeGreaterThan(0);
  });
});
