import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_KEYS, type PipeKey } from '@orderflow/pipeline';

/**
 * Per-message redrive leases, so that two redrives of one message (from any ops API instance: in AWS every Lambda
 * instance is separate) apply its effects once. A lease is a conditional put in the audit table, in partitions named
 * `lease#...` that never collide with the audit's day partitions; it expires by itself so a crashed job cannot block a
 * message forever.
 */
export const LEASE_SECONDS = 300;
const LEASE_SORT_KEY = 'lease';

export type LeaseResult = { readonly acquired: true } | { readonly acquired: false; readonly holder: string };

export class RedriveLeases {
  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async acquire(pipe: PipeKey, messageId: string, holder: string): Promise<LeaseResult> {
    const now = Date.now();
    try {
      await this.dynamodb.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...this.key(pipe, messageId), holder, expiresAtMs: now + LEASE_SECONDS * 1000 },
          ConditionExpression: 'attribute_not_exists(#pk) OR expiresAtMs < :now',
          ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return { acquired: true };
    } catch (error: unknown) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.dynamodb.send(
        new GetCommand({ TableName: this.table, Key: this.key(pipe, messageId), ConsistentRead: true }),
      );
      return { acquired: false, holder: String(current.Item?.holder ?? 'another redrive') };
    }
  }

  async release(pipe: PipeKey, messageId: string, holder: string): Promise<void> {
    try {
      await this.dynamodb.send(
        new DeleteCommand({
          TableName: this.table,
          Key: this.key(pipe, messageId),
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error: unknown) {
      // Someone took over an expired lease: theirs now, nothing to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private key(pipe: PipeKey, messageId: string) {
    return { [AUDIT_KEYS.partitionKey]: `lease#${pipe}#${messageId}`, [AUDIT_KEYS.sortKey]: LEASE_SORT_KEY };
  }
}
