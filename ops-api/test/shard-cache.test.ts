import type { PipeDlqMessage, StreamRecord } from '@orderflow/pipeline/schemas';
import { describe, expect, it } from 'vitest';
import { ShardRecordCache, type ShardSegment, sliceSegment } from '../src/services/stream-reader.ts';

type BatchInfo = PipeDlqMessage['DDBStreamBatchInfo'];

const info = (start: number, end: number, shardId = 'shard-1'): BatchInfo => ({
  shardId,
  startSequenceNumber: String(start).padStart(21, '0'),
  endSequenceNumber: String(end).padStart(21, '0'),
  approximateArrivalOfFirstRecord: '2026-11-24T10:00:00Z',
  approximateArrivalOfLastRecord: '2026-11-24T10:00:00Z',
  batchSize: end - start + 1,
  streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/1',
});

/** A segment as an iterator at `from` would read it: records at the given sequence numbers. */
function segment(from: number, sequences: number[]): ShardSegment {
  return {
    from: BigInt(from),
    last: BigInt(sequences.at(-1) ?? from),
    sequences: sequences.map(BigInt),
    records: sequences.map((sequence) => ({ eventID: `e${sequence}` }) as StreamRecord),
  };
}

const ids = (read: ReturnType<typeof sliceSegment>) =>
  read && !read.stale ? read.records.map((record) => record.eventID) : read;

describe('sliceSegment', () => {
  const read = segment(10, [10, 11, 12, 15, 16]);

  it('answers the records of a range the segment covers', () => {
    expect(ids(sliceSegment(read, info(10, 10)))).toEqual(['e10']);
    expect(ids(sliceSegment(read, info(11, 15)))).toEqual(['e11', 'e12', 'e15']);
    expect(ids(sliceSegment(read, info(16, 16)))).toEqual(['e16']);
  });

  it('reads a covered range without records as stale, as a direct read does', () => {
    expect(sliceSegment(read, info(13, 14))).toEqual({
      stale: true,
      reason: 'the stream returned no records in this range',
    });
  });

  it('does not answer a range starting before the segment or ending after its last record', () => {
    expect(sliceSegment(read, info(9, 11))).toBeUndefined();
    expect(sliceSegment(read, info(15, 17))).toBeUndefined();
  });
});

describe('ShardRecordCache', () => {
  const key = 'stream shard-1';

  it('reads once for many batches, and answers later batches of the stretch from memory', async () => {
    const cache = new ShardRecordCache();
    const reads: BatchInfo[][] = [];
    const read = async (missing: readonly BatchInfo[]) => {
      reads.push([...missing]);
      return segment(Number(missing[0]?.startSequenceNumber), [20, 21, 22, 23, 24, 25]);
    };
    const first = await cache.lookupOrRead(key, [info(20, 21), info(22, 22)], read);
    expect(first.map(ids)).toEqual([['e20', 'e21'], ['e22']]);
    const second = await cache.lookupOrRead(key, [info(23, 25)], read);
    expect(second.map(ids)).toEqual([['e23', 'e24', 'e25']]);
    expect(reads).toHaveLength(1);
    expect(cache.stats).toEqual({ reads: 1, hits: 1 });
    // Not reached by what was read: the caller reads it on its own.
    const beyond = await cache.lookupOrRead(key, [info(26, 27)], async () => undefined);
    expect(beyond).toEqual([undefined]);
  });

  it('makes concurrent batches of one shard wait for the read in flight instead of repeating it', async () => {
    const cache = new ShardRecordCache();
    let reads = 0;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const read = async () => {
      reads += 1;
      await held;
      return segment(1, [1, 2, 3, 4, 5, 6, 7, 8]);
    };
    // Every lookup is made while the first read of its shard is held in flight.
    const lookups = Promise.all([
      cache.lookupOrRead(key, [info(1, 2)], read),
      cache.lookupOrRead(key, [info(3, 4)], read),
      cache.lookupOrRead(key, [info(5, 8)], read),
      cache.lookupOrRead('stream shard-2', [info(1, 1, 'shard-2')], read),
    ]);
    release();
    const answers = await lookups;
    expect(answers.map((answer) => answer.map(ids))).toEqual([
      [['e1', 'e2']],
      [['e3', 'e4']],
      [['e5', 'e6', 'e7', 'e8']],
      [['e1']],
    ]);
    // One read per shard.
    expect(reads).toBe(2);
  });

  it('drops the oldest segments beyond its record limit', async () => {
    const cache = new ShardRecordCache(4);
    await cache.lookupOrRead(key, [info(1, 1)], async () => segment(1, [1, 2, 3]));
    await cache.lookupOrRead(key, [info(10, 10)], async () => segment(10, [10, 11, 12]));
    let reads = 0;
    const again = await cache.lookupOrRead(key, [info(2, 2), info(11, 11)], async () => {
      reads += 1;
      return segment(2, [2]);
    });
    expect(again.map(ids)).toEqual([['e2'], ['e11']]);
    expect(reads).toBe(1);
  });
});
