import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_KEYS } from '@orderflow/pipeline/facts';
import type { RedriveJob } from '../schemas/index.ts';

const JOB_SORT_KEY = 'job';
/** Results kept in the stored job at most; the audit has every message. */
const STORED_RESULTS = 500;
/**
 * Bytes of results (as JSON) kept in the stored job: a DynamoDB item is limited to 400 KB, and one result can be large
 * (a message of 10 records, each with the processor's error message).
 */
const STORED_RESULTS_BYTES = 300_000;

/** The results that fit in the stored job, in order, and how many did not. */
export function storedResults(results: RedriveJob['results']): { results: RedriveJob['results']; omitted: number } {
  let bytes = 0;
  let kept = 0;
  for (const result of results) {
    if (kept === STORED_RESULTS) break;
    bytes += Buffer.byteLength(JSON.stringify(result));
    if (bytes > STORED_RESULTS_BYTES) break;
    kept += 1;
  }
  return { results: results.slice(0, kept), omitted: results.length - kept };
}
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

  /**
   * Writes the job (its results cut to what fits in the item, `resultsOmitted` saying how many did not) and its
   * heartbeat; answers whether a cancel was requested (possibly by another instance).
   */
  async save(job: RedriveJob): Promise<{ cancelRequested: boolean }> {
    const { results, omitted } = storedResults(job.results);
    return this.update(job.jobId, 'SET #job = :job', { ':job': { ...job, results, resultsOmitted: omitted } });
  }

  /**
   * The heartbeat of a running job between saves: its progress and the time, a few bytes instead of the whole job;
   * answers whether a cancel was requested.
   */
  async beat(job: Pick<RedriveJob, 'jobId' | 'progress'>): Promise<{ cancelRequested: boolean }> {
    return this.update(job.jobId, 'SET #job.progress = :progress', { ':progress': job.progress });
  }

  private async update(
    jobId: string,
    set: string,
    values: Record<string, unknown>,
  ): Promise<{ cancelRequested: boolean }> {
    const answer = await this.dynamodb.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.key(jobId),
        // cancelRequested is "updated" to itself so that UPDATED_NEW returns it without returning the whole job.
        UpdateExpression: `${set}, heartbeatAtMs = :now, cancelRequested = if_not_exists(cancelRequested, :no)`,
        ExpressionAttributeNames: { '#job': 'job' },
        ExpressionAttributeValues: { ...values, ':now': Date.now(), ':no': false },
        ReturnValues: 'UPDATED_NEW',
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
