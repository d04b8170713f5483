import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../src/patterns/index.ts';
import { parsePattern } from '../../src/patterns/parse.ts';
import { LiteralPrefilter } from '../../src/patterns/prefilter.ts';
import { isValidPattern } from './support.ts';

/*
 * The necessary-string prefilter of matchesJson must never reject the text of a matching event. Events here are made
 * to trip it: the pattern's strings appear as keys, in other fields, as parts of longer strings, escaped (`\u0070`),
 * inside arrays, or not at all; keys are dotted and nested; patterns mix exact strings with prefix, suffix, numbers,
 * anything-but, exists and $or.
 */
const words = ['pending', 'pend', 'ing', 'shipped', 'a', 'b', 'a.b', '', 'ß', 'p"q'] as const;
const word = fc.constantFrom(...words);
const key = fc.constantFrom('a', 'b', 'a.b', 'pending', 'shipped', 'b.pending');

const matcher = fc.oneof(
  { weight: 4, arbitrary: word },
  word.map((p) => ({ prefix: p })),
  word.map((s) => ({ suffix: s })),
  fc.constantFrom(0, 1, true, null),
  fc.constantFrom({ exists: true }, { exists: false }, { 'anything-but': 'pending' }, { numeric: ['>', 0] }),
);
const field = fc.array(matcher, { minLength: 1, maxLength: 3 });
const fields = fc.dictionary(key, fc.oneof(field, fc.dictionary(key, field, { minKeys: 1, maxKeys: 2 })), {
  minKeys: 1,
  maxKeys: 3,
});
const pattern = fc
  .tuple(fields, fc.option(fc.array(fields, { minLength: 2, maxLength: 3 }), { freq: 3 }))
  .map(([f, or]) => (or ? { ...f, $or: or } : f));

const leaf = fc.oneof(word, fc.constantFrom(0, 1, 2.5, true, null, 'pending-ish', 'xpending', 'shipped!'));
const event: fc.Arbitrary<Record<string, unknown>> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(fc.oneof(leaf, tie('object')), { maxLength: 3 }),
    tie('object'),
  ),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
})).object as fc.Arbitrary<Record<string, unknown>>;

/** The same JSON with the first `p` of every string token written as `\u0070`: equal after parsing. */
function escapingP(text: string): string {
  return text.replace(/"([^"\\]*?)p/g, '"$1\\u0070');
}

/** An event satisfying the pattern (first `$or` branch, first matcher of each list), so that matches are common. */
function witness(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === '$or') Object.assign(out, witness((v as Record<string, unknown>[])[0] ?? {}));
    else if (!Array.isArray(v)) out[k] = witness(v as Record<string, unknown>);
    else {
      const m: unknown = v[0];
      if (typeof m !== 'object' || m === null) out[k] = m;
      else if ('prefix' in m) out[k] = `${m.prefix}x`;
      else if ('suffix' in m) out[k] = `x${m.suffix}`;
      else if ('numeric' in m) out[k] = 5;
      else if (!('exists' in m && m.exists === false)) out[k] = 'other';
    }
  }
  return out;
}

describe('the necessary-string prefilter', () => {
  it('never rejects the backslash-free text of a matching event, and rejects many others', () => {
    let matched = 0;
    let rejected = 0;
    fc.assert(
      fc.property(pattern, fc.array(event, { minLength: 1, maxLength: 4 }), (p, events) => {
        fc.pre(isValidPattern(p));
        const prefilter = LiteralPrefilter.of(parsePattern(p, 'eventbridge').subRules);
        const compiled = compilePattern(p);
        const near = witness(p);
        for (const e of [...events, near, { ...events[0], ...near }, { ...near, ...events[0] }]) {
          const text = JSON.stringify(e);
          const verdict = compiled.matches(e);
          expect(compiled.matchesJson(text)).toBe(verdict);
          expect(compiled.matchesJson(escapingP(text))).toBe(verdict);
          if (!prefilter || text.includes('\\')) continue;
          const passes = prefilter.mayMatch(text);
          if (verdict) {
            matched++;
            expect(passes).toBe(true);
          } else if (!passes) rejected++;
        }
      }),
      { numRuns: 1500 },
    );
    // Guard against a vacuous run: both outcomes must occur often.
    expect(matched).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  }, 120_000);

  const status = { s: ['pending', 'shipped'] };
  it.each([
    ['the string only as a key', '{"pending":1,"s":"x"}', false],
    ['the string only in another field', '{"t":"pending","s":"x"}', false],
    ['the string inside a longer one', '{"s":"xpending"}', false],
    ['the string escaped', '{"s":"\\u0070ending"}', true],
    ['the string in an array', '{"s":["x","shipped"]}', true],
    ['the field under a dotted key', '{"a":{"b.s":"pending"}}', false],
  ])('agrees with JSON.parse on text with %s', (_, text, expected) => {
    expect(compilePattern(status).matchesJson(text)).toBe(expected);
    expect(compilePattern(status).matches(JSON.parse(text))).toBe(expected);
  });

  it('lets through an event matched by either $or branch, or by a missing field', () => {
    const compiled = compilePattern({ $or: [{ s: ['pending'] }, { t: [{ prefix: 'ship' }] }] });
    expect(compiled.matchesJson('{"t":"shipped"}')).toBe(true);
    expect(compiled.matchesJson('{"s":"pending"}')).toBe(true);
    expect(compiled.matchesJson('{"s":"shipped","t":"pending"}')).toBe(false);
    expect(compilePattern({ s: ['pending'], t: [{ exists: false }] }).matchesJson('{"s":"pending"}')).toBe(true);
  });

  it('requires keys of a sub-rule without values, in every dotted spelling', () => {
    const prefilter = LiteralPrefilter.of(
      parsePattern({ a: { b: { c: [{ exists: true }] } } }, 'eventbridge').subRules,
    );
    for (const text of ['{"a":{"b":{"c":1}}}', '{"a.b":{"c":1}}', '{"a":{"b.c":1}}', '{"a.b.c":1}']) {
      expect(prefilter?.mayMatch(text)).toBe(true);
    }
    expect(prefilter?.mayMatch('{"a":{"b":{"d":1}}}')).toBe(false);
    expect(prefilter?.mayMatch('{"xa":{"b":{"c":1}}}')).toBe(false);
  });

  it('is not built when a sub-rule requires nothing', () => {
    const subRules = parsePattern({ $or: [{ s: ['pending'] }, { n: [{ exists: false }] }] }, 'eventbridge');
    expect(LiteralPrefilter.of(subRules.subRules)).toBeUndefined();
  });
});
