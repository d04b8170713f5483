import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_KEYS } from '@orderflow/pipeline/facts';
import { AUDIT_DEFAULT_WINDOW_MS, type AuditEntry, type AuditQuery } from '../schemas/index.ts';

const DAY_MS = 86_400_000;

/**
 * The audit trail: append-only (every put is conditional on the item not existing, and nothing updates or deletes
 * audit items). Items are partitioned by UTC day and sorted by `<ISO time>#<id>` (pipeline's AUDIT_KEYS), so a time
 * range is one query per day.
 */
export class AuditLog {
  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async append(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<AuditEntry> {
    const at = new Date().toISOString();
    const full: AuditEntry = { id: randomUUID(), at, ...entry };
    await this.dynamodb.send(
      new PutCommand({
        TableName: this.table,
        Item: { [AUDIT_KEYS.partitionKey]: at.slice(0, 10), [AUDIT_KEYS.sortKey]: `${at}#${full.id}`, ...full },
        ConditionExpression: 'attribute_not_exists(#sk)',
        ExpressionAttributeNames: { '#sk': AUDIT_KEYS.sortKey },
      }),
    );
    return full;
  }

  /** Newest first. Default range: the last 24 hours. */
  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - AUDIT_DEFAULT_WINDOW_MS);
    const days: string[] = [];
    for (let day = Date.parse(to.toISOString().slice(0, 10)); day >= from.getTime() - DAY_MS; day -= DAY_MS) {
      const text = new Date(day).toISOString().slice(0, 10);
      if (text >= from.toISOString().slice(0, 10)) days.push(text);
    }
    const entries: AuditEntry[] = [];
    for (const day of days) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.dynamodb.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: '#pk = :day AND #sk BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey, '#sk': AUDIT_KEYS.sortKey },
            ExpressionAttributeValues: { ':day': day, ':from': from.toISOString(), ':to': `${to.toISOString()}#~` },
            ScanIndexForward: false,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          if (query.actor && item.actor !== query.actor) continue;
          entries.push(toEntry(item));
          if (entries.length >= query.limit) return entries;
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return entries;
  }
}

function toEntry(item: Record<string, unknown>): AuditEntry {
  return {
    id: String(item.id),
    at: String(item.at),
    actor: String(item.actor),
    role: item.role === 'operator' ? 'operator' : 'viewer',
    action: item.action as AuditEntry['action'],
    pipe: item.pipe as AuditEntry['pipe'],
    messageIds: Array.isArray(item.messageIds) ? item.messageIds.map(String) : [],
    outcome: String(item.outcome),
    detail: typeof item.detail === 'string' ? item.detail : null,
    jobId: typeof item.jobId === 'string' ? item.jobId : null,
  };
}
