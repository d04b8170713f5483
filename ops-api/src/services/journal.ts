import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { JOURNAL_KEYS, journalRecordKey, type PipeKey } from '@orderflow/pipeline/facts';
import { type JournalEntry, journalEntrySchema, type PipeDlqMessage } from '@orderflow/pipeline/schemas';
import { batchGetByKey } from './batch-get.ts';

/** A range scan of the journal is reused for this long (many DLQ messages of one pipe resolve in one page). */
const SCAN_CACHE_MS = 3000;

/** Reads the failure journal the processors write (why a record failed; the record itself after 24 hours). */
export class JournalReader {
  private readonly scans = new Map<PipeKey, { at: number; entries: Promise<JournalEntry[]> }>();

  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Entries of the given records, by eventID. */
  async entriesFor(pipe: PipeKey, eventIds: readonly string[]): Promise<Map<string, JournalEntry>> {
    if (eventIds.length === 0) return new Map();
    const items = await batchGetByKey(
      this.dynamodb,
      this.table,
      JOURNAL_KEYS.partitionKey,
      eventIds.map((eventId) => journalRecordKey(pipe, eventId)),
    );
    return new Map(parseEntries(items).map((entry) => [entry.eventId, entry]));
  }

  /**
   * Entries whose record lies in a DLQ message's sequence range: what a list shows of a message (the stream is not
   * read for lists), and the fallback once the stream has dropped the records. The journal is keyed by record, not by
   * range, so this scans the pipe's entries (the journal holds only failures, for {@link DEFAULT_JOURNAL_TTL_DAYS}
   * days) and caches the scan briefly; `writtenBefore` (a DLQ message's SentTimestamp: a processor journals a record
   * before the pipe gives its batch up) makes a scan that started earlier than that be done again, so a message new to
   * the DLQ never resolves from a scan that predates its entries.
   */
  async entriesInRange(
    pipe: PipeKey,
    info: PipeDlqMessage['DDBStreamBatchInfo'],
    writtenBefore = 0,
  ): Promise<JournalEntry[]> {
    const start = BigInt(info.startSequenceNumber);
    const end = BigInt(info.endSequenceNumber);
    const entries = await this.scanPipe(pipe, writtenBefore);
    return entries
      .filter((entry) => {
        if (entry.shardHint && entry.shardHint !== info.shardId) return false;
        if (!/^\d+$/.test(entry.sequenceNumber)) return false;
        const sequence = BigInt(entry.sequenceNumber);
        return sequence >= start && sequence <= end;
      })
      .sort((a, b) => (BigInt(a.sequenceNumber) < BigInt(b.sequenceNumber) ? -1 : 1));
  }

  private scanPipe(pipe: PipeKey, writtenBefore: number): Promise<JournalEntry[]> {
    const cached = this.scans.get(pipe);
    if (cached && Date.now() - cached.at < SCAN_CACHE_MS && cached.at > writtenBefore) return cached.entries;
    const entries = this.scanAll(pipe);
    this.scans.set(pipe, { at: Date.now(), entries });
    entries.catch(() => this.scans.delete(pipe));
    return entries;
  }

  private async scanAll(pipe: PipeKey): Promise<JournalEntry[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamodb.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: '#pipe = :pipe',
          ExpressionAttributeNames: { '#pipe': 'pipe' },
          ExpressionAttributeValues: { ':pipe': pipe },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return parseEntries(items);
  }
}

/** Entries that do not match the journal schema are skipped rather than failing a whole page. */
function parseEntries(items: readonly Record<string, unknown>[]): JournalEntry[] {
  return items.flatMap((item) => {
    const parsed = journalEntrySchema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}
