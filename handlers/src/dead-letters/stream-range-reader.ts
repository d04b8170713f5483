import {
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { type PipeDlqMessage, pipeRecordOf, type StreamRecord } from '@orderflow/pipeline/schemas';
import { backoffDelay, sleep } from './backoff.ts';

type BatchInfo = PipeDlqMessage['DDBStreamBatchInfo'];

export type RangeRead =
  | { readonly status: 'read'; readonly records: readonly StreamRecord[] }
  | { readonly status: 'gone'; readonly reason: string };

/**
 * Errors meaning the stream no longer holds the range: trimmed after 24 hours (`TrimmedDataAccessException`), or the
 * stream or shard is gone (DynamoDB Streams API reference, GetShardIterator and GetRecords errors). The records it
 * held are then missing from the dead letter, never invented.
 */
const GONE = new Set(['TrimmedDataAccessException', 'ResourceNotFoundException', 'ExpiredIteratorException']);
/**
 * Too many reads of the shard. DynamoDB Streams throttles more than two readers of a shard with
 * `LimitExceededException` (docs/AWS-FACTS.md, fact 9), and the two pipes already read every shard: the archiver is
 * the third reader, so it reads only for records the journal lacks, once per shard for all the messages of an
 * invocation, and backs off when throttled.
 */
const THROTTLED = new Set([
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

export interface StreamRangeReaderOptions {
  /** Attempts of one call when throttled before the read fails (the message is then retried by SQS). Default 6. */
  readonly maxAttempts?: number;
  /** GetRecords pages followed from the start before the read fails. Default 50 (50,000 records). */
  readonly maxPages?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class StreamReadError extends Error {
  override readonly name = 'StreamReadError';
}

interface Segment {
  readonly from: bigint;
  /** The last sequence number the segment covers: its last record, or past `to` when the shard ended first. */
  readonly through: bigint;
  readonly records: readonly StreamRecord[];
}

interface Pending {
  readonly info: BatchInfo;
  readonly resolve: (read: RangeRead) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Reads the records of DLQ messages' sequence ranges from the stream: GetShardIterator(AT_SEQUENCE_NUMBER = start)
 * then GetRecords until the end sequence number (docs/AWS-FACTS.md, fact 7), shaped as Pipes delivers them. Reads of
 * one shard are serialized, and ranges asked for while a read is under way are merged into one read from the
 * earliest start (an outage's messages of one shard cost a few calls, not a few per message); what was read is kept
 * for the life of this reader (one invocation). Throttling is retried with backoff and jitter here, not by the SDK
 * (the client is made with `maxAttempts: 1`), so every call to the shard is counted and spaced.
 */
export class StreamRangeReader {
  readonly stats = { getShardIterator: 0, getRecords: 0, throttled: 0 };
  private readonly shards = new Map<string, { pending: Pending[]; busy: boolean; segments: Segment[] }>();
  private readonly maxAttempts: number;
  private readonly maxPages: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private waitingFor: Set<string> | undefined;

  constructor(
    private readonly streams: DynamoDBStreamsClient,
    options: StreamRangeReaderOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 6;
    this.maxPages = options.maxPages ?? 50;
    this.sleep = options.sleep ?? sleep;
  }

  /**
   * Holds every read until each of `participants` (the invocation's messages, by id) has either asked for its read
   * or said it needs none (`leave`): then each shard is read once for all of them, whatever order their journal
   * look-ups finished in. Without it, reads start as they are asked for.
   */
  expect(participants: Iterable<string>): void {
    this.waitingFor = new Set(participants);
  }

  /** The participant needs no (more) read; the last one to arrive starts the held reads. */
  leave(participant: string): void {
    if (!this.waitingFor?.delete(participant)) return;
    if (this.waitingFor.size === 0) this.open();
  }

  read(info: BatchInfo, participant?: string): Promise<RangeRead> {
    const key = `${info.streamArn} ${info.shardId}`;
    let shard = this.shards.get(key);
    if (!shard) {
      shard = { pending: [], busy: false, segments: [] };
      this.shards.set(key, shard);
    }
    const state = shard;
    const promise = new Promise<RangeRead>((resolve, reject) => {
      state.pending.push({ info, resolve, reject });
    });
    if (participant !== undefined) this.leave(participant);
    if (!this.held() && !state.busy) void this.pump(state);
    return promise;
  }

  private held(): boolean {
    return this.waitingFor !== undefined && this.waitingFor.size > 0;
  }

  private open(): void {
    for (const shard of this.shards.values()) if (!shard.busy && shard.pending.length > 0) void this.pump(shard);
  }

  private async pump(shard: { pending: Pending[]; busy: boolean; segments: Segment[] }): Promise<void> {
    shard.busy = true;
    try {
      while (shard.pending.length > 0) {
        const unanswered = shard.pending.splice(0).filter((request) => !this.answer(shard.segments, request));
        if (unanswered.length === 0) continue;
        if (unanswered.length === 1) {
          await this.readOne(shard, unanswered[0] as Pending);
          continue;
        }
        const first = unanswered.reduce((a, b) =>
          BigInt(b.info.startSequenceNumber) < BigInt(a.info.startSequenceNumber) ? b : a,
        );
        const to = unanswered.reduce((max, request) => {
          const end = BigInt(request.info.endSequenceNumber);
          return end > max ? end : max;
        }, 0n);
        let merged: Segment | { gone: string };
        try {
          merged = await this.readSegment(first.info, to);
        } catch (error: unknown) {
          for (const request of unanswered) request.reject(error);
          continue;
        }
        // Gone at the earliest start says nothing of later starts: those are read on their own.
        if (!('gone' in merged)) shard.segments.push(merged);
        for (const request of unanswered) {
          if (!this.answer(shard.segments, request)) await this.readOne(shard, request);
        }
      }
    } finally {
      shard.busy = false;
    }
  }

  private async readOne(shard: { segments: Segment[] }, request: Pending): Promise<void> {
    try {
      const read = await this.readSegment(request.info, BigInt(request.info.endSequenceNumber));
      if ('gone' in read) {
        request.resolve({ status: 'gone', reason: read.gone });
        return;
      }
      shard.segments.push(read);
      if (!this.answer(shard.segments, request)) {
        request.reject(new StreamReadError(`the read of ${describe(request.info)} did not cover its range`));
      }
    } catch (error: unknown) {
      request.reject(error);
    }
  }

  /** Answers the request from a segment covering its whole range; false when none does. */
  private answer(segments: readonly Segment[], request: Pending): boolean {
    const start = BigInt(request.info.startSequenceNumber);
    const end = BigInt(request.info.endSequenceNumber);
    const segment = segments.find((s) => s.from <= start && s.through >= end);
    if (!segment) return false;
    const records = segment.records.filter((record) => {
      const sequence = BigInt(record.dynamodb.SequenceNumber);
      return sequence >= start && sequence <= end;
    });
    request.resolve({ status: 'read', records });
    return true;
  }

  /**
   * One iterator at `info.startSequenceNumber`, pages until a record at or past `to` or the end of the shard. A
   * shard that is gone or trimmed at the start answers `{ gone }`.
   */
  private async readSegment(info: BatchInfo, to: bigint): Promise<Segment | { gone: string }> {
    const from = BigInt(info.startSequenceNumber);
    const records: StreamRecord[] = [];
    let iterator: string | undefined;
    try {
      iterator = (
        await this.call('GetShardIterator', () =>
          this.streams.send(
            new GetShardIteratorCommand({
              StreamArn: info.streamArn,
              ShardId: info.shardId,
              ShardIteratorType: 'AT_SEQUENCE_NUMBER',
              SequenceNumber: info.startSequenceNumber,
            }),
          ),
        )
      ).ShardIterator;
      for (let page = 0; iterator; page++) {
        if (page >= this.maxPages) {
          throw new StreamReadError(
            `${describe(info)}: ${this.maxPages} GetRecords pages read without reaching sequence number ${to}`,
          );
        }
        const current = iterator;
        const answer = await this.call('GetRecords', () =>
          this.streams.send(new GetRecordsCommand({ ShardIterator: current, Limit: 1000 })),
        );
        for (const record of answer.Records ?? []) records.push(pipeRecordOf(record, info.streamArn));
        const last = records.at(-1);
        if (last && BigInt(last.dynamodb.SequenceNumber) >= to) {
          return { from, through: BigInt(last.dynamodb.SequenceNumber), records };
        }
        iterator = answer.NextShardIterator;
      }
    } catch (error: unknown) {
      const name = (error as { name?: string }).name ?? '';
      if (GONE.has(name)) return { gone: `the stream no longer holds these records (${name})` };
      throw error;
    }
    // The shard is closed and ended before `to`: everything it had from `from` on was read.
    return { from, through: to, records };
  }

  private async call<T>(what: 'GetShardIterator' | 'GetRecords', send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (what === 'GetShardIterator') this.stats.getShardIterator++;
      else this.stats.getRecords++;
      try {
        return await send();
      } catch (error: unknown) {
        const name = (error as { name?: string }).name ?? '';
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
        const throttled = THROTTLED.has(name);
        if (throttled) this.stats.throttled++;
        if (!(throttled || status >= 500) || attempt >= this.maxAttempts) throw error;
        await this.sleep(backoffDelay(attempt, 250, 8000));
      }
    }
  }
}

function describe(info: BatchInfo): string {
  return `shard ${info.shardId} range ${info.startSequenceNumber}..${info.endSequenceNumber}`;
}
