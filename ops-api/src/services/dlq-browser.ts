import {
  DlqMessageError,
  type JournalEntry,
  orderIdOf,
  PIPE_KEYS,
  type PipeDlqMessage,
  type PipeKey,
  parseDlqMessage,
  parseStreamRecord,
  type StreamRecord,
  unmarshallImage,
} from '@orderflow/pipeline';
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../errors.ts';
import type { DlqMessage, DlqMessageDetail, DlqSummary, ListMessagesQuery, ResolvedRecord } from '../schemas/index.ts';
import type { DlqQueue, QueuedMessage } from './dlq-queue.ts';
import type { FilterLab } from './filter-lab.ts';
import type { JournalReader } from './journal.ts';
import type { RecordState } from './record-state.ts';
import type { StreamReader } from './stream-reader.ts';

/**
 * One walk of a DLQ serves every request for this long: concurrent operators share it instead of hiding messages
 * from each other, and a page costs no SQS call.
 */
const SNAPSHOT_TTL_MS = 2000;
/** Past this age a walk is not served while the next one runs (the caller waits for a fresh walk). */
const SNAPSHOT_MAX_STALE_MS = 10_000;
/** A resolved message (records, journal errors, current items) is reused this long. */
const RESOLVED_TTL_MS = 2000;
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
  p: z.enum(PIPE_KEYS as [PipeKey, ...PipeKey[]]),
  t: z.number(),
  i: z.string(),
});

export class DlqBrowser {
  private readonly snapshots = new Map<PipeKey, { at: number; messages: Promise<QueuedMessage[]> }>();
  private readonly refreshing = new Set<PipeKey>();
  private readonly resolved = new Map<string, { at: number; message: Promise<DlqMessage> }>();

  constructor(
    private readonly queue: DlqQueue,
    private readonly stream: StreamReader,
    private readonly journal: JournalReader,
    private readonly state: RecordState,
    private readonly lab: FilterLab,
    private readonly queueUrls: Readonly<Record<PipeKey, string>>,
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

  async list(pipe: PipeKey, query: ListMessagesQuery): Promise<{ messages: DlqMessage[]; cursor: string | null }> {
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

  /** One message in full: the body as SQS delivered it, and the filter explanation per record. */
  async get(pipe: PipeKey, id: string): Promise<DlqMessageDetail> {
    let queued = (await this.snapshot(pipe)).find((message) => message.id === id);
    if (!queued) {
      this.invalidate(pipe);
      queued = (await this.snapshot(pipe)).find((message) => message.id === id);
    }
    if (!queued) throw new NotFoundError(`message '${id}' is not in the ${pipe} DLQ (redriven, discarded or in use)`);
    const message = await this.resolve(pipe, queued);
    const batch = await this.cachedRecords(pipe, queued);
    return {
      ...message,
      body: queued.body,
      records: message.records.map((record) => {
        const source = batch.records.find((candidate) => candidate.eventId === record.eventId)?.record;
        return source ? { ...record, explanation: this.lab.explain(pipe, source) } : record;
      }),
    };
  }

  /** Forget the walk of a pipe's DLQ (after a discard or a redrive changed it). */
  invalidate(pipe: PipeKey): void {
    this.snapshots.delete(pipe);
  }

  /**
   * The records a DLQ message stands for, read now: from the stream while it holds them (only those the pipe filter
   * delivered, since the batch was made of those), else from the failure journal, flagged stale.
   */
  async recordsOf(pipe: PipeKey, message: PipeDlqMessage): Promise<BatchRecords> {
    const info = message.DDBStreamBatchInfo;
    const read = await this.stream.readBatch(info);
    if (!read.stale) {
      const delivered = read.records.filter((record) => this.lab.pipeFilterMatches(pipe, record));
      const journal = await this.journal.entriesFor(
        pipe,
        delivered.map((record) => record.eventID),
      );
      return {
        stale: false,
        reason: null,
        records: delivered.map((record) => ({
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
    const entries = await this.journal.entriesInRange(pipe, info);
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
  }

  private snapshot(pipe: PipeKey): Promise<QueuedMessage[]> {
    const cached = this.snapshots.get(pipe);
    if (cached && Date.now() - cached.at < SNAPSHOT_TTL_MS) return cached.messages;
    if (cached && !this.refreshing.has(pipe) && Date.now() - cached.at < SNAPSHOT_MAX_STALE_MS) {
      // Serve the previous walk while the next one runs, so no request waits for a walk under load.
      this.refreshing.add(pipe);
      const next = this.walk(pipe);
      next.then(
        () => {
          this.snapshots.set(pipe, { at: Date.now(), messages: next });
          this.refreshing.delete(pipe);
        },
        () => this.refreshing.delete(pipe),
      );
      return cached.messages;
    }
    if (cached && this.refreshing.has(pipe)) return cached.messages;
    const messages = this.walk(pipe);
    this.snapshots.set(pipe, { at: Date.now(), messages });
    messages.catch(() => this.snapshots.delete(pipe));
    return messages;
  }

  private walk(pipe: PipeKey): Promise<QueuedMessage[]> {
    return this.queue
      .peekAll(pipe)
      .then((all) => all.sort((a, b) => a.sentAt - b.sentAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  }

  private readonly recordCache = new Map<string, { at: number; records: Promise<BatchRecords> }>();

  private cachedRecords(pipe: PipeKey, queued: QueuedMessage): Promise<BatchRecords> {
    const cached = this.recordCache.get(queued.id);
    if (cached && Date.now() - cached.at < RESOLVED_TTL_MS) return cached.records;
    let parsed: PipeDlqMessage;
    try {
      parsed = parseDlqMessage(queued.body);
    } catch {
      return Promise.resolve({ stale: false, reason: null, records: [] });
    }
    const records = this.recordsOf(pipe, parsed);
    evictOld(this.recordCache, RESOLVED_TTL_MS);
    this.recordCache.set(queued.id, { at: Date.now(), records });
    records.catch(() => this.recordCache.delete(queued.id));
    return records;
  }

  private resolve(pipe: PipeKey, queued: QueuedMessage): Promise<DlqMessage> {
    const cached = this.resolved.get(queued.id);
    if (cached && Date.now() - cached.at < RESOLVED_TTL_MS) return cached.message;
    const message = this.resolveNow(pipe, queued);
    evictOld(this.resolved, RESOLVED_TTL_MS);
    this.resolved.set(queued.id, { at: Date.now(), message });
    message.catch(() => this.resolved.delete(queued.id));
    return message;
  }

  private async resolveNow(pipe: PipeKey, queued: QueuedMessage): Promise<DlqMessage> {
    const base = {
      id: queued.id,
      pipe,
      sentAt: new Date(queued.sentAt).toISOString(),
      receiveCount: queued.receiveCount,
    };
    let parsed: PipeDlqMessage;
    try {
      parsed = parseDlqMessage(queued.body);
    } catch (error: unknown) {
      if (!(error instanceof DlqMessageError)) throw error;
      return { ...base, condition: null, batch: null, malformed: error.message, stale: false, records: [] };
    }
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

function evictOld<T extends { at: number }>(cache: Map<string, T>, ttl: number): void {
  if (cache.size < 1000) return;
  const now = Date.now();
  for (const [key, entry] of cache) if (now - entry.at >= ttl) cache.delete(key);
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
