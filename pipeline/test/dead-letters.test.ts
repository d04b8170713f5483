import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assembleDeadLetterRecords,
  CAUSE_SIGNATURE_LIMITS,
  causeSignature,
  counterKey,
  DEAD_LETTER_COUNTER_SHARDS,
  DEAD_LETTER_INDEX_SHARDS,
  DeadLetterItemError,
  deadLetterCauseKey,
  deadLetterIndexKeys,
  deadLetterKey,
  deadLetterRecordKey,
  deadLetterShards,
  journalSequenceKey,
  normalizeErrorMessage,
  orderLinkKey,
  paddedSequence,
  parseDeadLetter,
  splitUtf8,
} from '../src/index.ts';

describe('cause signature: examples', () => {
  it.each([
    ['connect ECONNREFUSED 10.0.3.7:443', 'connect ECONNREFUSED <ip>:<port>'],
    ['connect ECONNREFUSED 10.0.9.12:8443', 'connect ECONNREFUSED <ip>:<port>'],
    // Node writes IPv6 addresses and ports as `addr:port`; the port cannot be told from the last group.
    ['connect ECONNREFUSED ::1:4566', 'connect ECONNREFUSED <ip>'],
    ['connect ECONNREFUSED [fe80::1]:443', 'connect ECONNREFUSED [<ip>]:<port>'],
    ['getaddrinfo ENOTFOUND sqs.us-east-1.amazonaws.com', 'getaddrinfo ENOTFOUND sqs.us-east-1.amazonaws.com'],
    ['socket hang up calling localhost:4566', 'socket hang up calling localhost:<port>'],
    [
      'User: arn:aws:sts::123456789012:assumed-role/Orderflow-Role-1AB2C3/fn is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:orderflow-notifications',
      'User: <arn> is not authorized to perform: sqs:SendMessage on resource: <arn>',
    ],
    [
      'Requested resource not found: Table: Orderflow-FailureJournalTable-1A2B3C4D5E6F not found',
      'Requested resource not found: Table: Orderflow-FailureJournalTable-<id> not found',
    ],
    [
      'invalid order: orderAmount: must be >= 0, got -5; customerEmail: must be an email address, got "jane.doe@example.org"',
      'invalid order: orderAmount: must be >= <n>, got <n>; customerEmail: must be an email address, got "<email>"',
    ],
    ['record c81e728d9d4c2f636f067f89cc14862c of order ord-123 not run', 'record <id> of order ord-<n> not run'],
    ['Task timed out after 3.01 seconds', 'Task timed out after <n> seconds'],
    [
      'took 3012ms at 2026-11-24T10:00:00.123Z (request 7b1c8a3e-4f2d-4c1b-9e8a-1234567890ab)',
      'took <n>ms at <timestamp> (request <uuid>)',
    ],
    [
      'Rate exceeded at 10:02:33, retry after Tue, 24 Nov 2026 10:02:34 GMT',
      'Rate exceeded at <timestamp>, retry after <timestamp>',
    ],
    [
      'POST https://sqs.us-east-1.amazonaws.com/123456789012/orderflow-notifications?x=1 failed',
      'POST https://sqs.us-east-1.amazonaws.com/<path> failed',
    ],
    ['Request failed with status code 503', 'Request failed with status code <n>'],
    // Digits inside a word are part of the word.
    ['EC2 and S3 answered   with\n UTF8 errors', 'EC2 and S3 answered with UTF8 errors'],
  ])('%s', (message, normalized) => {
    expect(normalizeErrorMessage(message)).toBe(normalized);
  });

  it('the signature is the class and the normalized message; an empty class reads Error', () => {
    expect(causeSignature({ errorName: 'Error', errorMessage: 'connect ECONNREFUSED 10.0.3.7:443' })).toBe(
      'Error: connect ECONNREFUSED <ip>:<port>',
    );
    expect(causeSignature({ errorName: ' ', errorMessage: 'x' })).toBe('Error: x');
    expect(causeSignature({ errorName: 'TimeoutError', errorMessage: '' })).toBe('TimeoutError');
  });

  it('cuts a long message to the limit without splitting a character', () => {
    const signature = normalizeErrorMessage(`${'x'.repeat(CAUSE_SIGNATURE_LIMITS.message - 1)}😀 tail`);
    expect(signature.length).toBeLessThanOrEqual(CAUSE_SIGNATURE_LIMITS.message);
    expect(signature.endsWith('x')).toBe(true);
  });
});

/** Values that differ between two occurrences of one fault, by the placeholder they become. */
const varying = {
  uuid: fc.uuid(),
  ipv4: fc.ipV4(),
  port: fc.integer({ min: 1, max: 65_535 }).map(String),
  ipv6: fc.ipV6(),
  email: fc.emailAddress(),
  number: fc.integer({ min: -1_000_000, max: 1_000_000_000 }).map(String),
  decimal: fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((n) => n.toFixed(2)),
  timestamp: fc
    .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
    .map((date) => date.toISOString()),
  account: fc.stringMatching(/^\d{12}$/),
  hexId: fc.stringMatching(/^[0-9a-f]{32}$/).filter((id) => /\d/.test(id) && /[a-f]/.test(id)),
};

/** Messages of real faults with holes for the values that vary. */
const templates = fc.constantFrom(
  ({ ipv4, port }: Values) => `connect ECONNREFUSED ${ipv4}:${port}`,
  ({ ipv6, port }: Values) => `connect ETIMEDOUT [${ipv6}]:${port}`,
  ({ ipv6 }: Values) => `connect ECONNREFUSED ${ipv6}`,
  ({ uuid, timestamp }: Values) => `request ${uuid} failed at ${timestamp}`,
  ({ email, number }: Values) => `customerEmail ${email} rejected with code ${number}`,
  ({ account }: Values) =>
    `User: arn:aws:iam::${account}:role/x is not authorized on arn:aws:sqs:eu-west-2:${account}:q`,
  ({ hexId, decimal }: Values) => `record ${hexId} took ${decimal}ms`,
  // The Region stays: which Region failed is part of the cause.
  ({ account }: Values) => `POST https://sqs.us-east-1.amazonaws.com/${account}/orders failed`,
);
type Values = { [K in keyof typeof varying]: string };
const values = fc.record(varying) as fc.Arbitrary<Values>;

describe('cause signature: properties', () => {
  it('two occurrences of one fault with different values have one signature', () => {
    fc.assert(
      fc.property(templates, values, values, (template, a, b) => {
        expect(normalizeErrorMessage(template(a))).toBe(normalizeErrorMessage(template(b)));
      }),
      { numRuns: 500 },
    );
  });

  it('no value of those kinds survives in the signature', () => {
    fc.assert(
      fc.property(templates, values, (template, v) => {
        const normalized = normalizeErrorMessage(template(v));
        for (const value of [v.uuid, v.ipv4, v.email, v.timestamp, v.account, v.hexId]) {
          expect(normalized).not.toContain(value);
        }
        expect(normalized.replace('us-east-1', 'us-east-one')).not.toMatch(/(?<![\w<])\d+(?![\w>])/);
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent and total: any text normalizes, and a signature normalizes to itself', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 600 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .array(
          fc.oneof(
            fc.constantFrom('connect', 'ECONNREFUSED', ':', '::', '.', '/', '@', ' ', '-', '<n>'),
            values.map((v) => v.ipv6),
            fc.string(),
          ),
          {
            maxLength: 20,
          },
        )
        .map((parts) => parts.join(' ')),
    );
    fc.assert(
      fc.property(text, (message) => {
        const once = normalizeErrorMessage(message);
        expect(once.length).toBeLessThanOrEqual(CAUSE_SIGNATURE_LIMITS.message);
        expect(normalizeErrorMessage(once)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });

  it('a message with no value in it reads the same, spacing aside', () => {
    const words = fc.string({ unit: fc.constantFrom(...'abcdefXYZ ,;()-_\n\t'.split('')), maxLength: 200 });
    fc.assert(
      fc.property(words, (message) => {
        expect(normalizeErrorMessage(message)).toBe(message.replace(/\s+/g, ' ').trim());
      }),
    );
  });

  it('takes bounded time on long and pathological messages (a message is input)', () => {
    for (const unit of ['x', 'a-', '1.', 'a:', 'ab@', '::1 ', `${'x'.repeat(30)}9`, 'https://h/']) {
      const message = unit.repeat(Math.ceil(200_000 / unit.length));
      const started = performance.now();
      const normalized = normalizeErrorMessage(message);
      expect(performance.now() - started, unit).toBeLessThan(250);
      expect(normalized.length).toBeLessThanOrEqual(CAUSE_SIGNATURE_LIMITS.message);
    }
  });

  it('different words stay different causes', () => {
    const word = fc.stringMatching(/^[a-z]{3,12}$/);
    fc.assert(
      fc.property(word, word, values, (a, b, v) => {
        fc.pre(a !== b);
        const message = (w: string) => `connect ${w} ${v.ipv4}:${v.port}`;
        expect(normalizeErrorMessage(message(a))).not.toBe(normalizeErrorMessage(message(b)));
      }),
    );
  });
});

describe('dead-letter store keys', () => {
  it('padded sequence numbers sort as the numbers do; anything but 1 to 40 digits is refused', () => {
    const sequence = fc.bigInt({ min: 0n, max: 10n ** 40n - 1n }).map(String);
    fc.assert(
      fc.property(sequence, sequence, (a, b) => {
        const byString = paddedSequence(a) < paddedSequence(b);
        expect(byString).toBe(BigInt(a) < BigInt(b));
        expect(journalSequenceKey(a)).toBe(paddedSequence(a));
      }),
    );
    expect(() => paddedSequence('12a')).toThrow("sequence number '12a' is not 1 to 40 decimal digits");
    expect(journalSequenceKey('')).toBeUndefined();
  });

  it('record items sort by sequence number, then part', () => {
    const keys = [
      deadLetterRecordKey('m1', { sequenceNumber: '900', eventId: 'b' }),
      deadLetterRecordKey('m1', { sequenceNumber: '1000', eventId: 'a' }, 1),
      deadLetterRecordKey('m1', { sequenceNumber: '1000', eventId: 'a' }, 0),
    ];
    expect(keys.map((key) => key.sk).sort()).toEqual([keys[0]?.sk, keys[2]?.sk, keys[1]?.sk]);
    expect(new Set(keys.map((key) => key.pk))).toEqual(new Set([deadLetterKey('m1').pk]));
  });

  it('shards are stable and in range; index keys carry the state, the time and the id', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        const shards = deadLetterShards(id);
        expect(shards).toEqual(deadLetterShards(id));
        expect(shards.index).toBeGreaterThanOrEqual(0);
        expect(shards.index).toBeLessThan(DEAD_LETTER_INDEX_SHARDS);
        expect(shards.counter).toBeLessThan(DEAD_LETTER_COUNTER_SHARDS);
      }),
    );
    const keys = deadLetterIndexKeys({
      id: 'm1',
      pipe: 'standard',
      state: 'open',
      failedAt: '2026-11-24T10:00:00.000Z',
      causeKey: 'c0ffee',
    });
    const shard = deadLetterShards('m1').index;
    expect(keys).toEqual({
      pipeStateKey: `standard#open#${shard}`,
      pipeStateSort: '2026-11-24T10:00:00.000Z#m1',
      causeIndexKey: `c0ffee#${shard}`,
      causeIndexSort: 'open#2026-11-24T10:00:00.000Z#m1',
    });
    expect(orderLinkKey('o-1', '2026-11-24T10:00:00.000Z', 'm1')).toEqual({
      pk: 'order#o-1',
      sk: '2026-11-24T10:00:00.000Z#m1',
    });
    expect(counterKey('premium', 3, 'open', 'c0ffee')).toEqual({ pk: 'count#premium#3', sk: 'open#c0ffee' });
  });

  it('cause keys: 32 hex digits, one per signature', () => {
    const key = deadLetterCauseKey('Error: connect ECONNREFUSED <ip>:<port>');
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(deadLetterCauseKey('Error: connect ECONNREFUSED <ip>:<port>')).toBe(key);
    expect(deadLetterCauseKey('Error: connect ETIMEDOUT <ip>:<port>')).not.toBe(key);
  });
});

describe('dead-letter items', () => {
  it('splitUtf8: the parts join to the text, each within the budget, no character split', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 4, max: 64 }), (text, max) => {
        const parts = splitUtf8(text, max);
        expect(parts.join('')).toBe(text);
        for (const part of parts) expect(Buffer.byteLength(part, 'utf8')).toBeLessThanOrEqual(max);
      }),
    );
    expect(() => splitUtf8('x', 2)).toThrow('maxBytes must be at least 4, got 2');
  });

  it('assembles records from their parts in any order, by sequence; a missing part is an error naming it', () => {
    const item = (eventId: string, sequenceNumber: string, part: number, parts: number, record: string) => ({
      id: 'm1',
      eventId,
      sequenceNumber,
      source: 'stream',
      part,
      parts,
      record,
    });
    expect(
      assembleDeadLetterRecords([
        item('b', '1000', 1, 2, 'def'),
        item('a', '900', 0, 1, '{}'),
        item('b', '1000', 0, 2, 'abc'),
      ]),
    ).toEqual([
      { eventId: 'a', json: '{}' },
      { eventId: 'b', json: 'abcdef' },
    ]);
    expect(() => assembleDeadLetterRecords([item('b', '1000', 1, 2, 'def')])).toThrow(
      new DeadLetterItemError(['record b: 1 of 2 parts present (1)']),
    );
  });

  it('parseDeadLetter names each bad field', () => {
    expect(() => parseDeadLetter({ id: 'm1', kind: 'batch', pipe: 'other', state: 'open' })).toThrow(
      /not a dead letter item: .*pipe: .*version: /,
    );
  });
});
