import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_KEYS, type PipeKey } from '@orderflow/pipeline/facts';
import type { RedriveJob, Role } from '../schemas/index.ts';

/** A stored job outlives its run by this long (the audit log keeps the history for good). */
const JOB_TTL_SECONDS = 14 * 86_400;
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
 * A job accepted but not yet picked up by a runner (in AWS an asynchronous invocation, which Lambda may hold in its
 * queue under throttling) reads as running this long, then as failed; a runner that arrives later does not start it.
 */
export const JOB_START_TIMEOUT_MS = 5 * 60_000;

/** What was asked for: everything a runner needs to run (or continue) the job, stored with it. */
export interface StoredRequest {
  readonly pipe: PipeKey;
  readonly messageIds?: readonly string[];
  readonly all?: true;
  readonly dryRun: boolean;
  readonly ratePerSecond: number;
}

export interface SaveAnswer {
  /** A cancel was requested (by any instance), or the run lost the job: stop between messages. */
  readonly cancelRequested: boolean;
  /** Another run holds the job now (or it no longer exists): this run must stop and write nothing more. */
  readonly lost: boolean;
}

export interface StoredJob<Job = RedriveJob, Request = StoredRequest> {
  readonly job: Job;
  readonly request: Request;
  readonly actor: { readonly name: string; readonly role: Role };
  readonly createdAtMs: number;
  readonly heartbeatAtMs: number;
  readonly cancelRequested: boolean;
  /** The run that holds the job (a process or Lambda invocation), absent until one picked it up. */
  readonly runner: string | undefined;
}

/** A kind of job kept in the jobs table: its key prefix, and the job as stored (cut to fit an item). */
export interface JobKind<Job> {
  readonly prefix: string;
  stored(job: Job): Record<string, unknown>;
}

/** Redrive jobs (`job#<id>`): results cut to what fits in the item, `resultsOmitted` saying how many did not. */
export const REDRIVE_JOBS: JobKind<RedriveJob> = {
  prefix: 'job#',
  stored(job) {
    const { results, omitted } = storedResults(job.results);
    return { ...job, results, resultsOmitted: omitted };
  },
};

/**
 * Jobs in the ops jobs table (redrive jobs: `job#<id>`, pipeline's JOBS_KEYS; other kinds under their own prefix), so
 * that any instance can report or cancel them, a job can run in another Lambda invocation than the request that
 * started it, and a crashed run's job is visibly failed (or continued, see `claimRun`) rather than forever running.
 * Items expire by TTL after {@link JOB_TTL_SECONDS}.
 */
export class JobStore<
  Job extends { readonly jobId: string; readonly progress: unknown } = RedriveJob,
  Request = StoredRequest,
> {
  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly kind: JobKind<Job> = REDRIVE_JOBS as unknown as JobKind<Job>,
  ) {}

  /** Stores a new job with its request, not yet picked up by a runner. */
  async create(job: Job, request: Request, actor: StoredJob['actor']): Promise<void> {
    const now = Date.now();
    await this.dynamodb.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...this.key(job.jobId),
          job: this.kind.stored(job),
          request,
          actor,
          createdAtMs: now,
          heartbeatAtMs: now,
          cancelRequested: false,
          [JOBS_KEYS.ttlAttribute]: Math.floor(now / 1000) + JOB_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': JOBS_KEYS.partitionKey },
      }),
    );
  }

  /**
   * Makes `runner` the job's run, if the job is running and nobody holds it: it was never picked up (and is younger
   * than {@link JOB_START_TIMEOUT_MS}), or its runner's heartbeat stopped ({@link JOB_HEARTBEAT_TIMEOUT_MS}; that run
   * died, and this one continues it). Answers the stored job, or `undefined` when another run holds it or it ended:
   * an asynchronous invocation may be delivered twice, and Lambda retries one that failed, so two runs must not both
   * work on one job.
   */
  async claimRun(jobId: string, runner: string): Promise<StoredJob<Job, Request> | undefined> {
    const now = Date.now();
    try {
      const answer = await this.dynamodb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(jobId),
          UpdateExpression: 'SET runner = :runner, heartbeatAtMs = :now',
          ConditionExpression:
            'attribute_exists(#pk) AND #job.#status = :running AND ((attribute_not_exists(runner) AND createdAtMs > :startedAfter) OR heartbeatAtMs < :beatAfter)',
          ExpressionAttributeNames: { '#pk': JOBS_KEYS.partitionKey, '#job': 'job', '#status': 'status' },
          ExpressionAttributeValues: {
            ':runner': runner,
            ':now': now,
            ':running': 'running',
            ':startedAfter': now - JOB_START_TIMEOUT_MS,
            ':beatAfter': now - JOB_HEARTBEAT_TIMEOUT_MS,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return answer.Attributes ? toStored<Job, Request>(answer.Attributes) : undefined;
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Writes the job (its results cut to what fits in the item, `resultsOmitted` saying how many did not) and its
   * heartbeat; answers whether a cancel was requested (possibly by another instance). `runner`: only while that run
   * still holds the job; if another run took it over (this one was presumed dead), `lost` is true and nothing is
   * written.
   */
  async save(job: Job, runner?: string): Promise<SaveAnswer> {
    return this.update(job.jobId, 'SET #job = :job', { ':job': this.kind.stored(job) }, runner);
  }

  /**
   * The heartbeat of a running job between saves: its progress and the time, a few bytes instead of the whole job;
   * answers whether a cancel was requested.
   */
  async beat(job: Pick<Job, 'jobId' | 'progress'>, runner?: string): Promise<SaveAnswer> {
    return this.update(job.jobId, 'SET #job.progress = :progress', { ':progress': job.progress }, runner);
  }

  private async update(
    jobId: string,
    set: string,
    values: Record<string, unknown>,
    runner: string | undefined,
  ): Promise<SaveAnswer> {
    try {
      const answer = await this.dynamodb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(jobId),
          // cancelRequested is "updated" to itself so that UPDATED_NEW returns it without returning the whole job.
          UpdateExpression: `${set}, heartbeatAtMs = :now, cancelRequested = if_not_exists(cancelRequested, :no)`,
          ConditionExpression: runner ? 'runner = :runner' : 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#job': 'job', ...(runner ? {} : { '#pk': JOBS_KEYS.partitionKey }) },
          ExpressionAttributeValues: {
            ...values,
            ':now': Date.now(),
            ':no': false,
            ...(runner ? { ':runner': runner } : {}),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { cancelRequested: answer.Attributes?.cancelRequested === true, lost: false };
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return { cancelRequested: true, lost: true };
      throw error;
    }
  }

  async load(jobId: string): Promise<StoredJob<Job, Request> | undefined> {
    const answer = await this.dynamodb.send(
      new GetCommand({ TableName: this.table, Key: this.key(jobId), ConsistentRead: true }),
    );
    return answer.Item ? toStored<Job, Request>(answer.Item) : undefined;
  }

  /** Asks the job's run to stop (it reads the flag with each heartbeat); a job that does not exist stays absent. */
  async requestCancel(jobId: string): Promise<void> {
    try {
      await this.dynamodb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(jobId),
          UpdateExpression: 'SET cancelRequested = :yes',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': JOBS_KEYS.partitionKey },
          ExpressionAttributeValues: { ':yes': true },
        }),
      );
    } catch (error: unknown) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private key(jobId: string) {
    return { [JOBS_KEYS.partitionKey]: `${this.kind.prefix}${jobId}` };
  }
}

function toStored<Job, Request>(item: Record<string, unknown>): StoredJob<Job, Request> {
  return {
    job: item.job as Job,
    request: item.request as Request,
    actor: item.actor as StoredJob['actor'],
    createdAtMs: Number(item.createdAtMs ?? 0),
    heartbeatAtMs: Number(item.heartbeatAtMs ?? 0),
    cancelRequested: item.cancelRequested === true,
    runner: typeof item.runner === 'string' ? item.runner : undefined,
  };
}
