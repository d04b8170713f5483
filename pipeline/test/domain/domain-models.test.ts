import { describe, expect, it } from 'vitest';
import {
  alarmDescription,
  alarmName,
  buildStreamRecord,
  COMPOSITE_ALARM,
  consoleDeepLink,
  DlqMessageError,
  defineRule,
  failedIdentifiers,
  OrderValidationError,
  PIPE_ALARMS,
  PIPES,
  PipeDefinitionError,
  parseAlarmName,
  parseDlqMessage,
  parseOrder,
  parseStreamRecord,
  StreamRecordError,
  typedView,
  unmarshallImage,
  validateSourceSettings,
} from '../../src/index.ts';

const dlqBody = {
  context: {
    partnerResourceArn: 'arn:aws:pipes:us-east-1:123456789012:pipe/orderflow-standard',
    condition: 'RetryAttemptsExhausted',
  },
  version: '1.0',
  timestamp: '2026-11-24T10:00:00.000Z',
  DDBStreamBatchInfo: {
    shardId: 'shardId-00000001700000000000-abcdef12',
    startSequenceNumber: '100',
    endSequenceNumber: '300',
    approximateArrivalOfFirstRecord: '2026-11-24T09:59:00.000Z',
    approximateArrivalOfLastRecord: '2026-11-24T09:59:01.000Z',
    batchSize: 3,
    streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-01T00:00:00.000',
  },
};

describe('order schema', () => {
  it('accepts a valid order', () => {
    expect(
      parseOrder({
        orderId: 'o-1',
        customerEmail: 'a@b.org',
        orderAmount: 10.5,
        orderStatus: 'paid',
        orderDate: '2026-11-24T10:00:00Z',
      }).orderAmount,
    ).toBe(10.5);
  });
  it('names every bad field and its problem', () => {
    try {
      parseOrder({ orderId: '', customerEmail: 'nope', orderAmount: -5, orderStatus: 'lost', orderDate: 'yesterday' });
      expect.unreachable();
    } catch (error: unknown) {
      expect(error).toBeInstanceOf(OrderValidationError);
      const message = (error as Error).message;
      for (const field of [
        'orderId',
        'customerEmail: must be an email address, got "nope"',
        'orderAmount: must be >= 0, got -5',
        'orderStatus: must be one of',
        'orderDate',
      ]) {
        expect(message).toContain(field);
      }
    }
  });
  it('rejects fractions of a cent', () => {
    expect(() =>
      parseOrder({
        orderId: 'o',
        customerEmail: 'a@b.org',
        orderAmount: 1.234,
        orderStatus: 'paid',
        orderDate: '2026-11-24T10:00:00Z',
      }),
    ).toThrow(/two decimal places/);
  });
});

describe('stream records', () => {
  const record = buildStreamRecord({
    eventName: 'INSERT',
    newImage: { orderId: 'o-1', orderAmount: 150, tags: [1, 2] },
  });
  it('round-trips the envelope and names malformed fields', () => {
    expect(parseStreamRecord(JSON.parse(JSON.stringify(record)))).toEqual(record);
    expect(() => parseStreamRecord({ ...record, eventName: 'UPSERT' })).toThrow(StreamRecordError);
    expect(() => parseStreamRecord({ ...record, dynamodb: { ...record.dynamodb, SequenceNumber: 'x1' } })).toThrow(
      /SequenceNumber/,
    );
  });
  it('typed view turns N strings into numbers and leaves the raw record untouched', () => {
    const view = typedView(record);
    expect(view.dynamodb.NewImage?.orderAmount).toEqual({ N: 150 });
    expect(record.dynamodb.NewImage?.orderAmount).toEqual({ N: '150' });
    expect(unmarshallImage(record.dynamodb.NewImage)).toEqual({ orderId: 'o-1', orderAmount: 150, tags: [1, 2] });
  });
});

describe('DLQ message model', () => {
  it('parses the metadata-only body AWS sends', () => {
    expect(parseDlqMessage(JSON.stringify(dlqBody)).DDBStreamBatchInfo.batchSize).toBe(3);
  });
  it.each([
    ['not json', 'body is not JSON'],
    [
      JSON.stringify({ ...dlqBody, DDBStreamBatchInfo: { ...dlqBody.DDBStreamBatchInfo, startSequenceNumber: 'abc' } }),
      'DDBStreamBatchInfo.startSequenceNumber',
    ],
    [
      JSON.stringify({ ...dlqBody, context: { ...dlqBody.context, partnerResourceArn: 'arn:aws:sqs:x' } }),
      'context.partnerResourceArn: must be a pipe ARN',
    ],
    [
      JSON.stringify({ ...dlqBody, DDBStreamBatchInfo: { ...dlqBody.DDBStreamBatchInfo, startSequenceNumber: '400' } }),
      'is after endSequenceNumber',
    ],
    [JSON.stringify({ Records: [] }), 'context'],
  ])('rejects %s with a message naming the problem', (body, words) => {
    expect(() => parseDlqMessage(body)).toThrow(DlqMessageError);
    expect(() => parseDlqMessage(body)).toThrow(words);
  });
});

describe('partial batch responses', () => {
  const batch = [{ eventID: 'a' }, { eventID: 'b' }];
  it('reads identifiers and treats an unknown one as a whole-batch failure, as Pipes does', () => {
    expect(failedIdentifiers({ batchItemFailures: [{ itemIdentifier: 'b' }] }, batch)).toEqual(new Set(['b']));
    expect(failedIdentifiers({ batchItemFailures: [] }, batch)).toEqual(new Set());
    expect(failedIdentifiers(null, batch)).toEqual(new Set());
    expect(failedIdentifiers({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }, batch)).toBe('all');
    expect(failedIdentifiers({ batchItemFailures: 'b' }, batch)).toBe('all');
  });
});

describe('pipe definitions', () => {
  it('validates source settings against AWS ranges, naming pipe and setting', () => {
    const ok = PIPES.standard.source;
    expect(() => validateSourceSettings('standard', { ...ok, batchSize: 20_000 })).toThrow(
      "batchSize 20000 for pipe 'standard' exceeds 10000",
    );
    expect(() => validateSourceSettings('standard', { ...ok, maximumRetryAttempts: -2 })).toThrow(PipeDefinitionError);
    expect(() => validateSourceSettings('standard', { ...ok, maximumRetryAttempts: -1 })).not.toThrow();
    expect(() => validateSourceSettings('p', { ...ok, parallelizationFactor: 1.5 })).toThrow(
      'parallelizationFactor 1.5 for pipe',
    );
  });
  it('allows a maximum record age of -1 or 60..604800 seconds only, as AWS does', () => {
    const ok = PIPES.standard.source;
    for (const age of [-1, 60, 604_800]) {
      expect(() => validateSourceSettings('standard', { ...ok, maximumRecordAgeInSeconds: age })).not.toThrow();
    }
    expect(() => validateSourceSettings('standard', { ...ok, maximumRecordAgeInSeconds: 30 })).toThrow(
      "maximumRecordAgeInSeconds 30 for pipe 'standard' is below 60; AWS allows -1 (unlimited) or 60 to 604800",
    );
    for (const age of [0, 59]) {
      expect(() => validateSourceSettings('standard', { ...ok, maximumRecordAgeInSeconds: age })).toThrow(
        PipeDefinitionError,
      );
    }
    expect(() => validateSourceSettings('standard', { ...ok, maximumRecordAgeInSeconds: -2 })).toThrow(
      "maximumRecordAgeInSeconds -2 for pipe 'standard' is below -1 (unlimited) or 60",
    );
    expect(() => validateSourceSettings('standard', { ...ok, maximumRecordAgeInSeconds: 604_801 })).toThrow(
      "maximumRecordAgeInSeconds 604801 for pipe 'standard' exceeds 604800",
    );
  });
  it('refuses clauses that constrain the same field twice', () => {
    expect(() =>
      defineRule([
        { id: 'a', description: '', pattern: { x: ['1'] } },
        { id: 'b', description: '', pattern: { x: ['2'] } },
      ]),
    ).toThrow(/'b' constrains x/);
  });
});

describe('alarms', () => {
  it('names alarms stably and parses the names back', () => {
    for (const alarm of PIPE_ALARMS) {
      expect(parseAlarmName(alarmName(alarm.slug, 'premium'))).toEqual({ pipe: 'premium', slug: alarm.slug });
    }
    expect(parseAlarmName(alarmName(COMPOSITE_ALARM.slug))).toEqual({ slug: 'pipeline-unhealthy' });
    expect(parseAlarmName('someone-else')).toBeUndefined();
  });
  it('descriptions carry what broke, the first check, the runbook and the deep link within AWS limits', () => {
    for (const alarm of [...PIPE_ALARMS, COMPOSITE_ALARM]) {
      const link = consoleDeepLink('https://console.example.com/', alarm.consoleView, {
        pipe: 'standard',
        windowSeconds: 3600,
      });
      const text = alarmDescription(
        alarm,
        { runbookUrl: `https://git.example.com/docs/runbooks/${alarm.slug}.md`, consoleUrl: link },
        'standard',
      );
      expect(text).toContain(alarm.whatBroke);
      expect(text).toContain(`runbooks/${alarm.slug}.md`);
      expect(text).toContain(`https://console.example.com/${alarm.consoleView}?pipe=standard&window=3600`);
      expect(text.length).toBeLessThanOrEqual(1024);
    }
  });
});
