import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { processBatch } from '../src/processing/batch.ts';
import {
  boundForLog,
  MAX_LOGGED_STRING_LENGTH,
  maskEmail,
  maskForLog,
  maskingJsonReplacer,
  truncationMarker,
} from '../src/processing/masking.ts';
import { captureOutput, jsonLines, standardRecord, testDependencies } from './support.ts';

describe('email masking', () => {
  it('keeps the first character and the domain', () => {
    expect(maskEmail('jane.doe@example.org')).toBe('j***@example.org');
    expect(maskEmail('customer x@y.co and b.c+tag@mail.example.com')).toBe(
      'customer x***@y.co and b***@mail.example.com',
    );
    expect(maskEmail('no email here')).toBe('no email here');
  });

  it('masks every email in the real log lines of processed, rejected and failed records', async () => {
    const deps = testDependencies('standard');
    const records = [
      standardRecord({ customerEmail: 'jane.doe@example.org' }),
      standardRecord({ customerEmail: 'qa.person@test.com' }),
      // Fails validation; the error message quotes the bad value, which contains an address.
      standardRecord({ customerEmail: 'broken@@example.org' }),
    ];
    const { lines } = await captureOutput(() => processBatch(records, deps));
    const output = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const raw of ['jane.doe@example.org', 'qa.person@test.com', 'broken@@example.org', 'broken@']) {
      expect(output).not.toContain(raw);
    }
    const processed = jsonLines(lines).find((line) => line.message === 'record processed');
    expect(processed).toMatchObject({
      customerEmail: 'j***@example.org',
      orderId: records[0]?.dynamodb.Keys.orderId?.S,
      eventId: records[0]?.eventID,
    });
    // The effects (and so the downstream notification) still see the real address.
    expect(deps.applied[0]?.order.customerEmail).toBe('jane.doe@example.org');
  });
});

/** The former implementation, kept as the reference: right on short input, quadratic on long words without `@`. */
const REFERENCE = /([^\s"'<>()[\]{},;:\\/@])[^\s"'<>()[\]{},;:\\/]*@([^\s"'<>()[\]{},;:\\/@]+)/g;
const referenceMask = (text: string) => text.replace(REFERENCE, '$1***@$2');

describe('email masking in linear time', () => {
  // Characters that matter to masking (every separator, `@`, word characters, whitespace beyond ASCII, surrogates),
  // so that random strings hold many addresses, near-addresses and edge cases.
  const pieces = fc.constantFrom(
    ...'@@@@ab.xZ9-_+é\t\n\v\f\r "\'<>()[]{},;:\\/'.split(''),
    '\u00a0',
    '\u1680',
    '\u2000',
    '\u200a',
    '\u2028',
    '\u202f',
    '\u3000',
    '\ufeff',
    '\u0085',
    '\ud83d\ude00',
    '\ud83d',
    'jane.doe@example.org',
    'a@@b.org',
    'node_modules/@aws-sdk',
  );
  const text = fc.array(pieces, { maxLength: 60 }).map((parts) => parts.join(''));

  it('property: masks exactly as the former regular expression did', () => {
    fc.assert(
      fc.property(text, (input) => {
        expect(maskEmail(input)).toBe(referenceMask(input));
      }),
      { numRuns: 5000 },
    );
  });

  it('property: also on arbitrary strings (any UTF-16 code units)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ maxLength: 20 }), (a, b) => {
        const input = `${a}@${b}`;
        expect(maskEmail(input)).toBe(referenceMask(input));
      }),
      { numRuns: 500 },
    );
  });

  it('handles a 1 MB string without @, and one with a single @ at its end, returning their masked form', () => {
    const noAt = 'a'.repeat(1024 * 1024);
    expect(maskEmail(noAt)).toBe(noAt);
    const oneAt = `${noAt}@example.org`;
    expect(maskEmail(oneAt)).toBe('a***@example.org');
    const spaced = `${'word '.repeat(200_000)}x@y.z`;
    expect(maskEmail(spaced)).toHaveLength(spaced.length + 3);
  });
});

describe('bounding logged strings', () => {
  const max = MAX_LOGGED_STRING_LENGTH;

  it('keeps strings up to the documented maximum as they are', () => {
    const atMax = 'x'.repeat(max);
    expect(boundForLog(atMax)).toBe(atMax);
    expect(boundForLog('')).toBe('');
  });

  it('cuts a longer string to the maximum, with a marker giving its full length', () => {
    const long = 'x'.repeat(max + 1);
    expect(boundForLog(long)).toBe(`${'x'.repeat(max)}${truncationMarker(max + 1, max)}`);
    expect(truncationMarker(max + 1, max)).toBe(` [log string cut: ${max + 1} characters, the first ${max} kept]`);
  });

  it('bounds a 1 MB string without @ before masking: the logged form has a fixed length', () => {
    const huge = 'b'.repeat(1024 * 1024);
    const logged = maskForLog(huge);
    expect(logged).toHaveLength(max + truncationMarker(huge.length, max).length);
    expect(logged.endsWith(truncationMarker(huge.length, max))).toBe(true);
    expect(maskingJsonReplacer('customerEmail', huge)).toBe(logged);
    expect(maskingJsonReplacer('orderAmount', 150)).toBe(150);
  });

  it('never logs the start of an address whose @ was cut off, nor half a surrogate pair', () => {
    const address = 'jane.doe.secret@example.org';
    // The cut falls in the local part, right before the @, right after it, and in the domain.
    for (const offset of [1, 5, 15, 16, 20]) {
      const input = `${'y '.repeat(max)}`.slice(0, max - offset) + address;
      const logged = maskForLog(input);
      expect(logged).not.toContain('jane');
      expect(logged).not.toContain('doe');
      expect(logged.length).toBeLessThanOrEqual(max + truncationMarker(input.length, max).length);
    }
    const emoji = `${'z'.repeat(max - 1)}\ud83d\ude00tail`;
    const cut = boundForLog(emoji);
    expect(cut.startsWith(`${'z'.repeat(max - 1)} [log string cut`)).toBe(true);
  });

  it('masks an address that ends inside the kept part as usual', () => {
    const input = `${'w '.repeat(max / 2 - 10)}ann@example.org ${'v'.repeat(100)}`;
    const logged = maskForLog(input);
    expect(logged).toContain('a***@example.org');
    expect(logged).not.toContain('ann@');
  });
});
