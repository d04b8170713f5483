import {
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { type PipeDlqMessage, pipeRecordOf, type StreamRecord } from '@orderflow/pipeline/schemas';
import { LocalStreamReadGate, STREAM_READ_INTERVAL_MS, type StreamReadGate } from './stream-gate.ts';

export type StreamRead =
  | { readonly stale: false; readonly records: StreamRecord[] }
  | { readonly stale: true; readonly reason: string };

/** Errors meaning "the stream no longer holds these records" (24-hour retention, or the stream was replaced). */
const GONE = new Set(['TrimmedDataAccessException', 'ResourceNotFoundException', 'ExpiredIteratorException']);
/** Errors meaning "too many reads of this shard": back off and try again. */
export const THROTTLED = new Set([
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
export const MAX_ATTEMPTS = 6;
export const MAX_BACKOFF_MS = 16_000;
/** GetRecords pages to follow before giving up on reaching the end sequence (an open shard can answer empty pages). */
const MAX_PAGES = 8;
/**
 * A merged read of several DLQ messages of one shard follows at most this many pages (of up to 1,000 records) from
 * the earliest start; messages it did not reach are read one by one, so a shard with much traffic between two failed
 * batches costs a few pages, not the whole gap.
 */
const MAX_MERGED_PAGES = 3;

type BatchInfo = PipeDlqMessage['DDBStreamBatchInfo'];

/**
 * Re-reads the records a DLQ message stands for: GetShardIterator(AT_SEQUENCE_NUMBER = start) and GetRecords until
 * the end sequence number (docs/AWS-FACTS.md, fact 7; DynamoDB Streams API reference, GetShardIterator), shaped as
 * Pipes
 * delivers them to a target (Pipes adds `eventSourceARN`; `ApproximateCreationDateTime` is epoch seconds).
 */
export class StreamReader {
  /** GetRecords calls sent (tests). */
  readonly stats = { getRecords: 0, throttled: 0 };

  constructor(
    private readonly streams: DynamoDBStreamsClient,
    private readonly gate: StreamReadGate = new LocalStreamReadGate(),
  ) {}

  /**
   * One GetRecords call, through the gate (at most one a second per shard for the whole ops API). Throttling
   * (`LimitExceededException`, `ProvisionedThroughputExceededException`, ...) backs the shard off for every caller,
   * doubling from a second up to {@link MAX_BACKOFF_MS}, and the call is tried again; the SDK's own retries are off
   * for this client (`clients.ts`), since they would bypass the gate.
   */
  private async getRecords(info: BatchInfo, iterator: string) {
    const shard = shardKey(info);
    for (let attempt = 1; ; attempt++) {
      await this.gate.acquire(shard);
      try {
        this.stats.getRecords++;
        return await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      } catch (error: unknown) {
        const name = (error as { name?: string }).name ?? '';
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
        const retryable = THROTTLED.has(name) || status >= 500;
        if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
        if (THROTTLED.has(name)) this.stats.throttled++;
        await this.gate.backOff(shard, Math.min(MAX_BACKOFF_MS, STREAM_READ_INTERVAL_MS * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * Several batches at once: those of one shard share one iterator from the earliest start sequence number (a redrive
   * of ten messages costs one GetShardIterator and one GetRecords instead of ten of each). Answers in input order.
   * With a {@link ShardRecordCache} (one per redrive job), every page read is kept, so later batches whose ranges lie
   * inside an already-read stretch of their shard cost no call at all, and concurrent reads of one shard wait for the
   * read in flight instead of repeating it.
   */
  async readBatches(infos: readonly BatchInfo[], cache?: ShardRecordCache): Promise<StreamRead[]> {
    const results: StreamRead[] = new Array(infos.length);
    const shards = new Map<string, number[]>();
    for (const [index, info] of infos.entries()) {
      const key = shardKey(info);
      shards.set(key, [...(shards.get(key) ?? []), index]);
    }
    await Promise.all(
      [...shards].map(async ([key, indices]) => {
        const batchInfos = indices.map((index) => infos[index] as BatchInfo);
        let answers: (StreamRead | undefined)[];
        if (cache) {
          answers = await cache.lookupOrRead(key, batchInfos, (wanted) => this.readSegment(wanted, true));
        } else {
          const segment = batchInfos.length > 1 ? await this.readSegment(batchInfos, false) : undefined;
          answers = batchInfos.map((info) => (segment ? sliceSegment(segment, info) : undefined));
        }
        await Promise.all(
          indices.map(async (index, position) => {
            results[index] = answers[position] ?? (await this.readBatch(infos[index] as BatchInfo));
          }),
        );
      }),
    );
    return results;
  }

  /**
   * One iterator from the earliest start of these batches (all of one shard), following at most
   * {@link MAX_MERGED_PAGES} pages until a record at or past the latest end: one contiguous stretch of the shard, with
   * every record of the pages read (`wholePages`, for a cache) or those up to that record. `undefined` when the stream
   * no longer has the start (trimmed, expired or gone: the per-batch reads then classify each batch, stale or not, on
   * their own) or answered nothing.
   */
  private async readSegment(infos: readonly BatchInfo[], wholePages: boolean): Promise<ShardSegment | undefined> {
    const first = infos.reduce((a, b) => (BigInt(b.startSequenceNumber) < BigInt(a.startSequenceNumber) ? b : a));
    const lastEnd = infos.reduce((max, info) => {
      const end = BigInt(info.endSequenceNumber);
      return end > max ? end : max;
    }, 0n);
    const records: StreamRecord[] = [];
    const sequences: bigint[] = [];
    try {
      let iterator = (
        await this.streams.send(
          new GetShardIteratorCommand({
            StreamArn: first.streamArn,
            ShardId: first.shardId,
            ShardIteratorType: 'AT_SEQUENCE_NUMBER',
            SequenceNumber: first.startSequenceNumber,
          }),
        )
      ).ShardIterator;
      for (let page = 0; iterator && page < MAX_MERGED_PAGES; page++) {
        const answer = await this.getRecords(first, iterator);
        for (const record of answer.Records ?? []) {
          if (!wholePages && (sequences.at(-1) ?? -1n) >= lastEnd) break;
          sequences.push(BigInt(record.dynamodb?.SequenceNumber ?? '0'));
          records.push(pipeRecordOf(record, first.streamArn));
        }
        if ((answer.Records ?? []).length === 0 || (sequences.at(-1) ?? -1n) >= lastEnd) break;
        iterator = answer.NextShardIterator;
      }
    } catch (error: unknown) {
      if (GONE.has((error as { name?: string }).name ?? '')) return undefined;
      throw error;
    }
    const last = sequences.at(-1);
    if (last === undefined) return undefined;
    return { from: BigInt(first.startSequenceNumber), last, sequences, records };
  }

  async readBatch(info: BatchInfo): Promise<StreamRead> {
    const end = BigInt(info.endSequenceNumber);
    const records: StreamRecord[] = [];
    try {
      const first = await this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: info.streamArn,
          ShardId: info.shardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: info.startSequenceNumber,
        }),
      );
      let iterator = first.ShardIterator;
      for (let page = 0; iterator && page < MAX_PAGES; page++) {
        const answer = await this.getRecords(info, iterator);
        for (const record of answer.Records ?? []) {
          const sequence = record.dynamodb?.SequenceNumber;
          if (!sequence || BigInt(sequence) > end) return { stale: false, records };
          records.push(pipeRecordOf(record, info.streamArn));
          if (BigInt(sequence) === end) return { stale: false, records };
        }
        if ((answer.Records ?? []).length === 0 && records.length > 0) break;
        iterator = answer.NextShardIterator;
      }
    } catch (error: unknown) {
      const name = (error as { name?: string }).name ?? '';
      if (GONE.has(name)) return { stale: true, reason: `the stream no longer holds these records (${name})` };
      throw error;
    }
    if (records.length === 0) return { stale: true, reason: 'the stream returned no records in this range' };
    return { stale: false, records };
  }
}

function shardKey(info: BatchInfo): string {
  return `${info.streamArn} ${info.shardId}`;
}

/**
 * A contiguous stretch of one shard as read from an iterator at sequence number `from`: `records` are every record
 * of the shard from there up to and including the one at `last` (GetRecords answers a shard's records in order and
 * without gaps), with their sequence numbers in `sequences`.
 */
export interface ShardSegment {
  readonly from: bigint;
  readonly last: bigint;
  readonly sequences: readonly bigint[];
  readonly records: readonly StreamRecord[];
}

/**
 * The records of one batch if the segment covers its whole range; `undefined` if it does not (the range starts before
 * the segment or ends after its last record). A covered range holding no record reads as stale, as a direct read does.
 */
export function sliceSegment(segment: ShardSegment, info: BatchInfo): StreamRead | undefined {
  const start = BigInt(info.startSequenceNumber);
  const end = BigInt(info.endSequenceNumber);
  if (start < segment.from || end > segment.last) return undefined;
  let low = 0;
  let high = segment.sequences.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((segment.sequences[middle] as bigint) < start) low = middle + 1;
    else high = middle;
  }
  const records: StreamRecord[] = [];
  for (let i = low; i < segment.sequences.length && (segment.sequences[i] as bigint) <= end; i++) {
    records.push(segment.records[i] as StreamRecord);
  }
  return records.length > 0
    ? { stale: false, records }
    : { stale: true, reason: 'the stream returned no records in this range' };
}

/**
 * Stream records read during one redrive job, per shard, so that the job reads each stretch of a shard once however
 * many of its messages fall in it. Stream records never change once written (they can only be trimmed after 24
 * hours), so a job may replay what it read a moment earlier. Holds at most `maxRecords` records (oldest segments
 * dropped first); reads of one shard are serialized, so batches arriving while a read is in flight wait for it and
 * are served from what it read.
 */
export class ShardRecordCache {
  private readonly segments = new Map<string, ShardSegment[]>();
  /** Every segment held, oldest first, for eviction. */
  private readonly order: { key: string; segment: ShardSegment }[] = [];
  private readonly reading = new Map<string, Promise<void>>();
  private held = 0;
  /** Segment reads issued, and batches answered from what was already read (tests, benchmarks). */
  readonly stats = { reads: 0, hits: 0 };

  constructor(private readonly maxRecords = 20_000) {}

  /** Answers per batch from memory, reading the shard once for the batches it lacks; `undefined`: not reached. */
  async lookupOrRead(
    key: string,
    infos: readonly BatchInfo[],
    read: (missing: readonly BatchInfo[]) => Promise<ShardSegment | undefined>,
  ): Promise<(StreamRead | undefined)[]> {
    let inFlight = this.reading.get(key);
    while (inFlight) {
      // Someone is reading this shard: what they read may cover these batches too.
      await inFlight.catch(() => undefined);
      inFlight = this.reading.get(key);
    }
    const answers = infos.map((info) => this.lookup(key, info));
    const missing = infos.filter((_, index) => answers[index] === undefined);
    this.stats.hits += infos.length - missing.length;
    if (missing.length === 0) return answers;
    this.stats.reads++;
    const reading = read(missing).then((segment) => {
      if (segment) this.add(key, segment);
    });
    this.reading.set(key, reading);
    try {
      await reading;
    } finally {
      this.reading.delete(key);
    }
    return infos.map((info, index) => answers[index] ?? this.lookup(key, info));
  }

  private lookup(key: string, info: BatchInfo): StreamRead | undefined {
    for (const segment of this.segments.get(key) ?? []) {
      const read = sliceSegment(segment, info);
      if (read) return read;
    }
    return undefined;
  }

  private add(key: string, segment: ShardSegment): void {
    this.segments.set(key, [...(this.segments.get(key) ?? []), segment]);
    this.order.push({ key, segment });
    this.held += segment.records.length;
    while (this.held > this.maxRecords && this.order.length > 1) {
      const oldest = this.order.shift();
      if (!oldest) break;
      this.held -= oldest.segment.records.length;
      this.segments.set(
        oldest.key,
        (this.segments.get(oldest.key) ?? []).filter((candidate) => candidate !== oldest.segment),
      );
    }
  }
}
