import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_KEYS } from '@orderflow/pipeline/facts';

/**
 * At most one GetRecords call a second per shard from the ops API. The two pipes already read every shard of the
 * Orders stream, and DynamoDB Streams throttles more than two readers of a shard (`LimitExceededException`,
 * docs/AWS-FACTS.md, fact 9): the ops API is a third reader, so it reads only on an operator's explicit action, and
 * through this gate. A throttled read pushes the shard's next slot back for every caller of the gate.
 */
export interface StreamReadGate {
  /** Resolves when a GetRecords call on `shard` may be sent; the call counts from now. */
  acquire(shard: string): Promise<void>;
  /** The shard throttled us: nobody reads it for `ms`. */
  backOff(shard: string, ms: number): Promise<void>;
}

export const STREAM_READ_INTERVAL_MS = 1000;
/** Time a conditional write of the table gate is expected to take; a slower one moves the next slot on. */
const WRITE_SLACK_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The gate within one process: per shard, the earliest time of its next call. */
export class LocalStreamReadGate implements StreamReadGate {
  private readonly next = new Map<string, number>();

  constructor(private readonly intervalMs = STREAM_READ_INTERVAL_MS) {}

  async acquire(shard: string): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.next.get(shard) ?? 0);
    this.next.set(shard, at + this.intervalMs);
    if (this.next.size > 10_000) this.forgetPast(now);
    if (at > now) await sleep(at - now);
  }

  async backOff(shard: string, ms: number): Promise<void> {
    this.next.set(shard, Math.max(this.next.get(shard) ?? 0, Date.now() + ms));
  }

  private forgetPast(now: number): void {
    for (const [shard, at] of this.next) if (at < now) this.next.delete(shard);
  }
}

/**
 * The gate for the whole ops API: every instance (in AWS each Lambda instance and each job's invocation is a process
 * of its own) takes a shard's slot from one item of the ops jobs table (`stream-read#<stream> <shard>`), with a
 * conditional write that succeeds only once the slot's time has come; the in-process gate in front keeps one
 * process's callers from racing each other for it. Items expire by TTL an hour after their last use.
 */
export class TableStreamReadGate implements StreamReadGate {
  private readonly local: LocalStreamReadGate;

  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly intervalMs = STREAM_READ_INTERVAL_MS,
  ) {
    this.local = new LocalStreamReadGate(intervalMs);
  }

  async acquire(shard: string): Promise<void> {
    await this.local.acquire(shard);
    for (;;) {
      const now = Date.now();
      // The slot is taken when the write lands, and the caller's GetRecords goes out when it returns: the next slot
      // counts from then. `now` plus a little covers a quick write; a slower one moves the next slot on afterwards.
      const next = now + this.intervalMs + WRITE_SLACK_MS;
      try {
        await this.dynamodb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: this.key(shard),
            UpdateExpression: 'SET nextAtMs = :next, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#pk) OR nextAtMs <= :now',
            ExpressionAttributeNames: { '#pk': JOBS_KEYS.partitionKey, '#ttl': JOBS_KEYS.ttlAttribute },
            ExpressionAttributeValues: { ':next': next, ':now': now, ':ttl': ttlOf(now) },
          }),
        );
        // Not awaited: the caller's call goes out now, and the next slot is a second away.
        const landed = Date.now();
        if (landed + this.intervalMs > next) void this.moveNext(shard, next, landed + this.intervalMs).catch(() => {});
        return;
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // Someone else holds the slot: wait for its time (read, not guessed), then try for the next one.
      const current = await this.dynamodb.send(
        new GetCommand({ TableName: this.table, Key: this.key(shard), ConsistentRead: true }),
      );
      const nextAt = Number(current.Item?.nextAtMs ?? 0);
      await sleep(Math.max(1, Math.min(nextAt - Date.now(), 60_000)));
    }
  }

  async backOff(shard: string, ms: number): Promise<void> {
    await this.local.backOff(shard, ms);
    const until = Date.now() + ms;
    try {
      await this.dynamodb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(shard),
          UpdateExpression: 'SET nextAtMs = :until, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#pk) OR nextAtMs < :until',
          ExpressionAttributeNames: { '#pk': JOBS_KEYS.partitionKey, '#ttl': JOBS_KEYS.ttlAttribute },
          ExpressionAttributeValues: { ':until': until, ':ttl': ttlOf(until) },
        }),
      );
    } catch (error: unknown) {
      // Already backed off further by someone else.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Moves the shard's next slot from `from` (ours) to `to`, unless someone moved it further already. */
  private async moveNext(shard: string, from: number, to: number): Promise<void> {
    try {
      await this.dynamodb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(shard),
          UpdateExpression: 'SET nextAtMs = :to',
          ConditionExpression: 'nextAtMs = :from',
          ExpressionAttributeValues: { ':from': from, ':to': to },
        }),
      );
    } catch (error: unknown) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private key(shard: string) {
    return { [JOBS_KEYS.partitionKey]: `stream-read#${shard}` };
  }
}

function ttlOf(ms: number): number {
  return Math.ceil(ms / 1000) + 3600;
}
