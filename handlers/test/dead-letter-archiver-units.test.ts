import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  LimitExceededException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb-streams';
import { DEAD_LETTER_ARCHIVER_ENV, HANDLER_ENV } from '@orderflow/pipeline/facts';
import { assembleDeadLetterRecords, buildStreamRecord, type PipeDlqMessage } from '@orderflow/pipeline/schemas';
import { describe, expect, it } from 'vitest';
import { buildDeadLetter, type CaptureInput, ITEM_BUDGET } from '../src/dead-letters/build.ts';
import { ArchiverConfigError, loadArchiverConfig } from '../src/dead-letters/config.ts';
import { StreamRangeReader } from '../src/dead-letters/stream-range-reader.ts';

/*
 * The archiver's parts that need no backend: the stream reader's throttling and merging (against a stand-in for
 * DynamoDB Streams, which DynamoDB Local does not throttle), the item budgets, and the configuration.
 */

const streamArn = 'arn:aws:dynamodb:us-east-1:000000000000:table/OrdersTable/stream/2026-01-01T00:00:00.000';
const info = (start: string, end: string, shardId = 'shardId-1'): PipeDlqMessage['DDBStreamBatchInfo'] => ({
  shardId,
  startSequenceNumber: start,
  endSequenceNumber: end,
  approximateArrivalOfFirstRecord: '2026-11-24T10:00:00.000Z',
  approximateArrivalOfLastRecord: '2026-11-24T10:00:00.000Z',
  batchSize: 1,
  streamArn,
});

/** A shard of DynamoDB Streams holding `sequences`, throttling the first `throttle` calls as a third reader is. */
function fakeStreams(sequences: number[], throttle = 0) {
  const calls: string[] = [];
  let throttled = 0;
  const client = {
    async send(command: unknown) {
      if (throttled < throttle) {
        throttled++;
        calls.push('throttled');
        throw new LimitExceededException({ message: 'too many readers', $metadata: {} });
      }
      if (command instanceof GetShardIteratorCommand) {
        calls.push(`GetShardIterator ${command.input.SequenceNumber}`);
        if (command.input.ShardId === 'shardId-gone') {
          throw new ResourceNotFoundException({ message: 'shard not found', $metadata: {} });
        }
        return { ShardIterator: `at:${command.input.SequenceNumber}` };
      }
      if (command instanceof GetRecordsCommand) {
        const from = Number((command.input.ShardIterator ?? '').slice(3));
        calls.push(`GetRecords ${from}`);
        const page = sequences.filter((sequence) => sequence >= from).slice(0, 2);
        const next = page.length === 2 ? sequences.find((sequence) => sequence > (page[1] ?? 0)) : undefined;
        return {
          Records: page.map((sequence) => ({
            eventID: `e${sequence}`,
            eventName: 'INSERT',
            dynamodb: { SequenceNumber: String(sequence), Keys: { orderId: { S: `o${sequence}` } } },
          })),
          NextShardIterator: next === undefined ? `at:${Number.MAX_SAFE_INTEGER}` : `at:${next}`,
        };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  };
  return { client: client as never, calls };
}

describe('StreamRangeReader', () => {
  it('backs off when the shard is throttled (LimitExceededException) and reads once it may', async () => {
    const streams = fakeStreams([10, 20, 30], 2);
    const waits: number[] = [];
    const reader = new StreamRangeReader(streams.client, { sleep: async (ms) => void waits.push(ms) });

    const read = await reader.read(info('10', '20'));

    expect(read).toMatchObject({ status: 'read', records: [{ eventID: 'e10' }, { eventID: 'e20' }] });
    expect(reader.stats).toEqual({ getShardIterator: 3, getRecords: 1, throttled: 2 });
    expect(waits).toHaveLength(2);
    expect(streams.calls).toEqual(['throttled', 'throttled', 'GetShardIterator 10', 'GetRecords 10']);
  });

  it('gives up after its attempts, so that the message is retried later rather than recorded as missing', async () => {
    const reader = new StreamRangeReader(fakeStreams([10], 100).client, { maxAttempts: 3, sleep: async () => {} });
    await expect(reader.read(info('10', '10'))).rejects.toThrow(LimitExceededException);
    expect(reader.stats.throttled).toBe(3);
  });

  it('merges the ranges asked for at once into one read of the shard, and answers each with its own records', async () => {
    const streams = fakeStreams([10, 20, 30, 40, 50]);
    const reader = new StreamRangeReader(streams.client, { sleep: async () => {} });

    const [a, b, c] = await Promise.all([
      reader.read(info('10', '20')),
      reader.read(info('30', '30')),
      reader.read(info('40', '50')),
    ]);

    expect(a).toMatchObject({ records: [{ eventID: 'e10' }, { eventID: 'e20' }] });
    expect(b).toMatchObject({ records: [{ eventID: 'e30' }] });
    expect(c).toMatchObject({ records: [{ eventID: 'e40' }, { eventID: 'e50' }] });
    // The first range is read alone (nothing else was waiting yet); the other two share one iterator.
    expect(streams.calls.filter((call) => call.startsWith('GetShardIterator'))).toEqual([
      'GetShardIterator 10',
      'GetShardIterator 30',
    ]);
  });

  it('holds the reads until every message of the invocation has asked or left, then reads each shard once', async () => {
    const streams = fakeStreams([10, 20, 30, 40, 50]);
    const reader = new StreamRangeReader(streams.client, { sleep: async () => {} });
    reader.expect(['m1', 'm2', 'm3', 'm4']);

    const first = reader.read(info('40', '50'), 'm1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(streams.calls).toEqual([]);
    const second = reader.read(info('10', '20'), 'm2');
    reader.leave('m3');
    reader.leave('m3');
    expect(streams.calls).toEqual([]);
    reader.leave('m4');

    expect(await first).toMatchObject({ records: [{ eventID: 'e40' }, { eventID: 'e50' }] });
    expect(await second).toMatchObject({ records: [{ eventID: 'e10' }, { eventID: 'e20' }] });
    expect(streams.calls.filter((call) => call.startsWith('GetShardIterator'))).toEqual(['GetShardIterator 10']);
  });

  it('answers a range of a shard the stream no longer has as gone, with the reason', async () => {
    const reader = new StreamRangeReader(fakeStreams([10]).client, { sleep: async () => {} });
    expect(await reader.read(info('10', '10', 'shardId-gone'))).toEqual({
      status: 'gone',
      reason: 'the stream no longer holds these records (ResourceNotFoundException)',
    });
  });

  it('fails a read that cannot reach the end of its range within its pages', async () => {
    const reader = new StreamRangeReader(fakeStreams([10, 20, 30, 40, 50, 60]).client, {
      maxPages: 2,
      sleep: async () => {},
    });
    await expect(reader.read(info('10', '60'))).rejects.toThrow(
      'shard shardId-1 range 10..60: 2 GetRecords pages read without reaching sequence number 60',
    );
  });
});

function captureInput(overrides: Partial<CaptureInput> = {}): CaptureInput {
  const record = buildStreamRecord({
    eventName: 'INSERT',
    eventID: 'e1',
    sequenceNumber: '100000000000000000001',
    newImage: { orderId: 'o-1', orderAmount: 150, orderStatus: 'pending' },
  });
  return {
    messageId: 'm-1',
    pipe: 'standard',
    queueArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
    sentAt: '2026-11-24T10:05:01.000Z',
    receiveCount: 1,
    body: '{}',
    capturedAt: new Date('2026-11-24T10:05:02.000Z'),
    content: {
      kind: 'batch',
      message: {
        context: { partnerResourceArn: 'arn:aws:pipes:us-east-1:000000000000:pipe/p', condition: 'RecordAgeExceeded' },
        version: '1.0',
        timestamp: '2026-11-24T10:05:00Z',
        DDBStreamBatchInfo: info(record.dynamodb.SequenceNumber, record.dynamodb.SequenceNumber),
      },
      records: [
        {
          eventId: 'e1',
          sequenceNumber: record.dynamodb.SequenceNumber,
          json: JSON.stringify(record),
          source: 'stream',
          truncated: false,
        },
      ],
      missing: { count: 0 },
    },
    ...overrides,
  };
}

describe('buildDeadLetter', () => {
  it('a batch without journaled errors is an invocation failure of its condition; times in UTC', () => {
    const built = buildDeadLetter(captureInput());
    expect(built.deadLetter).toMatchObject({
      failedAt: '2026-11-24T10:05:00.000Z',
      firstFailureAt: '2026-11-24T10:05:00.000Z',
      cause: { errorName: 'InvocationFailure' },
      orderIds: ['o-1'],
      dlqBody: '{}',
      dlqBodyParts: 0,
    });
    expect(built.deadLetter.cause.signature).toMatch(/^InvocationFailure: RecordAgeExceeded: no record/);
    expect(built.orderLinks.map((link) => link.pk)).toEqual(['order#o-1']);
  });

  it("keeps the records' customer emails of both images, lower-cased and once each, for the list's text search", () => {
    const modify = buildStreamRecord({
      eventName: 'MODIFY',
      eventID: 'e2',
      sequenceNumber: '100000000000000000002',
      newImage: { orderId: 'o-2', customerEmail: 'Jane.Doe@Example.org' },
      oldImage: { orderId: 'o-2', customerEmail: 'old@example.org' },
    });
    const again = buildStreamRecord({
      eventName: 'MODIFY',
      eventID: 'e3',
      sequenceNumber: '100000000000000000003',
      newImage: { orderId: 'o-2', customerEmail: 'jane.doe@example.org' },
    });
    const input = captureInput();
    if (input.content.kind !== 'batch') throw new Error('a batch');
    const records = [modify, again].map((record) => ({
      eventId: record.eventID,
      sequenceNumber: record.dynamodb.SequenceNumber,
      json: JSON.stringify(record),
      source: 'stream' as const,
      truncated: false,
    }));
    const built = buildDeadLetter({
      ...input,
      content: { ...input.content, records: [...input.content.records, ...records] },
    });
    expect(built.deadLetter.emails).toEqual(['jane.doe@example.org', 'old@example.org']);
    expect(built.item.emails).toEqual(['jane.doe@example.org', 'old@example.org']);
    expect(buildDeadLetter(captureInput()).deadLetter.emails).toEqual([]);
  });

  it('keeps an oversized body in parts and a large record across items, each within the item budget', () => {
    const body = 'b'.repeat(ITEM_BUDGET.bodyPartBytes + 10);
    const input = captureInput({ body, content: { kind: 'malformed', problems: ['body is not JSON'] } });
    const built = buildDeadLetter(input);
    expect(built.deadLetter.dlqBody).toBe('');
    expect(built.bodyItems.map((item) => item.text).join('')).toBe(body);
    expect(built.bodyItems).toHaveLength(2);

    const big = captureInput();
    const records = big.content.kind === 'batch' ? big.content.records : [];
    const json = `{"pad":"${'é'.repeat(ITEM_BUDGET.recordPartBytes)}"}`;
    const large = buildDeadLetter({
      ...big,
      content: {
        ...(big.content as Extract<CaptureInput['content'], { kind: 'batch' }>),
        records: [{ ...records[0], json } as never],
      },
    });
    expect(large.recordItems.length).toBeGreaterThan(1);
    for (const item of large.recordItems)
      expect(Buffer.byteLength(item.record)).toBeLessThanOrEqual(ITEM_BUDGET.recordPartBytes);
    expect(assembleDeadLetterRecords(large.recordItems)).toEqual([{ eventId: 'e1', json }]);
  });

  it('keeps the dead letter item within budget however many records the batch had', () => {
    const base = captureInput();
    const content = base.content as Extract<CaptureInput['content'], { kind: 'batch' }>;
    const many = Array.from({ length: 3000 }, (_, i) => ({
      ...content.records[0],
      eventId: `e${i}`,
      sequenceNumber: String(100000000000000000001n + BigInt(i)),
      journal: {
        recordKey: `standard#e${i}`,
        pipe: 'standard' as const,
        eventId: `e${i}`,
        sequenceNumber: '1',
        record: '{}',
        recordTruncated: false,
        errorName: 'Error',
        errorMessage: 'x'.repeat(4000),
        classification: 'transient' as const,
        attempts: 1,
        firstFailureAt: '2026-11-24T10:00:00.000Z',
        lastFailureAt: '2026-11-24T10:01:00.000Z',
        expiresAt: 0,
      },
    })) as never[];
    const built = buildDeadLetter({ ...base, content: { ...content, records: many } });
    expect(Buffer.byteLength(JSON.stringify(built.item))).toBeLessThanOrEqual(ITEM_BUDGET.deadLetterBytes);
    expect(built.deadLetter.recordCount).toBe(3000);
    expect(built.deadLetter.records.length).toBeLessThan(3000);
    expect(built.recordItems).toHaveLength(3000);
  });
});

describe('loadArchiverConfig', () => {
  const env = {
    [HANDLER_ENV.pipe]: 'premium',
    [DEAD_LETTER_ARCHIVER_ENV.deadLetterTable]: 'DeadLetterTable',
    [HANDLER_ENV.journalTable]: 'FailureJournalTable',
    [DEAD_LETTER_ARCHIVER_ENV.deadLetterQueueArn]: 'arn:aws:sqs:us-east-1:123456789012:premium-dlq',
    [DEAD_LETTER_ARCHIVER_ENV.pipeArn]: 'arn:aws:pipes:us-east-1:123456789012:pipe/orderflow-premium',
    [DEAD_LETTER_ARCHIVER_ENV.ordersStreamArn]: streamArn.replace('000000000000', '123456789012'),
  };

  it('reads every variable once', () => {
    expect(loadArchiverConfig(env)).toMatchObject({ pipe: 'premium', deadLetterTable: 'DeadLetterTable' });
  });

  it.each([
    [HANDLER_ENV.pipe, 'express', "ORDERFLOW_PIPE is 'express', expected one of standard, premium"],
    [DEAD_LETTER_ARCHIVER_ENV.deadLetterTable, ' ', 'environment variable DEAD_LETTER_TABLE_NAME is missing or empty'],
    [
      DEAD_LETTER_ARCHIVER_ENV.deadLetterQueueArn,
      'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      "DEAD_LETTER_QUEUE_ARN is 'https://sqs.us-east-1.amazonaws.com/123456789012/q', expected an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)",
    ],
  ])('%s = %j is refused, naming the variable', (variable, value, message) => {
    expect(() => loadArchiverConfig({ ...env, [variable]: value })).toThrow(new ArchiverConfigError(message, variable));
  });
});
