import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { PipesClient } from '@aws-sdk/client-pipes';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OpsApiConfig } from './config.ts';

/** The real AWS SDK clients, pointed at AWS or at the local runtime's endpoints: one code path for both. */
export interface AwsClients {
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBDocumentClient;
  readonly streams: DynamoDBStreamsClient;
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  /** StopPipe, StartPipe, DescribePipe (pipe-control.ts). */
  readonly pipes: PipesClient;
  destroy(): void;
}

export function createAwsClients(config: OpsApiConfig): AwsClients {
  const base = {
    region: config.region,
    ...(config.credentials ? { credentials: config.credentials } : {}),
  };
  const at = (endpoint: string | undefined) => (endpoint ? { ...base, endpoint } : base);
  const raw = new DynamoDBClient(at(config.endpoints?.dynamodb));
  const clients = {
    sqs: new SQSClient(at(config.endpoints?.sqs)),
    dynamodb: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }),
    // Retries of stream reads go through the ops API's read gate (stream-gate.ts), not the SDK's own retry.
    streams: new DynamoDBStreamsClient({ ...at(config.endpoints?.dynamodbStreams), maxAttempts: 1 }),
    // A redrive waits for the processor, whose timeout bounds the call; retries would re-apply a batch.
    lambda: new LambdaClient({ ...at(config.endpoints?.lambda), maxAttempts: 1 }),
    cloudwatch: new CloudWatchClient(at(config.endpoints?.cloudwatch)),
    pipes: new PipesClient(at(config.endpoints?.pipes)),
  };
  return {
    ...clients,
    destroy() {
      clients.sqs.destroy();
      raw.destroy();
      clients.streams.destroy();
      clients.lambda.destroy();
      clients.cloudwatch.destroy();
      clients.pipes.destroy();
    },
  };
}
