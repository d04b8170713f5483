import { createServer } from 'node:net';
import { HANDLER_ENV, OPS_API_ENV } from '@orderflow/pipeline/facts';
import type { RuntimeInfo } from '@orderflow/pipeline/schemas';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { configFromRuntimeInfo, LOCAL_ENDPOINT_VARIABLES, loadConfig, type OpsApiConfig } from '../src/config.ts';
import type { DenialsResponse, InboxResponse } from '../src/schemas/index.ts';
import { alarmOf, NOT_IN_AWS } from '../src/services/local-records.ts';

/**
 * The local runtime's records (denials, outbox) as the ops API serves them: where it finds them (the runtime info, or
 * the loopback endpoints the runtime gives the deployed function), and what it answers where they do not exist (AWS,
 * `--iam off`, a runtime that does not answer). Reading real records is tested with the real runtime, in
 * local/test/local-records.test.ts (local depends on ops-api, not the reverse).
 */

const awsEnv = {
  [OPS_API_ENV.region]: 'eu-west-1',
  [OPS_API_ENV.functionName]: 'orderflow-ops-api',
  [OPS_API_ENV.standardDlqUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/standard-dlq',
  [OPS_API_ENV.premiumDlqUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/premium-dlq',
  [OPS_API_ENV.standardFunctionName]: 'Orderflow-OrderProcessorFunction',
  [OPS_API_ENV.premiumFunctionName]: 'Orderflow-PremiumOrderProcessorFunction',
  [OPS_API_ENV.standardPipeName]: 'orderflow-standard',
  [OPS_API_ENV.premiumPipeName]: 'orderflow-premium',
  [OPS_API_ENV.auditTable]: 'Orderflow-AuditTable',
  [OPS_API_ENV.jobsTable]: 'Orderflow-OpsJobsTable',
  [OPS_API_ENV.deadLetterTable]: 'Orderflow-DeadLetterTable',
  [HANDLER_ENV.ordersTable]: 'Orderflow-OrdersTable',
  [HANDLER_ENV.journalTable]: 'Orderflow-FailureJournalTable',
  [HANDLER_ENV.idempotencyTable]: 'Orderflow-IdempotencyTable',
  [OPS_API_ENV.cognitoUserPoolId]: 'eu-west-1_AbCdEf123',
  [OPS_API_ENV.cognitoClientId]: 'client',
  [OPS_API_ENV.cognitoDomain]: 'orderflow.auth.eu-west-1.amazoncognito.com',
  [OPS_API_ENV.consoleOrigin]: 'https://d111.cloudfront.net',
};

const info: RuntimeInfo = {
  region: 'us-east-1',
  endpoints: {
    dynamodb: 'http://127.0.0.1:8000',
    dynamodbStreams: 'http://127.0.0.1:8000',
    sqs: 'http://127.0.0.1:9324',
    lambda: 'http://127.0.0.1:9001',
    cloudwatch: 'http://127.0.0.1:9002',
    sns: 'http://127.0.0.1:9003',
  },
  iam: { enforcement: 'on', denials: 'http://127.0.0.1:9001/_local/denials' },
  console: 'http://127.0.0.1:3000',
  tokens: { operator: 'o'.repeat(32), viewer: 'v'.repeat(32) },
  resources: {
    ordersTable: 'OrdersTable',
    journalTable: 'FailureJournalTable',
    idempotencyTable: 'IdempotencyTable',
    auditTable: 'AuditTable',
    jobsTable: 'OpsJobsTable',
    deadLetterTable: 'DeadLetterTable',
    priorityShipmentsTable: 'PriorityShipmentsTable',
    notificationQueueUrl: 'http://127.0.0.1:9324/000000000000/OrderNotificationsQueue',
    accountManagerQueueUrl: 'http://127.0.0.1:9324/000000000000/AccountManagerQueue',
    pipes: {
      standard: { name: 'orderflow-standard', function: 'OrderProcessorFunction', dlqUrl: 'http://127.0.0.1:9324/0/a' },
      premium: {
        name: 'orderflow-premium',
        function: 'PremiumOrderProcessorFunction',
        dlqUrl: 'http://127.0.0.1:9324/0/b',
      },
    },
  },
};

describe('where the ops API finds the local runtime’s records', () => {
  it('in AWS, nowhere', () => {
    expect(loadConfig(awsEnv).localRuntime).toBeUndefined();
  });

  it('as deployed on the local runtime, on the loopback Lambda and SNS endpoints the runtime gives every function', () => {
    const config = loadConfig({
      ...awsEnv,
      [LOCAL_ENDPOINT_VARIABLES.lambda]: 'http://127.0.0.1:41001',
      [LOCAL_ENDPOINT_VARIABLES.sns]: 'http://127.0.0.1:41002/',
    });
    expect(config.localRuntime).toEqual({
      denialsUrl: 'http://127.0.0.1:41001/_local/denials',
      outboxUrl: 'http://127.0.0.1:41002/_local/outbox',
    });
  });

  it('not on endpoints that are not loopback, or when one of the two is missing', () => {
    for (const endpoints of [
      { lambda: 'https://lambda.eu-west-1.amazonaws.com', sns: 'https://sns.eu-west-1.amazonaws.com' },
      { lambda: 'http://10.0.0.5:9001', sns: 'http://10.0.0.5:9002' },
      { lambda: 'http://127.0.0.1:41001' },
      { lambda: 'not a url', sns: 'http://127.0.0.1:41002' },
    ] as { lambda?: string; sns?: string }[]) {
      const env = {
        ...awsEnv,
        ...(endpoints.lambda ? { [LOCAL_ENDPOINT_VARIABLES.lambda]: endpoints.lambda } : {}),
        ...(endpoints.sns ? { [LOCAL_ENDPOINT_VARIABLES.sns]: endpoints.sns } : {}),
      };
      expect(loadConfig(env).localRuntime, JSON.stringify(endpoints)).toBeUndefined();
    }
  });

  it('in process, from the runtime info: the denials log only while enforcement is on', () => {
    expect(configFromRuntimeInfo(info).localRuntime).toEqual({
      denialsUrl: 'http://127.0.0.1:9001/_local/denials',
      outboxUrl: 'http://127.0.0.1:9003/_local/outbox',
    });
    expect(configFromRuntimeInfo({ ...info, iam: { enforcement: 'off' } }).localRuntime).toEqual({
      outboxUrl: 'http://127.0.0.1:9003/_local/outbox',
    });
  });
});

/** A loopback port nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('GET /api/local/denials and /api/local/inbox where there is nothing to read', () => {
  const apps: FastifyInstance[] = [];
  const viewer = { authorization: `Bearer ${info.tokens.viewer}` };
  const build = async (localRuntime: OpsApiConfig['localRuntime']) => {
    const config: OpsApiConfig = { ...configFromRuntimeInfo(info), localRuntime };
    const app = await buildApp(config);
    apps.push(app);
    return app;
  };
  let unreachable: string;
  beforeAll(async () => {
    unreachable = `http://127.0.0.1:${await closedPort()}`;
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('answers "not available in AWS" without a local runtime', async () => {
    const app = await build(undefined);
    const denials = await app.inject({ method: 'GET', url: '/api/local/denials', headers: viewer });
    expect(denials.statusCode).toBe(200);
    expect(denials.json<DenialsResponse>()).toEqual({ available: false, reason: NOT_IN_AWS.denials });
    const inbox = await app.inject({ method: 'GET', url: '/api/local/inbox', headers: viewer });
    expect(inbox.json<InboxResponse>()).toEqual({ available: false, reason: NOT_IN_AWS.inbox });
  });

  it('says enforcement is off when the runtime records no denials', async () => {
    const app = await build({ outboxUrl: `${unreachable}/_local/outbox` });
    const denials = await app.inject({ method: 'GET', url: '/api/local/denials', headers: viewer });
    expect(denials.json<DenialsResponse>()).toEqual({
      available: false,
      reason: 'IAM enforcement is off (--iam off): the local runtime denies nothing',
    });
  });

  it('names the URL and the error when the runtime does not answer', async () => {
    const app = await build({ denialsUrl: `${unreachable}/_local/denials`, outboxUrl: `${unreachable}/_local/outbox` });
    const denials = await app.inject({ method: 'GET', url: '/api/local/denials?limit=5', headers: viewer });
    expect(denials.json<DenialsResponse>()).toEqual({
      available: false,
      reason: `the local runtime's denials log (GET ${unreachable}/_local/denials?limit=5) did not answer: ECONNREFUSED`,
    });
    const inbox = await app.inject({ method: 'GET', url: '/api/local/inbox', headers: viewer });
    expect(inbox.json<InboxResponse>()).toMatchObject({
      available: false,
      reason: expect.stringContaining(`email outbox (GET ${unreachable}/_local/outbox?limit=20) did not answer`),
    });
  });

  it('asks for a token, and refuses a limit out of range', async () => {
    const app = await build(undefined);
    expect((await app.inject({ method: 'GET', url: '/api/local/inbox' })).statusCode).toBe(401);
    const bad = await app.inject({ method: 'GET', url: '/api/local/denials?limit=101', headers: viewer });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ message: string }>().message).toContain('limit must be at most 100, got 101');
  });

  it('documents both routes in OpenAPI, answers included', async () => {
    const app = await build(undefined);
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, { get?: { responses?: Record<string, unknown> } }>;
    }>();
    for (const path of ['/api/local/denials', '/api/local/inbox'])
      expect(JSON.stringify(spec.paths[path]?.get?.responses?.['200']), path).toContain('available');
  });
});

describe('alarmOf', () => {
  // The shape of CloudWatch's alarm notification (docs/ARCHITECTURE.md, "Alarm actions"), trimmed to what is read.
  const notification = {
    AlarmName: 'orderflow-standard-dlq-has-messages',
    AlarmDescription:
      '[standard pipe] Batches ... First check: Open the DLQ ... Runbook: https://d111.cloudfront.net/docs/runbooks/dlq-has-messages.md Console: https://d111.cloudfront.net/dlqs?pipe=standard&window=3600',
    AWSAccountId: '123456789012',
    NewStateValue: 'ALARM',
    NewStateReason:
      'Threshold Crossed: 1 out of the last 1 datapoints [1.0 (07/12/26 10:14:00)] was greater than the threshold (0.0)',
    StateChangeTime: '2026-12-07T10:15:00.123+0000',
    Region: 'EU (Ireland)',
    OldStateValue: 'OK',
    Trigger: { MetricName: 'ApproximateNumberOfMessagesVisible' },
  };

  it('reads the state change and the description’s links', () => {
    expect(alarmOf(JSON.stringify(notification))).toEqual({
      name: 'orderflow-standard-dlq-has-messages',
      description: notification.AlarmDescription,
      newState: 'ALARM',
      oldState: 'OK',
      reason: notification.NewStateReason,
      stateChangeTime: '2026-12-07T10:15:00.123+0000',
      runbookUrl: 'https://d111.cloudfront.net/docs/runbooks/dlq-has-messages.md',
      consoleUrl: 'https://d111.cloudfront.net/dlqs?pipe=standard&window=3600',
    });
  });

  it('answers null for a message that is not an alarm notification', () => {
    expect(alarmOf('hello on-call')).toBeNull();
    expect(alarmOf(JSON.stringify({ ...notification, NewStateValue: 'RED' }))).toBeNull();
    expect(alarmOf(JSON.stringify({ AlarmName: 'x' }))).toBeNull();
  });
});
