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
import { type DlqChanges, InProcessDlqChanges } from './dlq-changes.ts';
import type { DlqOrigin } from './dlq-origin.ts';
import { type DlqQueue, MAX_PEEK_MESSAGES, type QueuedMessage } from './dlq-queue.ts';
import type { FilterLab } from './filter-lab.ts';
import type { JournalReader } from './journal.ts';
import type { OldestMessageAge } from './queue-age.ts';
import type { RecordState } from './record-state.ts';
import { ShardRecordCache, type StreamReader } from './stream-reader.ts';
import { SwrCache } from './swr-cache.ts';

export interface MessagePage {
  readonly messages: DlqMessage[];
  readonly cursor: string | null;
  /** When the view of the queue the page was cut from was read. */
  readonly readAt: string;
}

/**
 * A view of a DLQ (one walk: every message received once, then released at once) is kept and served for as long as
 * the queue's counts (GetQueueAttributes, which receives nothing) say it holds the same number of messages. Each
 * walk adds one to every message's ApproximateReceiveCount, and SQS leaves a message received three or more times out
 * of ApproximateAgeOfOldestMessage, the metric of the `dlq-oldest-message-age` alarm (docs/AWS-FACTS.md, fact 13): so
 * refreshes, other operators and the console's polling share one view instead of walking again. When the counts change
 * (a message arrived or left), the next request walks again, but not sooner than this after the last walk (the
 * default of `DlqBrowserOptions.viewMinIntervalMs`)...
 */
export const VIEW_MIN_INTERVAL_MS = 15_000;
/** ...and a view is walked again after this long even when the counts never changed (one left as another arrived). */
const VIEW_MAX_AGE_MS = 15 * 60_000;
/** DynamoDB Streams keeps records 24 hours; a batch whose first record is older has left the stream (partly). */
const STREAM_RETENTION_MS = 24 * 3600_000;
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

/**
 * A record of a DLQ batch, from the failure journal (lists; a message whose records the journal has) or from the
 * stream (an operator's explicit action); `record` is null when the journal kept only a truncated copy.
 */
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
  /** Records of the batch (its `batchSize`) not among `records`: the journal has no entry for them. */
  readonly missing: number;
}

export interface DlqBrowserOptions {
  /** How soon after a walk a changed queue may be walked again; default {@link VIEW_MIN_INTERVAL_MS}. */
  readonly viewMinIntervalMs?: number;
  /** Changes the ops API made to the DLQs, shared by every instance; default: this process's own only. */
  readonly changes?: DlqChanges;
}

/** A walk of a DLQ, and the queue's size (visible + in flight + delayed) when it started. */
interface View {
  readonly at: number;
  readonly total: number;
  /** The {@link DlqChanges} generation when the walk started; `null` if it could not be read. */
  readonly generation: number | null;
  /**
   * The walk saw every message the counts announced. A message hidden by another reader during the walk (another
   * instance's walk, a redrive's claim) is counted (in flight) but not seen: such a view agrees with the counts while
   * missing a message, so it is served only for the minimum interval, never for as long as the counts match.
   */
  readonly complete: boolean;
  readonly messages: QueuedMessage[];
}

const cursorSchema = z.object({
  v: z.literal(1),
  p: z.enum(PIPE_KEYS),
  t: z.number(),
  i: z.string(),
});

/**
 * Browsing the DLQs for operators. Two rules keep browsing from disturbing what it looks at:
 *
 * - The queue is read as a *view* ({@link View}): one walk receives each message once and releases it at once
 *   (visibility 0), and the view is reused while the queue's counts are unchanged ({@link VIEW_MIN_INTERVAL_MS}).
 *   Counts (`summaries`) come from GetQueueAttributes and the oldest message's age from CloudWatch; neither receives.
 * - A list never reads the stream. The ops API would be a third reader of the stream's shards, where DynamoDB Streams
 *   advises at most two (the two pipes), so a listed message's records come from the failure journal only; the
 *   stream is read on an operator's explicit action (a redrive, or opening one message whose records the journal lacks)
 *   through the {@link StreamReader}'s gate, at most one GetRecords a second per shard.
 */
export class DlqBrowser {
  private readonly views = new Map<PipeKey, View>();
  private readonly walks = new Map<PipeKey, Promise<View>>();
  /** Keyed `<pipe>#<message id>`, so that a pipe's entries can be invalidated together. */
  private readonly resolved = new SwrCache<string, DlqMessage>(RESOLVED_TTL_MS, RESOLVED_MAX_STALE_MS);
  /** What the journal holds of each message's batch (lists). */
  private readonly journalRecords = new SwrCache<string, BatchRecords>(RESOLVED_TTL_MS, RESOLVED_MAX_STALE_MS);
  /** What the stream held of each message's batch, read for a message's detail: stream records never change. */
  private readonly streamRecords = new SwrCache<string, BatchRecords>(VIEW_MAX_AGE_MS, VIEW_MAX_AGE_MS);
  /** Stretches of shards read for details, so that opening the next message of the same stretch reads nothing. */
  private readonly detailReads = new ShardRecordCache();
  private readonly pages = new SwrCache<string, MessagePage>(PAGE_TTL_MS, PAGE_TTL_MS, 500);

  constructor(
    private readonly queue: DlqQueue,
    private readonly stream: StreamReader,
    private readonly journal: JournalReader,
    private readonly state: RecordState,
    private readonly lab: FilterLab,
    private readonly queueUrls: Readonly<Record<PipeKey, string>>,
    private readonly origin: DlqOrigin,
    private readonly age: OldestMessageAge,
    private readonly options: DlqBrowserOptions = {},
  ) {
    this.changes = options.changes ?? new InProcessDlqChanges();
  }

  private readonly changes: DlqChanges;

  /** Counts from GetQueueAttributes and the oldest message's age from CloudWatch: no message is received. */
  async summaries(): Promise<DlqSummary[]> {
    return Promise.all(
      PIPE_KEYS.map(async (pipe) => {
        const [stats, oldest] = await Promise.all([this.queue.stats(pipe), this.age.seconds(pipe)]);
        return {
          pipe,
          queueUrl: this.queueUrls[pipe],
          visible: stats.visible,
          inFlight: stats.inFlight,
          delayed: stats.delayed,
          oldestMessageAgeSeconds: stats.visible + stats.inFlight + stats.delayed === 0 ? null : oldest,
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
    const view = await this.view(pipe);
    let candidates = view.messages.filter(
      (message) => message.sentAt >= from && message.sentAt <= to && (!after || isAfter(message, after)),
    );
    const needle = query.q?.trim().toLowerCase();
    if (!needle) {
      const page = candidates.slice(0, query.limit);
      const messages = await mapLimited(page, RESOLVE_CONCURRENCY, (message) => this.resolve(pipe, message));
      const last = page.at(-1);
      return {
        messages,
        cursor: last && candidates.length > page.length ? encodeCursor(pipe, last) : null,
        readAt: new Date(view.at).toISOString(),
      };
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
    return {
      messages,
      cursor: lastScanned && candidates.length > 0 ? encodeCursor(pipe, lastScanned) : null,
      readAt: new Date(view.at).toISOString(),
    };
  }

  /**
   * One message in full: the body as SQS delivered it, and per record the filter explanation and whether its effects
   * were already applied (with ParallelizationFactor > 1 a batch's sequence range holds the other lane's records too,
   * and a record of the range may have succeeded in a retry or a redrive).
   */
  async get(pipe: PipeKey, id: string): Promise<DlqMessageDetail> {
    const view = await this.view(pipe);
    const queued = view.messages.find((message) => message.id === id);
    if (!queued) {
      throw new NotFoundError(
        `message '${id}' is not in the ${pipe} DLQ as read at ${new Date(view.at).toISOString()} (redriven, discarded, in use, or newer: the view is read again once the queue's counts change)`,
      );
    }
    const parsed = await this.parse(pipe, queued.body);
    // Opening a message is the one browsing action that may read the stream: only for records the journal lacks.
    let batch = await this.cachedJournalRecords(pipe, queued);
    if ('message' in parsed && batch.missing > 0 && !batch.stale) {
      const fromStream = await this.streamRecords.get(`${pipe}#${queued.id}`, () =>
        this.recordsOf(pipe, parsed.message, this.detailReads),
      );
      batch = fromStream.stale
        ? { ...batch, stale: true, reason: `${fromStream.reason}; ${batch.reason}` }
        : fromStream;
    }
    const message = await this.resolveWith(pipe, queued, batch);
    const processed = await this.state.alreadyProcessed(
      pipe,
      message.records.map((record) => record.eventId),
    );
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

  /**
   * The pipe's DLQ as browsing sees it (the kept view, or a new walk when the queue's counts changed): for a rule impact
   * preview, which evaluates every message's records and must not receive the messages again for it.
   */
  async snapshot(pipe: PipeKey): Promise<{ readonly at: number; readonly messages: readonly QueuedMessage[] }> {
    return this.view(pipe);
  }

  /**
   * A discard or a redrive changed the pipe's DLQ: forget what was read of it here, and tell every other instance
   * (which forgets its view at its next request). Never throws: the change has happened.
   */
  async changed(pipe: PipeKey): Promise<void> {
    this.forget(pipe);
    await this.changes.changed(pipe);
  }

  private forget(pipe: PipeKey): void {
    const ofPipe = (key: string) => key.startsWith(`${pipe}#`);
    this.views.delete(pipe);
    this.walks.delete(pipe);
    this.pages.clear(ofPipe);
    this.resolved.clear(ofPipe);
    this.journalRecords.clear(ofPipe);
    this.streamRecords.clear(ofPipe);
  }

  /**
   * The records a DLQ message stands for, read now: from the stream while it holds them (only those the pipe filter
   * delivered, since the batch was made of those), else from the failure journal, flagged stale.
   */
  async recordsOf(pipe: PipeKey, message: PipeDlqMessage, cache?: ShardRecordCache): Promise<BatchRecords> {
    const [records] = await this.recordsOfMany(pipe, [message], { journalErrors: true, ...(cache ? { cache } : {}) });
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
        const info = infos[index] as PipeDlqMessage['DDBStreamBatchInfo'];
        if (!read.stale) {
          const records = delivered[index] ?? [];
          return {
            stale: false,
            reason: null,
            missing: Math.max(0, info.batchSize - records.length),
            records: records.map((record) => ({
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
        const fromJournal = await this.recordsInJournal(pipe, info);
        return {
          ...fromJournal,
          stale: true,
          reason: fromJournal.records.length
            ? read.reason
            : `${read.reason}, and the failure journal has no entry for this range`,
        };
      }),
    );
  }

  /**
   * What the failure journal holds of a batch: the processors journal each record they fail, with the record (cut to
   * fit an item) and the error. An invocation that failed before its handler ran (a crash, a timeout before the
   * handler, a function error at init) journals nothing: those records are `missing`.
   */
  async recordsInJournal(pipe: PipeKey, info: PipeDlqMessage['DDBStreamBatchInfo'], sentAt = 0): Promise<BatchRecords> {
    const entries = await this.journal.entriesInRange(pipe, info, sentAt);
    const stale = Date.now() - Date.parse(info.approximateArrivalOfFirstRecord) > STREAM_RETENTION_MS;
    const missing = Math.max(0, info.batchSize - entries.length);
    return {
      stale,
      reason:
        missing === 0
          ? null
          : `the failure journal holds ${entries.length} of the batch's ${info.batchSize} records (an invocation that failed before its handler ran journals nothing)${stale ? '; the stream no longer holds them either' : '; opening the message reads the others from the stream'}`,
      missing,
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

  /**
   * The current view of a pipe's DLQ: the kept one while it is younger than {@link VIEW_MIN_INTERVAL_MS}, or while it
   * is complete and the queue's counts match it, else a new walk. Concurrent callers share one walk.
   */
  private async view(pipe: PipeKey): Promise<View> {
    const walking = this.walks.get(pipe);
    if (walking) return walking;
    const [stats, generation] = await Promise.all([this.queue.stats(pipe), this.changes.generation(pipe)]);
    const total = stats.visible + stats.inFlight + stats.delayed;
    const kept = this.views.get(pipe);
    if (kept) {
      const age = Date.now() - kept.at;
      const minInterval = this.options.viewMinIntervalMs ?? VIEW_MIN_INTERVAL_MS;
      // Another instance's discard or redrive changed the queue: as if this one had made it (see `changed`).
      const unchanged = generation !== null && kept.generation === generation;
      if (unchanged && (age < minInterval || (age < VIEW_MAX_AGE_MS && kept.complete && kept.total === total))) {
        return kept;
      }
      if (!unchanged && generation !== null) this.forget(pipe);
      else if (generation === null && age < minInterval) return kept;
    }
    const started = this.walks.get(pipe);
    if (started) return started;
    const walk = this.queue.peekAll(pipe).then((all): View => {
      const view = {
        at: Date.now(),
        total,
        generation,
        complete: all.length >= Math.min(total, MAX_PEEK_MESSAGES),
        messages: all.sort((a, b) => a.sentAt - b.sentAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      };
      // Not kept if invalidated meanwhile: the queue changed under the walk.
      if (this.walks.get(pipe) === walk) this.views.set(pipe, view);
      return view;
    });
    this.walks.set(pipe, walk);
    const forget = () => {
      if (this.walks.get(pipe) === walk) this.walks.delete(pipe);
    };
    walk.then(forget, forget);
    return walk;
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

  private async cachedJournalRecords(pipe: PipeKey, queued: QueuedMessage): Promise<BatchRecords> {
    const parsed = await this.parse(pipe, queued.body);
    if ('malformed' in parsed) return { stale: false, reason: null, records: [], missing: 0 };
    return this.journalRecords.get(`${pipe}#${queued.id}`, () =>
      this.recordsInJournal(pipe, parsed.message.DDBStreamBatchInfo, queued.sentAt),
    );
  }

  /** A listed message: its records from the journal only. */
  private resolve(pipe: PipeKey, queued: QueuedMessage): Promise<DlqMessage> {
    return this.resolved.get(`${pipe}#${queued.id}`, async () =>
      this.resolveWith(pipe, queued, await this.cachedJournalRecords(pipe, queued)),
    );
  }

  private async resolveWith(pipe: PipeKey, queued: QueuedMessage, batch: BatchRecords): Promise<DlqMessage> {
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
    const orderIds = batch.records.flatMap((record) => (record.orderId ? [record.orderId] : []));
    const current = await this.state.currentOrders(orderIds);
    return {
      ...base,
      condition: parsed.context.condition,
      batch: parsed.DDBStreamBatchInfo,
      malformed: null,
      stale: batch.stale,
      ...(batch.missing > 0 ? { missingRecords: batch.missing, recordsNote: batch.reason } : {}),
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
