import { PIPE_KEYS, type PipeKey } from '@orderflow/pipeline/facts';
import {
  DlqMessageError,
  type JournalEntry,
  orderIdOf,
  type PipeDlqMessage,
  parseStreamRecord,
  type StreamRecord,
  unmarshallImage,
} from '@orderflow/pipeline/schemas';
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../errors.ts';
import type { DlqMessage, DlqMessageDetail, DlqSummary, ListMessagesQuery, ResolvedRecord } from '../schemas/index.ts';
import type { DlqOrigin } from './dlq-origin.ts';
import type { DlqQueue, QueuedMessage } from './dlq-queue.ts';
import type { FilterLab } from './filter-lab.ts';
import type { JournalReader } from './journal.ts';
import type { RecordState } from './record-state.ts';
import type { ShardRecordCache, StreamReader } from './stream-reader.ts';
import { SwrCache } from './swr-cache.ts';

export interface MessagePage {
  readonly messages: DlqMessage[];
  readonly cursor: string | null;
}

/**
 * One walk of a DLQ serves every request for this long: concurrent operators share it instead of hiding messages
 * from each other, and a page costs no SQS call.
 */
const SNAPSHOT_TTL_MS = 2000;
/** Past this age a walk is not served while the next one runs (the caller waits for a fresh walk). */
const SNAPSHOT_MAX_STALE_MS = 10_000;
/**
 * A resolved message (records, journal errors, current items) is fresh this long. A message in the DLQ is done
 * retrying, so its records and journal errors only change through a redrive or discard, which invalidate at once;
 * only the current item can move on meanwhile.
 */
const RESOLVED_TTL_MS = 10_000;
/**
 * Past its TTL a resolution is still served, up to this age, while it is redone in the background: a page never waits
 * for the stream, the journal and the table once its messages were resolved.
 */
const RESOLVED_MAX_STALE_MS = 60_000;
/**
 * Concurrent requests for the same page share one computation (and one serialization, see the route) for this long;
 * an operator refreshing sees a change within a second, as fast as a walk of the queue would show it.
 */
const PAGE_TTL_MS = 1000;
const RESOLVE_CONCURRENCY = 8;

/** A record of a DLQ batch, from the stream or (after 24 hours) the journal; `record` is null when unrecoverable. */
export interface BatchRecord {
  readonly eventId: string;
  readonly sequenceNumber: string;
  readonly orderId: string | null;
  readonly eventName: string;
  readonly record: StreamRecord | null;
  readonly source: 'stream' | 'journal';
  readonly journal: JournalEntry | undefined;
}

export interface BatchRecords {
  readonly stale: boolean;
  readonly reason: string | null;
  readonly records: BatchRecord[];
}

const cursorSchema = z.object({
  v: z.literal(1),
  p: z.enum(PIPE_KEYS),
  t: z.number(),
  i: z.string(),
});

export class DlqBrowser {
  private readonly snapshots = new SwrCache<PipeKey, QueuedMessage[]>(SNAPSHOT_TTL_MS, SNAPSHOT_MAX_STALE_MS);
  /** Keyed `<pipe>#<message id>`, so that a pipe's entries can be invalidated together. */
  private readonly resolved = new SwrCache<string, DlqMessage>(RESOLVED_TTL_MS, RESOLVED_MAX_STALE_MS);
  private readonly records = new SwrCache<string, BatchRecords>(RESOLVED_TTL_MS, RESOLVED_MAX_STALE_MS);
  private readonly pages = new SwrCache<string, MessagePage>(PAGE_TTL_MS, PAGE_TTL_MS, 500);

  constructor(
    private readonly queue: DlqQueue,
    private readonly stream: StreamReader,
    private readonly journal: JournalReader,
    private readonly state: RecordState,
    private readonly lab: FilterLab,
    private readonly queueUrls: Readonly<Record<PipeKey, string>>,
    private readonly origin: DlqOrigin,
  ) {}

  async summaries(): Promise<DlqSummary[]> {
    return Promise.all(
      PIPE_KEYS.map(async (pipe) => {
        const [stats, messages] = await Promise.all([this.queue.stats(pipe), this.snapshot(pipe)]);
        const oldest = messages[0];
        return {
          pipe,
          queueUrl: this.queueUrls[pipe],
          visible: stats.visible,
          inFlight: stats.inFlight,
          oldestMessageAgeSeconds: oldest ? Math.max(0, Math.round((Date.now() - oldest.sentAt) / 1000)) : null,
        };
      }),
    );
  }

  /**
   * A page of resolved messages. Equal queries within {@link PAGE_TTL_MS} get the same page object, which lets the
   * route serialize it once for all of them.
   */
  list(pipe: PipeKey, query: ListMessagesQuery): Promise<MessagePage> {
    const key = `${pipe}#${JSON.stringify([query.limit, query.cursor, query.q, query.from, query.to])}`;
    return this.pages.get(key, () => this.listNow(pipe, query));
  }

  private async listNow(pipe: PipeKey, query: ListMessagesQuery): Promise<MessagePage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, pipe);
    const from = query.from ? Date.parse(query.from) : Number.NEGATIVE_INFINITY;
    const to = query.to ? Date.parse(query.to) : Number.POSITIVE_INFINITY;
    let candidates = (await this.snapshot(pipe)).filter(
      (message) => message.sentAt >= from && message.sentAt <= to && (!after || isAfter(message, after)),
    );
    const needle = query.q?.trim().toLowerCase();
    if (!needle) {
      const page = candidates.slice(0, query.limit);
      const messages = await mapLimited(page, RESOLVE_CONCURRENCY, (message) => this.resolve(pipe, message));
      const last = page.at(-1);
      return { messages, cursor: last && candidates.length > page.length ? encodeCursor(pipe, last) : null };
    }
    // A search has to resolve messages to see their orders and errors; it walks in order until the page is full.
    const messages: DlqMessage[] = [];
    let lastScanned: QueuedMessage | undefined;
    while (candidates.length > 0 && messages.length < query.limit) {
      const slice = candidates.slice(0, RESOLVE_CONCURRENCY);
      candidates = candidates.slice(slice.length);
      const resolved = await mapLimited(slice, RESOLVE_CONCURRENCY, (message) => this.resolve(pipe, message));
      for (const [index, message] of resolved.entries()) {
        lastScanned = slice[index];
        if (matchesSearch(message, needle)) messages.push(message);
        if (messages.length === query.limit) {
          candidates = [...slice.slice(index + 1), ...candidates];
          break;
        }
      }
    }
    return { messages, cursor: lastScanned && candidates.length > 0 ? encodeCursor(pipe, lastScanned) : null };
  }

  /**
   * One message in full: the body as SQS delivered it, and per record the filter explanation and whether its effects
   * were already applied (with ParallelizationFactor > 1 a batch's sequence range holds the other lane's records too,
   * and a record of the range may have succeeded in a retry or a redrive).
   */
  async get(pipe: PipeKey, id: string): Promise<DlqMessageDetail> {
    let queued = (await this.snapshot(pipe)).find((message) => message.id === id);
    if (!queued) {
      // A message newer than the walk: walk again (the resolved caches stay valid).
      this.snapshots.delete(pipe);
      queued = (await this.snapshot(pipe)).find((message) => message.id === id);
    }
    if (!queued) throw new NotFoundError(`message '${id}' is not in the ${pipe} DLQ (redriven, discarded or in use)`);
    const message = await this.resolve(pipe, queued);
    const [batch, processed] = await Promise.all([
      this.cachedRecords(pipe, queued),
      this.state.alreadyProcessed(
        pipe,
        message.records.map((record) => record.eventId),
      ),
    ]);
    return {
      ...message,
      body: queued.body,
      records: message.records.map((record) => {
        const source = batch.records.find((candidate) => candidate.eventId === record.eventId)?.record;
        const alreadyProcessed = processed.has(record.eventId);
        return source
          ? { ...record, explanation: this.lab.explain(pipe, source), alreadyProcessed }
          : { ...record, alreadyProcessed };
      }),
    };
  }

  /** Forget what was read of a pipe's DLQ (after a discard or a redrive changed it). */
  invalidate(pipe: PipeKey): void {
    const ofPipe = (key: string) => key.startsWith(`${pipe}#`);
    this.snapshots.delete(pipe);
    this.pages.clear(ofPipe);
    this.resolved.clear(ofPipe);
    this.records.clear(ofPipe);
  }

  /**
   * The records a DLQ message stands for, read now: from the stream while it holds them (only those the pipe filter
   * delivered, since the batch was made of those), else from the failure journal, flagged stale.
   */
  async recordsOf(pipe: PipeKey, message: PipeDlqMessage): Promise<BatchRecords> {
    const [records] = await this.recordsOfMany(pipe, [message]);
    return records as BatchRecords;
  }

  /**
   * {@link recordsOf} for several messages with shared calls: one stream read per shard, one journal BatchGetItem.
   * `journalErrors: false` skips joining the journal's errors to records the stream still holds (a real redrive reads
   * the journal only for the records that fail again); `cache` keeps what was read of each shard for the next call (a
   * redrive job's).
   */
  async recordsOfMany(
    pipe: PipeKey,
    messages: readonly PipeDlqMessage[],
    options: { journalErrors: boolean; cache?: ShardRecordCache } = { journalErrors: true },
  ): Promise<BatchRecords[]> {
    const infos = messages.map((message) => message.DDBStreamBatchInfo);
    const reads = await this.stream.readBatches(infos, options.cache);
    const delivered = reads.map((read) =>
      read.stale ? [] : read.records.filter((record) => this.lab.pipeFilterMatches(pipe, record)),
    );
    const journal = options.journalErrors
      ? await this.journal.entriesFor(
          pipe,
          delivered.flatMap((records) => records.map((record) => record.eventID)),
        )
      : new Map<string, JournalEntry>();
    return Promise.all(
      reads.map(async (read, index): Promise<BatchRecords> => {
        if (!read.stale) {
          return {
            stale: false,
            reason: null,
            records: (delivered[index] ?? []).map((record) => ({
              eventId: record.eventID,
              sequenceNumber: record.dynamodb.SequenceNumber,
              orderId: orderIdOf(record) ?? null,
              eventName: record.eventName,
              record,
              source: 'stream',
              journal: journal.get(record.eventID),
            })),
          };
        }
        const entries = await this.journal.entriesInRange(pipe, infos[index] as PipeDlqMessage['DDBStreamBatchInfo']);
        return {
          stale: true,
          reason: entries.length ? read.reason : `${read.reason}, and the failure journal has no entry for this range`,
          records: entries.map((entry) => {
            const record = entry.recordTruncated ? null : parseJournalRecord(entry.record);
            return {
              eventId: entry.eventId,
              sequenceNumber: entry.sequenceNumber,
              orderId: entry.orderId ?? (record ? (orderIdOf(record) ?? null) : null),
              eventName: record?.eventName ?? 'unknown',
              record,
              source: 'journal',
              journal: entry,
            };
          }),
        };
      }),
    );
  }

  private snapshot(pipe: PipeKey): Promise<QueuedMessage[]> {
    return this.snapshots.get(pipe, () =>
      this.queue
        .peekAll(pipe)
        .then((all) => all.sort((a, b) => a.sentAt - b.sentAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))),
    );
  }

  /**
   * The body as a dead-letter message of this stack's pipe (see {@link DlqOrigin}), or why it is not one: a body that
   * is not one is shown as malformed and never read further.
   */
  async parse(pipe: PipeKey, body: string): Promise<{ message: PipeDlqMessage } | { malformed: string }> {
    try {
      return { message: await this.origin.parse(pipe, body) };
    } catch (error: unknown) {
      if (error instanceof DlqMessageError) return { malformed: error.message };
      throw error;
    }
  }

  private async cachedRecords(pipe: PipeKey, queued: QueuedMessage): Promise<BatchRecords> {
    const parsed = await this.parse(pipe, queued.body);
    if ('malformed' in parsed) return { stale: false, reason: null, records: [] };
    return this.records.get(`${pipe}#${queued.id}`, () => this.recordsOf(pipe, parsed.message));
  }

  private resolve(pipe: PipeKey, queued: QueuedMessage): Promise<DlqMessage> {
    return this.resolved.get(`${pipe}#${queued.id}`, () => this.resolveNow(pipe, queued));
  }

  private async resolveNow(pipe: PipeKey, queued: QueuedMessage): Promise<DlqMessage> {
    const base = {
      id: queued.id,
      pipe,
      sentAt: new Date(queued.sentAt).toISOString(),
      receiveCount: queued.receiveCount,
    };
    const body = await this.parse(pipe, queued.body);
    if ('malformed' in body) {
      return { ...base, condition: null, batch: null, malformed: body.malformed, stale: false, records: [] };
    }
    const parsed = body.message;
    const batch = await this.cachedRecords(pipe, queued);
    const orderIds = batch.records.flatMap((record) => (record.orderId ? [record.orderId] : []));
    const current = await this.state.currentOrders(orderIds);
    return {
      ...base,
      condition: parsed.context.condition,
      batch: parsed.DDBStreamBatchInfo,
      malformed: null,
      stale: batch.stale,
      records: batch.records.map((record): ResolvedRecord => {
        const entry = record.journal;
        return {
          eventId: record.eventId,
          eventName: record.eventName,
          sequenceNumber: record.sequenceNumber,
          orderId: record.orderId,
          source: record.source,
          newImage: unmarshallImage(record.record?.dynamodb.NewImage) ?? null,
          oldImage: unmarshallImage(record.record?.dynamodb.OldImage) ?? null,
          error: entry
            ? {
                name: entry.errorName,
                message: entry.errorMessage,
                classification: entry.classification,
                attempts: entry.attempts,
                firstFailureAt: entry.firstFailureAt,
                lastFailureAt: entry.lastFailureAt,
              }
            : null,
          currentItem: (record.orderId && current.get(record.orderId)) || null,
        };
      }),
    };
  }
}

function parseJournalRecord(text: string): StreamRecord | null {
  try {
    return parseStreamRecord(JSON.parse(text));
  } catch {
    return null;
  }
}

function matchesSearch(message: DlqMessage, needle: string): boolean {
  if (message.id.toLowerCase().includes(needle)) return true;
  return message.records.some((record) =>
    [
      record.orderId,
      record.newImage?.customerEmail,
      record.oldImage?.customerEmail,
      record.currentItem?.customerEmail,
      record.error?.name,
      record.error?.message,
    ].some((value) => typeof value === 'string' && value.toLowerCase().includes(needle)),
  );
}

function isAfter(message: QueuedMessage, cursor: { t: number; i: string }): boolean {
  return message.sentAt > cursor.t || (message.sentAt === cursor.t && message.id > cursor.i);
}

function encodeCursor(pipe: PipeKey, message: QueuedMessage): string {
  return Buffer.from(JSON.stringify({ v: 1, p: pipe, t: message.sentAt, i: message.id })).toString('base64url');
}

/** Cursors are opaque to clients but validated here: a tampered or foreign cursor is a 400, never a crash. */
function decodeCursor(cursor: string, pipe: PipeKey): { t: number; i: string } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error: unknown) {
    throw new BadRequestError('cursor is not valid: pass the cursor of a previous page unchanged', { cause: error });
  }
  const parsed = cursorSchema.safeParse(value);
  if (!parsed.success) throw new BadRequestError('cursor is not valid: pass the cursor of a previous page unchanged');
  if (parsed.data.p !== pipe) throw new BadRequestError(`cursor belongs to the ${parsed.data.p} DLQ, not ${pipe}`);
  return parsed.data;
}

/** `Promise.all` over `items` with at most `limit` calls in flight, results in input order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}
