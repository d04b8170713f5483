import {
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkStreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { PipeDlqMessage, StreamRecord } from '@orderflow/pipeline';

export type StreamRead =
  | { readonly stale: false; readonly records: StreamRecord[] }
  | { readonly stale: true; readonly reason: string };

/** Errors meaning "the stream no longer holds these records" (24-hour retention, or the stream was replaced). */
const GONE = new Set(['TrimmedDataAccessException', 'ResourceNotFoundException', 'ExpiredIteratorException']);
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
 * the end sequence number (DESIGN.md fact 7; DynamoDB Streams API reference, GetShardIterator), shaped as Pipes
 * delivers them to a target (Pipes adds `eventSourceARN`; `ApproximateCreationDateTime` is epoch seconds).
 */
export class StreamReader {
  constructor(private readonly streams: DynamoDBStreamsClient) {}

  /**
   * Several batches at once: those of one shard share one iterator from the earliest start sequence number (a redrive
   * of ten messages costs one GetShardIterator and one GetRecords instead of ten of each). Answers in input order.
   */
  async readBatches(infos: readonly BatchInfo[]): Promise<StreamRead[]> {
    const results: StreamRead[] = new Array(infos.length);
    const shards = new Map<string, number[]>();
    for (const [index, info] of infos.entries()) {
      const key = `${info.streamArn} ${info.shardId}`;
      shards.set(key, [...(shards.get(key) ?? []), index]);
    }
    await Promise.all(
      [...shards.values()].map(async (indices) => {
        const merged =
          indices.length > 1 ? await this.readMerged(indices.map((index) => infos[index] as BatchInfo)) : [];
        await Promise.all(
          indices.map(async (index, position) => {
            results[index] = merged[position] ?? (await this.readBatch(infos[index] as BatchInfo));
          }),
        );
      }),
    );
    return results;
  }

  /** Reads of one shard's batches from one iterator; `undefined` for a batch whose end it did not reach. */
  private async readMerged(infos: readonly BatchInfo[]): Promise<(StreamRead | undefined)[]> {
    const ranges = infos.map((info) => ({
      start: BigInt(info.startSequenceNumber),
      end: BigInt(info.endSequenceNumber),
      records: [] as StreamRecord[],
      complete: false,
    }));
    const first = infos.reduce((a, b) => (BigInt(b.startSequenceNumber) < BigInt(a.startSequenceNumber) ? b : a));
    const lastEnd = ranges.reduce((max, range) => (range.end > max ? range.end : max), 0n);
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
      pages: for (let page = 0; iterator && page < MAX_MERGED_PAGES; page++) {
        const answer = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        for (const record of answer.Records ?? []) {
          const sequence = BigInt(record.dynamodb?.SequenceNumber ?? '0');
          for (const range of ranges) {
            if (range.complete) continue;
            if (sequence >= range.start && sequence <= range.end)
              range.records.push(toPipeRecord(record, first.streamArn));
            if (sequence >= range.end) range.complete = true;
          }
          if (sequence >= lastEnd) break pages;
        }
        if ((answer.Records ?? []).length === 0) break;
        iterator = answer.NextShardIterator;
      }
    } catch (error: unknown) {
      // Trimmed, expired or gone: the per-batch reads classify each batch (stale or not) on their own.
      if (GONE.has((error as { name?: string }).name ?? '')) return [];
      throw error;
    }
    return ranges.map((range) =>
      !range.complete
        ? undefined
        : range.records.length > 0
          ? { stale: false, records: range.records }
          : { stale: true, reason: 'the stream returned no records in this range' },
    );
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
        const answer = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        for (const record of answer.Records ?? []) {
          const sequence = record.dynamodb?.SequenceNumber;
          if (!sequence || BigInt(sequence) > end) return { stale: false, records };
          records.push(toPipeRecord(record, info.streamArn));
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

function toPipeRecord(record: SdkStreamRecord, streamArn: string): StreamRecord {
  const dynamodb = record.dynamodb ?? {};
  const created = dynamodb.ApproximateCreationDateTime;
  return {
    eventID: record.eventID ?? '',
    eventName: (record.eventName ?? 'MODIFY') as StreamRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? '',
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      Keys: (dynamodb.Keys ?? {}) as StreamRecord['dynamodb']['Keys'],
      ...(dynamodb.NewImage ? { NewImage: dynamodb.NewImage as StreamRecord['dynamodb']['Keys'] } : {}),
      ...(dynamodb.OldImage ? { OldImage: dynamodb.OldImage as StreamRecord['dynamodb']['Keys'] } : {}),
      SequenceNumber: dynamodb.SequenceNumber ?? '0',
      SizeBytes: dynamodb.SizeBytes ?? 0,
      StreamViewType: (dynamodb.StreamViewType ?? 'NEW_AND_OLD_IMAGES') as StreamRecord['dynamodb']['StreamViewType'],
    },
  };
}
