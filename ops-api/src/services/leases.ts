import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { JOBS_KEYS, type PipeKey } from '@orderflow/pipeline/facts';

/**
 * Per-message redrive leases, so that two redrives of one message (from any ops API instance: in AWS every Lambda
 * instance is separate) apply its effects once. A lease is a conditional put in the ops jobs table (`lease#<pipe>#<id>`,
 * pipeline's JOBS_KEYS); it expires by itself so a crashed job cannot block a message forever: the conditions compare
 * `expiresAtMs` (exact), and DynamoDB's TTL removes the item some time after `expiresAt` (seconds; TTL deletes within
 * days, so it only keeps the table small). The holder may take its own lease again (a job continued by a new run).
 */
export const LEASE_SECONDS = 300;
/** TransactWriteItems takes at most 100 actions (DynamoDB API reference). */
const MAX_TRANSACTION_ITEMS = 100;

export type LeaseResult = { readonly acquired: true } | { readonly acquired: false; readonly holder: string };

export class RedriveLeases {
  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async acquire(pipe: PipeKey, messageId: string, holder: string): Promise<LeaseResult> {
    try {
      await this.dynamodb.send(new PutCommand(this.acquisition(pipe, messageId, holder)));
      return { acquired: true };
    } catch (error: unknown) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { acquired: false, holder: await this.holderOf(pipe, messageId) };
    }
  }

  /**
   * Leases for several messages in one TransactWriteItems call (up to {@link MAX_TRANSACTION_ITEMS}): a transaction
   * applies all its conditional puts or none, and its cancellation reasons say which condition failed
   * (DynamoDB API reference, TransactWriteItems). Those messages are refused; the others are tried again together.
   * Any other cancellation (a conflicting transaction on the same lease) falls back to one put per message.
   */
  async acquireMany(pipe: PipeKey, messageIds: readonly string[], holder: string): Promise<Map<string, LeaseResult>> {
    const results = new Map<string, LeaseResult>();
    let pending = [...new Set(messageIds)];
    while (pending.length > 0) {
      const chunk = pending.slice(0, MAX_TRANSACTION_ITEMS);
      try {
        await this.dynamodb.send(
          new TransactWriteCommand({
            TransactItems: chunk.map((id) => ({ Put: this.acquisition(pipe, id, holder) })),
          }),
        );
        for (const id of chunk) results.set(id, { acquired: true });
        pending = pending.slice(chunk.length);
      } catch (error: unknown) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const taken = chunk.filter((_, index) => reasons[index]?.Code === 'ConditionalCheckFailed');
        if (taken.length === 0) {
          for (const id of chunk) results.set(id, await this.acquire(pipe, id, holder));
          pending = pending.slice(chunk.length);
          continue;
        }
        for (const id of taken) results.set(id, { acquired: false, holder: await this.holderOf(pipe, id) });
        pending = pending.filter((id) => !taken.includes(id));
      }
    }
    return results;
  }

  async release(pipe: PipeKey, messageId: string, holder: string): Promise<void> {
    try {
      await this.dynamodb.send(new DeleteCommand(this.releasing(pipe, messageId, holder)));
    } catch (error: unknown) {
      // Someone took over an expired lease: theirs now, nothing to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Releases in one transaction; if any lease was taken over meanwhile, releases one by one (skipping those). */
  async releaseMany(pipe: PipeKey, messageIds: readonly string[], holder: string): Promise<void> {
    const ids = [...new Set(messageIds)];
    for (let i = 0; i < ids.length; i += MAX_TRANSACTION_ITEMS) {
      const chunk = ids.slice(i, i + MAX_TRANSACTION_ITEMS);
      try {
        await this.dynamodb.send(
          new TransactWriteCommand({
            TransactItems: chunk.map((id) => ({ Delete: this.releasing(pipe, id, holder) })),
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        await Promise.all(chunk.map((id) => this.release(pipe, id, holder)));
      }
    }
  }

  private acquisition(pipe: PipeKey, messageId: string, holder: string) {
    const now = Date.now();
    const expiresAtMs = now + LEASE_SECONDS * 1000;
    return {
      TableName: this.table,
      Item: {
        ...this.key(pipe, messageId),
        holder,
        expiresAtMs,
        [JOBS_KEYS.ttlAttribute]: Math.ceil(expiresAtMs / 1000),
      },
      ConditionExpression: 'attribute_not_exists(#pk) OR expiresAtMs < :now OR holder = :holder',
      ExpressionAttributeNames: { '#pk': JOBS_KEYS.partitionKey },
      ExpressionAttributeValues: { ':now': now, ':holder': holder },
    };
  }

  private releasing(pipe: PipeKey, messageId: string, holder: string) {
    return {
      TableName: this.table,
      Key: this.key(pipe, messageId),
      ConditionExpression: 'holder = :holder',
      ExpressionAttributeValues: { ':holder': holder },
    };
  }

  private async holderOf(pipe: PipeKey, messageId: string): Promise<string> {
    const current = await this.dynamodb.send(
      new GetCommand({ TableName: this.table, Key: this.key(pipe, messageId), ConsistentRead: true }),
    );
    return String(current.Item?.holder ?? 'another redrive');
  }

  private key(pipe: PipeKey, messageId: string) {
    return { [JOBS_KEYS.partitionKey]: `lease#${pipe}#${messageId}` };
  }
}
