import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegoEngine, TemplateFile } from '@aws/cloudformation-validate';
import { requirePipeFilter } from '@orderflow/pipeline/engine';
import {
  alarmName,
  COMPOSITE_ALARM,
  CONSOLE_AUTH_CALLBACK_PATH,
  CONSOLE_OAUTH_SCOPES,
  DEAD_LETTER_ARCHIVER_ENV,
  DEAD_LETTER_ARCHIVER_SETTINGS,
  DEAD_LETTER_ARCHIVERS,
  DEAD_LETTER_CAPTURE_ENABLED,
  DEAD_LETTER_INDEX_PROJECTION,
  DEAD_LETTER_INDEXES,
  DEAD_LETTER_KEYS,
  DEFAULT_ALARM_PREFIX,
  DEFAULT_JOURNAL_TTL_DAYS,
  HANDLER_ENV,
  IDEMPOTENCY_KEYS,
  JOBS_KEYS,
  JOURNAL_KEYS,
  LOGICAL_IDS,
  OPS_API_ENV,
  OPS_API_GROUPS,
  PIPE_ALARMS,
  PIPE_KEYS,
  PIPES,
  type PipeKey,
  runbookPath,
} from '@orderflow/pipeline/facts';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/index.ts';
import { repoPath } from '../src/paths.ts';
import { fakeConsoleBuild } from './fixtures.ts';

// One synthesis (bundling, cdk-nag) shared by every test of this file.
const ALARM_EMAIL = 'oncall@example.com';
let template: Template;
let json: Record<string, Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>>;
let assemblyDir: string;

beforeAll(() => {
  assemblyDir = mkdtempSync(join(tmpdir(), 'orderflow-cdk-out-'));
  const { app, stack } = createApp(
    { alarmEmail: ALARM_EMAIL, consoleDir: fakeConsoleBuild() },
    {
      outdir: assemblyDir,
    },
  );
  // Throws when a validation plugin (cdk-nag, CloudFormation Validate) reports an unacknowledged finding.
  app.synth();
  template = Template.fromStack(stack);
  json = template.toJSON() as typeof json;
});

const ref = (logicalId: string) => ({ Ref: logicalId });
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const streamArn = { 'Fn::GetAtt': [LOGICAL_IDS.ordersTable, 'StreamArn'] };
/** `arn:<partition>:cloudwatch:<region>:<account>:alarm:orderflow-*`: every alarm of this stack, composites too. */
const alarmSourceArn = {
  'aws:SourceArn': {
    'Fn::Join': [
      '',
      [
        'arn:',
        ref('AWS::Partition'),
        ':cloudwatch:',
        ref('AWS::Region'),
        ':',
        ref('AWS::AccountId'),
        `:alarm:${DEFAULT_ALARM_PREFIX}-*`,
      ],
    ],
  },
};

function resourceById(logicalId: string) {
  const resource = json.Resources?.[logicalId];
  if (!resource) throw new Error(`the template has no resource ${logicalId}`);
  return resource;
}

function resourcesOfType(type: string) {
  return Object.entries(json.Resources ?? {}).filter(([, resource]) => resource.Type === type);
}

/** Every statement of every IAM policy attached to the role with this logical id. */
function statementsOfRole(roleLogicalId: string): { Action: string | string[]; Resource: unknown }[] {
  return resourcesOfType('AWS::IAM::Policy')
    .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: never[] }).Statement);
}

function roleOf(functionLogicalId: string): string {
  const role = json.Resources?.[functionLogicalId]?.Properties.Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

describe('pipeline resources', () => {
  it('Orders table: orderId key, on demand, new and old images, PITR, encryption, protected', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    });
    expect(json.Resources?.[LOGICAL_IDS.ordersTable]?.Type).toBe('AWS::DynamoDB::Table');
  });

  it('journal and idempotency tables expire items by TTL; audit table is keyed by day and time', () => {
    expect(json.Resources?.[LOGICAL_IDS.journalTable]?.Properties).toMatchObject({
      KeySchema: [{ AttributeName: JOURNAL_KEYS.partitionKey, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: JOURNAL_KEYS.ttlAttribute, Enabled: true },
    });
    expect(json.Resources?.[LOGICAL_IDS.idempotencyTable]?.Properties).toMatchObject({
      KeySchema: [{ AttributeName: IDEMPOTENCY_KEYS.partitionKey, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: IDEMPOTENCY_KEYS.ttlAttribute, Enabled: true },
    });
    expect(json.Resources?.[LOGICAL_IDS.auditTable]?.Properties.KeySchema).toEqual([
      { AttributeName: 'day', KeyType: 'HASH' },
      { AttributeName: 'atId', KeyType: 'RANGE' },
    ]);
    expect(json.Resources?.[LOGICAL_IDS.priorityShipmentsTable]?.Type).toBe('AWS::DynamoDB::Table');
  });

  it.each(PIPE_KEYS)('%s DLQ: SSE, 14 days, TLS enforced', (key) => {
    const dlqId = PIPES[key].dlqId;
    expect(json.Resources?.[dlqId]?.Properties).toMatchObject({
      MessageRetentionPeriod: 1_209_600,
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(dlqId)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it.each(PIPE_KEYS)(
    '%s pipe: stream source with pipeline settings, derived filter, DLQ, sync target, ERROR logs',
    (key) => {
      const pipe = PIPES[key];
      const resource = json.Resources?.[pipe.pipeId];
      expect(resource?.Type).toBe('AWS::Pipes::Pipe');
      const props = resource?.Properties as Record<string, unknown>;
      expect(props.Name).toBe(`orderflow-${key}`);
      expect(props.Source).toEqual(streamArn);
      expect(props.Target).toEqual(arnOf(pipe.functionId));
      expect(props.SourceParameters).toEqual({
        DynamoDBStreamParameters: {
          StartingPosition: 'TRIM_HORIZON',
          BatchSize: pipe.source.batchSize,
          MaximumBatchingWindowInSeconds: pipe.source.maximumBatchingWindowInSeconds,
          MaximumRetryAttempts: pipe.source.maximumRetryAttempts,
          MaximumRecordAgeInSeconds: pipe.source.maximumRecordAgeInSeconds,
          ParallelizationFactor: pipe.source.parallelizationFactor,
          OnPartialBatchItemFailure: pipe.source.onPartialBatchItemFailure,
          DeadLetterConfig: { Arn: arnOf(pipe.dlqId) },
        },
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify(requirePipeFilter(key, pipe.rule.pattern)) }] },
      });
      expect(props.TargetParameters).toEqual({ LambdaFunctionParameters: { InvocationType: 'REQUEST_RESPONSE' } });
      expect(props.LogConfiguration).toMatchObject({ Level: 'ERROR' });
      expect(props.DesiredState).toBe('RUNNING');
    },
  );

  it.each(PIPE_KEYS)('%s pipe role: assumed only by pipes of this account; the pipe waits for its policy', (key) => {
    const pipe = PIPES[key];
    const resource = resourceById(pipe.pipeId);
    const roleId = (resource.Properties.RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    // docs/AWS-FACTS.md, fact 10: the pipe is created after its role policy.
    const policyIds = resourcesOfType('AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
      .map(([id]) => id);
    expect(resource?.DependsOn).toEqual(expect.arrayContaining(policyIds));
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'pipes.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
          }),
        ],
      },
    });
  });

  it.each(PIPE_KEYS)('%s processor: Node.js 22 on arm64, tracing, Insights layer, environment', (key) => {
    const pipe = PIPES[key];
    const props = json.Resources?.[pipe.functionId]?.Properties as Record<string, unknown>;
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('index.handler');
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
    expect(JSON.stringify(props.Layers)).toContain('Fn::FindInMap');
    expect(JSON.stringify(props.LoggingConfig)).toContain('LogGroup');
    const variables = (props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[HANDLER_ENV.pipe]).toBe(key);
    expect(variables[HANDLER_ENV.ordersTable]).toEqual(ref(LOGICAL_IDS.ordersTable));
    expect(variables[HANDLER_ENV.journalTable]).toEqual(ref(LOGICAL_IDS.journalTable));
    expect(variables[HANDLER_ENV.idempotencyTable]).toEqual(ref(LOGICAL_IDS.idempotencyTable));
    expect(variables[HANDLER_ENV.priorityShipmentsTable]).toEqual(ref(LOGICAL_IDS.priorityShipmentsTable));
    expect(variables[HANDLER_ENV.notificationQueueUrl]).toEqual(ref(LOGICAL_IDS.notificationQueue));
    expect(variables[HANDLER_ENV.accountManagerQueueUrl]).toEqual(ref(LOGICAL_IDS.accountManagerQueue));
    expect(variables[HANDLER_ENV.journalTtlDays]).toBe(String(DEFAULT_JOURNAL_TTL_DAYS));
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'orderflow',
      POWERTOOLS_METRICS_NAMESPACE: 'Orderflow',
    });
  });
});

/** `Resource` of a statement as a readable name: pinned logical ids as they are, log groups by name. */
function resourceLabel(resource: unknown): string {
  if (resource === '*') return '*';
  const value = resource as Record<string, unknown>;
  if (value['Fn::GetAtt']) {
    const [id, attribute] = value['Fn::GetAtt'] as [string, string];
    const target = json.Resources?.[id];
    const name = target?.Properties.LogGroupName;
    const base = target?.Type === 'AWS::Logs::LogGroup' && typeof name === 'string' ? `log-group:${name}` : id;
    return attribute === 'Arn' ? base : `${base}.${attribute}`;
  }
  if (value['Fn::Join']) {
    const parts = (value['Fn::Join'] as [string, unknown[]])[1];
    const text = parts.map((part) => (typeof part === 'string' ? part : `<${resourceLabel(part)}>`)).join('');
    const alarm = text.match(/:alarm:.*$/);
    return alarm ? alarm[0].slice(1) : text;
  }
  return JSON.stringify(resource);
}

type Grants = Record<string, string[]>;

/** Every Allow of every policy attached to the role, as resource -> sorted actions, plus its managed policies. */
function grantsOf(roleLogicalId: string): Grants {
  const grants: Grants = {};
  for (const statement of statementsOfRole(roleLogicalId) as { Effect: string; Action: unknown; Resource: unknown }[]) {
    expect(statement.Effect).toBe('Allow');
    const actions = [statement.Action].flat() as string[];
    for (const resource of [statement.Resource].flat()) {
      const label = resourceLabel(resource);
      grants[label] = [...new Set([...(grants[label] ?? []), ...actions])].sort();
    }
  }
  const managed = json.Resources?.[roleLogicalId]?.Properties.ManagedPolicyArns as unknown[] | undefined;
  for (const arn of managed ?? []) {
    const text = JSON.stringify(arn);
    grants[`managed:${text.slice(text.lastIndexOf('policy/') + 'policy/'.length, text.lastIndexOf('"'))}`] = [];
  }
  return grants;
}

const opsApiFunctionId = () =>
  resourcesOfType('AWS::Lambda::Function').find(([id]) => id.startsWith('OpsToolkitOpsApiFunction'))?.[0] ?? '';
const pipeRoleOf = (key: PipeKey) =>
  (resourceById(PIPES[key].pipeId).Properties.RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];

/** What every function needs from Lambda itself: its logs, Insights, and active tracing's X-Ray writes. */
const FUNCTION_BASICS: Grants = {
  '*': ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
  'managed:service-role/AWSLambdaBasicExecutionRole': [],
  'managed:CloudWatchLambdaInsightsExecutionRolePolicy': [],
};
const IDEMPOTENCY = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

/**
 * Role -> resource -> actions, exactly (docs/AWS-FACTS.md, fact 15): a grant the code needs and lacks, or one it
 * does not call, fails here. The calls each role makes are listed next to the grants in the stack's constructs.
 */
const EXPECTED_GRANTS: Record<string, () => [roleLogicalId: string, grants: Grants]> = {
  'standard pipe': () => [
    pipeRoleOf('standard'),
    {
      [`${LOGICAL_IDS.ordersTable}.StreamArn`]: [
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
      ],
      '*': ['dynamodb:ListStreams'],
      [PIPES.standard.functionId]: ['lambda:InvokeFunction'],
      [PIPES.standard.dlqId]: ['sqs:SendMessage'],
      'log-group:/aws/vendedlogs/pipes/orderflow-standard': ['logs:CreateLogStream', 'logs:PutLogEvents'],
    },
  ],
  'premium pipe': () => [
    pipeRoleOf('premium'),
    {
      [`${LOGICAL_IDS.ordersTable}.StreamArn`]: [
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
      ],
      '*': ['dynamodb:ListStreams'],
      [PIPES.premium.functionId]: ['lambda:InvokeFunction'],
      [PIPES.premium.dlqId]: ['sqs:SendMessage'],
      'log-group:/aws/vendedlogs/pipes/orderflow-premium': ['logs:CreateLogStream', 'logs:PutLogEvents'],
    },
  ],
  'standard processor': () => [
    roleOf(PIPES.standard.functionId),
    {
      ...FUNCTION_BASICS,
      [LOGICAL_IDS.journalTable]: ['dynamodb:UpdateItem'],
      [LOGICAL_IDS.idempotencyTable]: IDEMPOTENCY,
      [LOGICAL_IDS.notificationQueue]: ['sqs:SendMessage'],
    },
  ],
  'premium processor': () => [
    roleOf(PIPES.premium.functionId),
    {
      ...FUNCTION_BASICS,
      [LOGICAL_IDS.journalTable]: ['dynamodb:UpdateItem'],
      [LOGICAL_IDS.idempotencyTable]: IDEMPOTENCY,
      [LOGICAL_IDS.priorityShipmentsTable]: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      [LOGICAL_IDS.accountManagerQueue]: ['sqs:SendMessage'],
    },
  ],
  ...Object.fromEntries(
    PIPE_KEYS.map((key) => [
      `${key} dead-letter archiver`,
      (): [string, Grants] => [
        roleOf(DEAD_LETTER_ARCHIVERS[key].functionId),
        {
          ...FUNCTION_BASICS,
          [LOGICAL_IDS.journalTable]: ['dynamodb:BatchGetItem'],
          [`<${LOGICAL_IDS.journalTable}>/index/${JOURNAL_KEYS.sequenceIndex.name}`]: ['dynamodb:Query'],
          [`${LOGICAL_IDS.ordersTable}.StreamArn`]: ['dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
          [LOGICAL_IDS.deadLetterTable]: [
            'dynamodb:BatchWriteItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
          ],
          [PIPES[key].dlqId]: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        },
      ],
    ]),
  ),
  'ops API': () => [
    roleOf(opsApiFunctionId()),
    {
      ...FUNCTION_BASICS,
      '*': [
        'cloudwatch:DescribeAlarms',
        'cloudwatch:GetMetricData',
        'cloudwatch:ListMetrics',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ],
      ...Object.fromEntries(
        PIPE_KEYS.flatMap((key) => [
          [
            PIPES[key].dlqId,
            ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
          ],
          [PIPES[key].functionId, ['lambda:InvokeFunction']],
          // pipe-control.ts: pause and resume a pipe, and show its state.
          [PIPES[key].pipeId, ['pipes:DescribePipe', 'pipes:StartPipe', 'pipes:StopPipe']],
        ]),
      ),
      [`${LOGICAL_IDS.ordersTable}.StreamArn`]: [
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
      ],
      [LOGICAL_IDS.ordersTable]: ['dynamodb:BatchGetItem', 'dynamodb:DescribeTable'],
      // job-launcher.ts: jobs run in asynchronous invocations of the API's own function.
      [opsApiFunctionId()]: ['lambda:InvokeFunction'],
      [LOGICAL_IDS.idempotencyTable]: ['dynamodb:BatchGetItem'],
      [LOGICAL_IDS.journalTable]: ['dynamodb:BatchGetItem', 'dynamodb:Scan'],
      [LOGICAL_IDS.auditTable]: ['dynamodb:PutItem', 'dynamodb:Query'],
      [LOGICAL_IDS.jobsTable]: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      // dead-letters.ts: the store, read only (Query of the table and each index, BatchGetItem of a page).
      [LOGICAL_IDS.deadLetterTable]: ['dynamodb:BatchGetItem', 'dynamodb:Query'],
      ...Object.fromEntries(
        Object.values(DEAD_LETTER_INDEXES).map((index) => [
          `<${LOGICAL_IDS.deadLetterTable}>/index/${index.name}`,
          ['dynamodb:Query'],
        ]),
      ),
    },
  ],
};

describe('dead-letter store and archivers', () => {
  it('the store: pk and sk, two sparse indexes projecting a list row, on demand, PITR, encrypted, protected, no TTL', () => {
    const table = resourceById(LOGICAL_IDS.deadLetterTable);
    expect(table).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: DEAD_LETTER_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: DEAD_LETTER_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
    expect(table.Properties.TimeToLiveSpecification).toBeUndefined();
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(
      Object.values(DEAD_LETTER_INDEXES).map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...DEAD_LETTER_INDEX_PROJECTION] },
      })),
    );
  });

  it('the journal: a keys-only bySequence index (pipe, padded sequence number) for the archivers', () => {
    const index = JOURNAL_KEYS.sequenceIndex;
    expect(resourceById(LOGICAL_IDS.journalTable).Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]);
  });

  it.each(PIPE_KEYS)(
    '%s DLQ: redrives to its unarchivable queue after maxReceiveCount only with capture on, hides a message 6x the archiver timeout',
    (key) => {
      const settings = DEAD_LETTER_ARCHIVER_SETTINGS;
      const unarchivable = DEAD_LETTER_ARCHIVERS[key].unarchivableQueueId;
      const properties = resourceById(PIPES[key].dlqId).Properties;
      expect(properties).toMatchObject({ VisibilityTimeout: settings.queueVisibilityTimeoutSeconds });
      // Browsing and redrive claims receive DLQ messages: without capture a redrive policy would move them out of sight.
      if (DEAD_LETTER_CAPTURE_ENABLED)
        expect(properties.RedrivePolicy).toEqual({
          deadLetterTargetArn: arnOf(unarchivable),
          maxReceiveCount: settings.maxReceiveCount,
        });
      else expect(properties.RedrivePolicy).toBeUndefined();
      expect(settings.queueVisibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * settings.timeoutSeconds);
      expect(resourceById(unarchivable)).toMatchObject({
        Type: 'AWS::SQS::Queue',
        Properties: { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
      });
    },
  );

  it.each(PIPE_KEYS)('%s archiver: its own function, environment, and an event source on its DLQ', (key) => {
    const { functionId } = DEAD_LETTER_ARCHIVERS[key];
    const fn = resourceById(functionId).Properties;
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: DEAD_LETTER_ARCHIVER_SETTINGS.timeoutSeconds,
      TracingConfig: { Mode: 'Active' },
    });
    const variables = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      [HANDLER_ENV.pipe]: key,
      [HANDLER_ENV.journalTable]: ref(LOGICAL_IDS.journalTable),
      [DEAD_LETTER_ARCHIVER_ENV.deadLetterTable]: ref(LOGICAL_IDS.deadLetterTable),
      [DEAD_LETTER_ARCHIVER_ENV.deadLetterQueueArn]: arnOf(PIPES[key].dlqId),
      [DEAD_LETTER_ARCHIVER_ENV.pipeArn]: arnOf(PIPES[key].pipeId),
      [DEAD_LETTER_ARCHIVER_ENV.ordersStreamArn]: streamArn,
    });
    const mappings = resourcesOfType('AWS::Lambda::EventSourceMapping').filter(
      ([, mapping]) => JSON.stringify(mapping.Properties.FunctionName) === JSON.stringify(ref(functionId)),
    );
    expect(mappings.map(([id]) => id)).toEqual([DEAD_LETTER_ARCHIVERS[key].mappingId]);
    expect(mappings[0]?.[1].Properties).toEqual({
      FunctionName: ref(functionId),
      EventSourceArn: arnOf(PIPES[key].dlqId),
      BatchSize: DEAD_LETTER_ARCHIVER_SETTINGS.batchSize,
      MaximumBatchingWindowInSeconds: DEAD_LETTER_ARCHIVER_SETTINGS.maximumBatchingWindowInSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: DEAD_LETTER_ARCHIVER_SETTINGS.maximumConcurrency },
      Enabled: DEAD_LETTER_CAPTURE_ENABLED,
    });
    // CreateEventSourceMapping checks the role's SQS permissions, so the mapping waits for the role's policy.
    const policyIds = resourcesOfType('AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(`"${roleOf(functionId)}"`))
      .map(([id]) => id);
    expect(mappings[0]?.[1].DependsOn).toEqual(expect.arrayContaining(policyIds));
  });
});

describe('least privilege: each role gets exactly what its code calls', () => {
  it.each(Object.keys(EXPECTED_GRANTS))('%s', (role) => {
    const [roleLogicalId, expected] = (EXPECTED_GRANTS[role] as () => [string, Grants])();
    expect(grantsOf(roleLogicalId)).toEqual(expected);
  });

  it('the audit table denies every change to an item to every principal; PutItem stays (conditional in code)', () => {
    const policy = resourceById(LOGICAL_IDS.auditTable).Properties.ResourcePolicy as {
      PolicyDocument: { Statement: Record<string, unknown>[] };
    };
    expect(policy.PolicyDocument.Statement).toEqual([
      {
        Sid: 'AuditEntriesAreNeverChangedOrRemoved',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: [
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:PartiQLUpdate',
          'dynamodb:PartiQLDelete',
        ],
        Resource: '*',
      },
    ]);
  });

  it('jobs and leases have their own table: pk, TTL, on demand, PITR, encrypted, protected', () => {
    expect(resourceById(LOGICAL_IDS.jobsTable)).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: JOBS_KEYS.partitionKey, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: JOBS_KEYS.partitionKey, AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: JOBS_KEYS.ttlAttribute, Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });
});

describe('monitoring', () => {
  const topicId = () => resourcesOfType('AWS::SNS::Topic')[0]?.[0] ?? 'missing';

  it.each(
    PIPE_KEYS.flatMap((pipe) =>
      PIPE_ALARMS.map((definition) => [alarmName(definition.slug, pipe), pipe, definition] as const),
    ),
  )('%s: thresholds from pipeline, alarm and OK actions, runbook and console links', (name, pipe, definition) => {
    const [, alarm] = resourcesOfType('AWS::CloudWatch::Alarm').find(([, a]) => a.Properties.AlarmName === name) ?? [];
    expect(alarm, `alarm ${name}`).toBeDefined();
    expect(alarm?.Properties).toMatchObject({
      Threshold: definition.threshold,
      EvaluationPeriods: definition.evaluationPeriods,
      DatapointsToAlarm: definition.datapointsToAlarm,
      ComparisonOperator: definition.comparison,
      TreatMissingData: definition.treatMissingData,
      AlarmActions: [ref(topicId())],
      OKActions: [ref(topicId())],
    });
    const description = JSON.stringify(alarm?.Properties.AlarmDescription);
    expect(description).toContain(`[${pipe} pipe] ${definition.whatBroke}`);
    expect(description).toContain(`/${runbookPath(definition.slug)}`);
    expect(description).toContain(`?pipe=${pipe}&window=`);
    if (definition.kind === 'metric') {
      expect(alarm?.Properties).toMatchObject({
        Namespace: definition.metric.namespace,
        MetricName: definition.metric.metricName,
        Statistic: definition.metric.statistic,
        Period: definition.periodSeconds,
      });
    } else {
      const metrics = alarm?.Properties.Metrics as { Expression?: string }[];
      expect(metrics.find((metric) => metric.Expression)?.Expression).toBe(definition.expression);
    }
  });

  it('composite alarm: any pipe alarm, with actions', () => {
    const [, composite] = resourcesOfType('AWS::CloudWatch::CompositeAlarm')[0] ?? [];
    expect(composite?.Properties.AlarmName).toBe(alarmName(COMPOSITE_ALARM.slug));
    expect(composite?.Properties).toMatchObject({ AlarmActions: [ref(topicId())], OKActions: [ref(topicId())] });
    const rule = JSON.stringify(composite?.Properties.AlarmRule);
    const alarms = resourcesOfType('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(PIPE_KEYS.length * COMPOSITE_ALARM.anyOf.length);
    for (const [logicalId] of alarms) expect(rule).toContain(JSON.stringify(arnOf(logicalId)));
    expect(rule.match(/ OR ALARM/g)).toHaveLength(alarms.length - 1);
  });

  /** The metric-math inputs of a pipe's alarm, by id: namespace, metric, dimensions, statistic, period. */
  function mathInputs(slug: string, pipe: PipeKey): Record<string, unknown> {
    const [, alarm] =
      resourcesOfType('AWS::CloudWatch::Alarm').find(
        ([, a]) => a.Properties.AlarmName === alarmName(slug as never, pipe),
      ) ?? [];
    const metrics = (alarm?.Properties.Metrics ?? []) as { Id: string; MetricStat?: Record<string, unknown> }[];
    return Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat]));
  }

  // A stopped or auto-disabled pipe publishes nothing; Pipes emits no state event and no state metric.
  it.each(PIPE_KEYS)('%s pipe-stalled: Orders table writes against the pipe invocations, in every period', (pipe) => {
    expect(mathInputs('pipe-stalled', pipe)).toEqual({
      writes: {
        Metric: {
          Namespace: 'AWS/DynamoDB',
          MetricName: 'ConsumedWriteCapacityUnits',
          Dimensions: [{ Name: 'TableName', Value: ref(LOGICAL_IDS.ordersTable) }],
        },
        Stat: 'Sum',
        Period: 900,
      },
      invocations: {
        Metric: {
          Namespace: 'AWS/EventBridge/Pipes',
          MetricName: 'Invocations',
          Dimensions: [{ Name: 'PipeName', Value: `orderflow-${pipe}` }],
        },
        Stat: 'Sum',
        Period: 900,
      },
    });
  });

  // Browsing receives DLQ messages; SQS leaves a message received 3+ times out of its oldest age (fact 13).
  it.each(PIPE_KEYS)('%s dlq-not-drained: visible plus in flight, so browsing cannot blind it', (pipe) => {
    const queue = (metricName: string) => ({
      Metric: {
        Namespace: 'AWS/SQS',
        MetricName: metricName,
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [PIPES[pipe].dlqId, 'QueueName'] } }],
      },
      Stat: 'Maximum',
      Period: 60,
    });
    expect(mathInputs('dlq-not-drained', pipe)).toEqual({
      visible: queue('ApproximateNumberOfMessagesVisible'),
      inFlight: queue('ApproximateNumberOfMessagesNotVisible'),
    });
    const alarms = JSON.stringify(resourcesOfType('AWS::CloudWatch::Alarm'));
    expect(alarms).not.toContain('ApproximateAgeOfOldestMessage');
  });

  // The stack publishes docs/runbooks; an alarm whose runbook link is dead helps nobody at 3 a.m.
  it('every alarm has its runbook in docs/runbooks', () => {
    for (const { slug } of [...PIPE_ALARMS, COMPOSITE_ALARM]) {
      expect(existsSync(repoPath(runbookPath(slug))), runbookPath(slug)).toBe(true);
    }
  });

  it('alarm topic: encrypted, TLS only, email subscription from props', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: ALARM_EMAIL });
  });

  // A topic policy replaces SNS's default one (docs/AWS-FACTS.md, fact 12): without this Allow no alarm notifies.
  it('alarm topic policy: CloudWatch may publish for this account and these alarms, next to the TLS deny', () => {
    const policies = resourcesOfType('AWS::SNS::TopicPolicy').filter(([, policy]) =>
      JSON.stringify(policy.Properties.Topics).includes(JSON.stringify(ref(topicId()))),
    );
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0] ?? [];
    const statements = (policy?.Properties.PolicyDocument as { Statement: Record<string, unknown>[] } | undefined)
      ?.Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: ref(topicId()),
          Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') }, ArnLike: alarmSourceArn },
        }),
      ]),
    );
    expect(statements?.filter((s) => s.Effect === 'Allow')).toHaveLength(1);
  });

  it('alarm topic key: CloudWatch may encrypt with it only for these alarms of this account', () => {
    const [, key] = resourcesOfType('AWS::KMS::Key')[0] ?? [];
    const statements = (key?.Properties.KeyPolicy as { Statement: Record<string, unknown>[] } | undefined)?.Statement;
    const forCloudWatch = (statements ?? []).filter((s) =>
      JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'),
    );
    expect(forCloudWatch).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') }, ArnLike: alarmSourceArn },
      }),
    ]);
  });

  it('dashboard: funnel with labelled estimate, pipe, processor, DLQ, journal and guard widgets per pipe', () => {
    const [, dashboard] = resourcesOfType('AWS::CloudWatch::Dashboard')[0] ?? [];
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const key of PIPE_KEYS) {
      for (const title of [
        'filter-match funnel',
        'guard rejections by clause',
        'journal writes',
        'pipe executions',
        'pipe throttles',
        'pipe duration',
        'processor errors and invocations',
        'processor duration',
        'processor concurrency and throttles',
        'DLQ depth',
        'dead letters captured',
      ]) {
        expect(body).toContain(`${key}: ${title}`);
      }
      for (const clause of PIPES[key].rule.clauses) expect(body).toContain(clause.id);
    }
    expect(body).toContain('(estimate: GetRecords');
    expect(body).toContain('GuardRejected');
  });
});

describe('ops toolkit', () => {
  it('ops API: environment for loadConfig, the jobs table next to the audit table, 15 minutes for a job', () => {
    const api = resourceById(opsApiFunctionId());
    const variables = (api.Properties.Environment as unknown as { Variables: Record<string, unknown> }).Variables;
    // Set by Lambda itself (reserved variables a function cannot set) or only locally.
    const notFromTheStack: string[] = ['AWS_REGION', 'AWS_LAMBDA_FUNCTION_NAME', 'ORDERFLOW_CONSOLE_DIR'];
    for (const name of Object.values(OPS_API_ENV).filter((n) => !notFromTheStack.includes(n))) {
      expect(variables[name], name).toBeDefined();
    }
    expect(variables.AWS_LAMBDA_FUNCTION_NAME).toBeUndefined();
    expect(variables[OPS_API_ENV.jobsTable]).toEqual(ref(LOGICAL_IDS.jobsTable));
    expect(variables[OPS_API_ENV.deadLetterTable]).toEqual(ref(LOGICAL_IDS.deadLetterTable));
    expect(variables[OPS_API_ENV.auditTable]).toEqual(ref(LOGICAL_IDS.auditTable));
    expect(api.Properties.Timeout).toBe(900);
  });

  it('HTTP API: Cognito JWT authorizer on every route, CORS for the console only', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: Match.objectLike({ Audience: Match.anyValue() }),
    });
    for (const [, route] of resourcesOfType('AWS::ApiGatewayV2::Route')) {
      expect(route.Properties.AuthorizationType).toBe('JWT');
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: [Match.anyValue()] }),
    });
  });

  // WAF cannot be associated with an HTTP API; the stage throttle is the rate-based protection in front of it.
  it('HTTP API stage: default route throttled (rate and burst), access logged', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it("console CSP: connect-src allows this Region's and partition's API endpoints, nothing wider", () => {
    const [, policy] = resourcesOfType('AWS::CloudFront::ResponseHeadersPolicy')[0] ?? [];
    const config = policy?.Properties.ResponseHeadersPolicyConfig as {
      SecurityHeadersConfig: { ContentSecurityPolicy: { ContentSecurityPolicy: { 'Fn::Join': [string, unknown[]] } } };
    };
    const parts = config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy['Fn::Join'][1];
    const at = parts.findIndex(
      (part) => typeof part === 'string' && part.endsWith("connect-src 'self' https://*.execute-api."),
    );
    expect(at).toBeGreaterThanOrEqual(0);
    expect(parts.slice(at + 1, at + 4)).toEqual([ref('AWS::Region'), '.', ref('AWS::URLSuffix')]);
    expect(parts[at + 4]).toMatch(/^ https:\/\//);
  });

  it('Cognito: no self sign-up, MFA, operators and viewers groups, the console callback and scopes', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: [...CONSOLE_OAUTH_SCOPES],
      CallbackURLs: [
        Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([CONSOLE_AUTH_CALLBACK_PATH])]) }),
      ],
      GenerateSecret: false,
    });
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
    });
    for (const group of Object.values(OPS_API_GROUPS)) {
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: group });
    }
  });

  it('console: private bucket behind CloudFront OAC, security headers, SPA fallback, config.json at deploy', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        CustomErrorResponses: [
          { ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
          { ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
        ],
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      }),
    });
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          FrameOptions: { FrameOption: 'DENY', Override: true },
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 31_536_000 }),
          ContentSecurityPolicy: Match.objectLike({ Override: true }),
        }),
      }),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const deployments = resourcesOfType('Custom::CDKBucketDeployment');
    expect(deployments).toHaveLength(2);
    expect(JSON.stringify(deployments)).toContain('config.json');
  });
});

describe('quality gates', () => {
  it('passes @aws/cloudformation-validate with no error', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orderflow-template-')), 'Orderflow.template.json');
    writeFileSync(file, JSON.stringify(json));
    const engine = new RegoEngine();
    try {
      const report = engine.validateStandard(new TemplateFile(file));
      const errors = report.diagnostics.filter((d) => d.severity === 'ERROR' || d.severity === 'FATAL');
      expect(errors.map((d) => `${d.ruleId} ${d.entity?.logicalId ?? ''}: ${d.message}`)).toEqual([]);
      expect(report.status).toBe('OK');
    } finally {
      engine.free();
    }
  });
});
