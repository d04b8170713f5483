import { HANDLER_ENV, OPS_API_ENV } from '@orderflow/pipeline/facts';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromRuntimeInfo, loadConfig } from '../src/config.ts';

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
  [OPS_API_ENV.consoleOrigin]: 'https://d111.cloudfront.net/',
};

describe('loadConfig (AWS mode)', () => {
  it('reads every setting, Cognito auth, jobs run by invoking its own function asynchronously', () => {
    const config = loadConfig(awsEnv);
    expect(config).toMatchObject({
      mode: 'aws',
      region: 'eu-west-1',
      auth: { mode: 'cognito', userPoolId: 'eu-west-1_AbCdEf123', region: 'eu-west-1' },
      corsOrigin: 'https://d111.cloudfront.net',
      jobExecution: 'lambda-event',
      selfFunctionName: 'orderflow-ops-api',
      tables: {
        audit: 'Orderflow-AuditTable',
        jobs: 'Orderflow-OpsJobsTable',
        orders: 'Orderflow-OrdersTable',
        deadLetters: 'Orderflow-DeadLetterTable',
      },
    });
    expect(config.pipes.premium.functionName).toBe('Orderflow-PremiumOrderProcessorFunction');
    expect(config.endpoints).toBeUndefined();
  });

  it('names every missing or malformed variable at once', () => {
    const env: Record<string, string | undefined> = { ...awsEnv, [OPS_API_ENV.standardDlqUrl]: 'not a url' };
    delete env[OPS_API_ENV.auditTable];
    delete env[OPS_API_ENV.jobsTable];
    delete env[OPS_API_ENV.deadLetterTable];
    delete env[OPS_API_ENV.cognitoUserPoolId];
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught: unknown) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain(`${OPS_API_ENV.standardDlqUrl} must be an http(s) URL`);
    expect(problems).toContain(`${OPS_API_ENV.auditTable} is not set`);
    expect(problems).toContain(`${OPS_API_ENV.jobsTable} is not set`);
    expect(problems).toContain(`${OPS_API_ENV.deadLetterTable} is not set`);
    expect(problems).toContain(`${OPS_API_ENV.cognitoUserPoolId} is not set`);
  });
});

describe('configFromRuntimeInfo (local mode)', () => {
  const info = {
    region: 'us-east-1',
    endpoints: {
      dynamodb: 'http://127.0.0.1:8000',
      dynamodbStreams: 'http://127.0.0.1:8000',
      sqs: 'http://127.0.0.1:9324',
      lambda: 'http://127.0.0.1:9001',
      cloudwatch: 'http://127.0.0.1:9002',
    },
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
        standard: {
          name: 'orderflow-standard',
          function: 'OrderProcessorFunction',
          dlqUrl: 'http://127.0.0.1:9324/0/a',
        },
        premium: {
          name: 'orderflow-premium',
          function: 'PremiumOrderProcessorFunction',
          dlqUrl: 'http://127.0.0.1:9324/0/b',
        },
      },
    },
  };

  it('uses the runtime endpoints and tokens, and background jobs', () => {
    const config = configFromRuntimeInfo(info);
    expect(config).toMatchObject({
      mode: 'local',
      endpoints: info.endpoints,
      auth: { mode: 'local', operatorToken: 'o'.repeat(32) },
      corsOrigin: 'http://127.0.0.1:3000',
      jobExecution: 'background',
    });
  });

  it('rejects identical or short tokens and malformed files, naming the field', () => {
    expect(() =>
      configFromRuntimeInfo({ ...info, tokens: { operator: 'same-token-123456', viewer: 'same-token-123456' } }),
    ).toThrow('operator and viewer tokens must differ');
    expect(() =>
      configFromRuntimeInfo({ ...info, endpoints: { ...info.endpoints, sqs: 'nope' } } as typeof info),
    ).toThrow('runtime info endpoints.sqs');
  });
});
