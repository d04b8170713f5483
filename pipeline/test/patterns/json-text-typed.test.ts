import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../src/patterns/index.ts';
import { PIPES } from '../../src/pipes/definitions.ts';
import { typedView } from '../../src/streams/typed-view.ts';
import { isValidPattern } from './support.ts';

/*
 * With `typedNumbers`, matchesJson reads raw stream-record text as its typed view: it must equal
 * matches(typedView(JSON.parse(text))) on any valid JSON text. The business rules are written for the typed view
 * (`N` values as numbers), and this is what lets them run on the text a stream or the failure journal holds.
 */
function agreesTyped(pattern: unknown, text: string): boolean {
  const typed = compilePattern(pattern, 'eventbridge', { typedNumbers: true });
  const expected = typed.matches(typedView(JSON.parse(text)));
  expect(typed.matchesJson(text), `${JSON.stringify(pattern)} on ${text}`).toBe(expected);
  return expected;
}

describe('typedNumbers: matchesJson reads N and NS strings as the typed view does', () => {
  it('a numeric clause on N matches the number a string spells', () => {
    const pattern = { a: { N: [{ numeric: ['>', 100] }] } };
    expect(compilePattern(pattern).matchesJson('{"a":{"N":"150"}}')).toBe(false);
    const typed = compilePattern(pattern, 'eventbridge', { typedNumbers: true });
    expect(typed.matchesJson('{"a":{"N":"150"}}')).toBe(true);
    expect(typed.matchesJson('{"a":{"N":"100"}}')).toBe(false);
    expect(typed.matchesJson('{"a":{"N":"100.000001"}}')).toBe(true);
    // Spellings Number() reads, as typedView does.
    expect(typed.matchesJson('{"a":{"N":"0x100"}}')).toBe(true);
    expect(typed.matchesJson('{"a":{"N":" 101 "}}')).toBe(true);
    expect(typed.matchesJson('{"a":{"N":"1e400"}}')).toBe(false);
    expect(typed.matchesJson('{"a":{"N":"\\u0031\\u0035\\u0030"}}')).toBe(true);
    // Only the key N itself: a dotted key spelling the same path is not converted by the typed view.
    expect(typed.matchesJson('{"a.N":"150"}')).toBe(false);
    expect(typed.matchesJson('{"a":{"N":150}}')).toBe(true);
  });

  it('a string that spells a number no longer matches as a string; one that does not still does', () => {
    const typed = compilePattern({ a: { N: ['150', { prefix: 'ab' }] } }, 'eventbridge', { typedNumbers: true });
    expect(typed.matchesJson('{"a":{"N":"150"}}')).toBe(false);
    expect(typed.matchesJson('{"a":{"N":"abc"}}')).toBe(true);
  });

  it('NS members are numbers; an array under N and a string under NS are read as written', () => {
    const numeric = compilePattern({ a: { NS: [{ numeric: ['=', 7] }] } }, 'eventbridge', { typedNumbers: true });
    expect(numeric.matchesJson('{"a":{"NS":["1","7"]}}')).toBe(true);
    expect(numeric.matchesJson('{"a":{"NS":"7"}}')).toBe(false);
    const underN = compilePattern({ a: { N: [{ numeric: ['=', 7] }] } }, 'eventbridge', { typedNumbers: true });
    expect(underN.matchesJson('{"a":{"N":["7"]}}')).toBe(false);
    expect(underN.matchesJson('{"a":{"N":[7]}}')).toBe(true);
    // A container inside an NS is not converted by the typed view; the scanner parses such a text instead.
    const nested = compilePattern({ a: { NS: { N: [{ numeric: ['=', 7] }] } } }, 'eventbridge', {
      typedNumbers: true,
    });
    expect(nested.matchesJson('{"a":{"NS":[{"N":"7"}]}}')).toBe(false);
    expect(nested.matchesJson('{"a":{"NS":[{"N":7}]}}')).toBe(true);
    const nestedString = compilePattern({ a: { NS: { N: ['7'] } } }, 'eventbridge', { typedNumbers: true });
    expect(nestedString.matchesJson('{"a":{"NS":[{"N":"7"}]}}')).toBe(true);
  });

  const spelled = [
    '150',
    '150.25',
    '100',
    '100.0',
    '-0',
    '0',
    '007',
    '1.',
    '.5',
    ' 7 ',
    '0x1A',
    '1e2',
    '1E+2',
    '',
    ' ',
    'Infinity',
    '1e400',
    'NaN',
    'abc',
    '12345678901234567',
    '5000000000.000001',
    '-',
    'pending',
  ];
  const stringToken = (value: string, escaped: boolean) =>
    escaped
      ? `"${[...value].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`
      : JSON.stringify(value);
  const leaf = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...spelled), fc.boolean()).map(([v, e]) => stringToken(v, e)) },
    fc.constantFrom('150', '100', '-0', '1e2', 'true', 'null'),
  );
  const key = fc.constantFrom('"N"', '"NS"', '"a"', '"a.N"', '"b"', '"\\u004e"');
  const value: fc.Arbitrary<string> = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    object: fc
      .array(fc.tuple(key, tie('value')), { maxLength: 4 })
      .map((members) => `{${members.map(([k, v]) => `${k}:${v}`).join(',')}}`),
  })).value as fc.Arbitrary<string>;
  const text = fc
    .array(fc.tuple(key, value), { minLength: 1, maxLength: 4 })
    .map((members) => `{${members.map(([k, v]) => `${k}:${v}`).join(',')}}`);
  const matcher = fc.constantFrom<unknown>(
    { numeric: ['>', 100] },
    { numeric: ['=', 0] },
    { numeric: ['<', 10] },
    150,
    '150',
    'abc',
    { prefix: '1' },
    { suffix: 'c' },
    { exists: true },
    { exists: false },
    { 'anything-but': 150 },
    { 'anything-but': 'abc' },
    { 'anything-but': { prefix: '1' } },
    { wildcard: '1*' },
    { 'equals-ignore-case': 'ABC' },
  );
  const pattern = fc.oneof(
    fc.array(matcher, { minLength: 1, maxLength: 2 }).map((m) => ({ N: m })),
    fc.array(matcher, { minLength: 1, maxLength: 2 }).map((m) => ({ NS: m })),
    fc.array(matcher, { minLength: 1, maxLength: 2 }).map((m) => ({ a: { N: m } })),
    fc.array(matcher, { minLength: 1, maxLength: 2 }).map((m) => ({ 'a.N': m, b: [{ exists: false }] })),
    fc.array(matcher, { minLength: 1, maxLength: 2 }).map((m) => ({ $or: [{ N: m }, { a: { NS: m } }] })),
  );

  it('agree on generated texts with N and NS keys, spellings and escapes', () => {
    let matched = 0;
    fc.assert(
      fc.property(pattern, fc.array(text, { minLength: 1, maxLength: 3 }), (p, texts) => {
        fc.pre(isValidPattern(p));
        for (const t of texts) if (agreesTyped(p, t)) matched++;
      }),
      { numRuns: 3000 },
    );
    expect(matched).toBeGreaterThan(100);
  }, 120_000);

  it('agree on stream records for both pipes’ rules, as the guard evaluates them', () => {
    const image = fc
      .tuple(
        fc.constantFrom('pending', 'shipped', 'delivered'),
        fc.constantFrom('50', '50.01', '100', '100.5', '150', '999.99', '1000', '1000.01', '1500', 'x', '1e3', ''),
        fc.constantFrom('a@example.com', 'b@test.com'),
      )
      .map(
        ([status, amount, email]) =>
          `{"orderId":{"S":"o-1"},"customerEmail":{"S":"${email}"},"orderAmount":{"N":"${amount}"},"orderStatus":{"S":"${status}"}}`,
      );
    const record = fc
      .tuple(fc.constantFrom('INSERT', 'MODIFY', 'REMOVE'), fc.option(image), fc.option(image))
      .map(
        ([eventName, newImage, oldImage]) =>
          `{"eventID":"e1","eventName":"${eventName}","eventVersion":"1.1","dynamodb":{"Keys":{"orderId":{"S":"o-1"}}${newImage ? `,"NewImage":${newImage}` : ''}${oldImage ? `,"OldImage":${oldImage}` : ''},"SequenceNumber":"100","StreamViewType":"NEW_AND_OLD_IMAGES"}}`,
      );
    const rules = Object.values(PIPES).map((pipe) => pipe.rule.pattern);
    let matched = 0;
    fc.assert(
      fc.property(record, (t) => {
        for (const rule of rules) if (agreesTyped(rule, t)) matched++;
      }),
      { numRuns: 2000 },
    );
    expect(matched).toBeGreaterThan(50);
  }, 60_000);
});
