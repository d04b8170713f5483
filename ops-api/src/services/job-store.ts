import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_KEYS } from '@orderflow/pipeline';
import type { RedriveJob } from '../schemas/index.ts';

const JOB_SORT_KEY = 'job';
/** Results kept in the stored job (DynamoDB items are limited to 400 KB); the audit has every message. */
const STORED_RESULTS = 500;
/** A running job whose heartbeat is older than this was lost with its instance. */
export const JOB_HEARTBEAT_TIMEOUT_MS = 60_000;

/**
 * Redrive jobs, stored in the audit table (partition `job#<id>`) so that any instance can report or cancel them and a
 * crashed instance's job is visibly failed rather than forever running.
 */
export class JobStore {
  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Writes the job and its heartbeat; answers whether a cancel was requested (possibly by another instance). */
  async save(job: RedriveJob): Promise<{ cancelRequested: boolean }> {
    const answer = await this.dynamodb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.key(job.jobId),
        UpdateExpression: 'SET #job = :job, heartbeatAtMs = :now',
        ExpressionAttributeNames: { '#job': 'job' },
        ExpressionAttributeValues: {
          ':job': { ...job, results: job.results.slice(0, STORED_RESULTS) },
          ':now': Date.now(),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { cancelRequested: answer.Attributes?.cancelRequested === true };
  }

  async load(jobId: string): Promise<{ job: RedriveJob; heartbeatAtMs: number; cancelRequested: boolean } | undefined> {
    const answer = await this.dynamodb.send(
      new GetCommand({ TableName: this.table, Key: this.key(jobId), ConsistentRead: true }),
    );
    if (!answer.Item) return undefined;
    return {
      job: answer.Item.job as RedriveJob,
      heartbeatAtMs: Number(answer.Item.heartbeatAtMs ?? 0),
      cancelRequested: answer.Item.cancelRequested === true,
    };
  }

  async requestCancel(jobId: string): Promise<void> {
    await this.dynamodb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.key(jobId),
        UpdateExpression: 'SET cancelRequested = :yes',
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
  }

  private key(jobId: string) {
    return { [AUDIT_KEYS.partitionKey]: `job#${jobId}`, [AUDIT_KEYS.sortKey]: JOB_SORT_KEY };
  }
}
