import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, PatternValidationError, referenceMatch, validatePattern } from '../../src/patterns/index.ts';
import { isValidPattern } from './support.ts';

/*
 * The compiled matcher, its JSON-text path, the explanation and the reference interpreter must always agree. Keys and
 * values come from small pools so that random patterns and events actually meet: dotted keys, arrays of objects
 * (array consistency), IP addresses, case variants, and numbers on both sides of the comparable range.
 */
const keys = fc.constantFrom('a', 'b', 'c', 'a.b', 'b.c', 'x');
const strings = fc.constantFrom(
  '',
  'pending',
  'PENDING',
  'shipped',
  'a@test.com',
  'x.png',
  'init-1',
  '10.0.0.7',
  '10.0.1.1',
  '::1',
  'straße',
  'STRASSE',
  '*',
  'a\\b',
  'ß',
);
const numbers = fc.oneof(
  fc.constantFrom(0, -0, 1, 100, 100.5, 101, 1e-7, 300.0000001, 5e9, 5e9 + 1, -5e9, 123456789012, 0.1 + 0.2),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ min: -1e10, max: 1e10, noNaN: true, noDefaultInfinity: true }),
);
const leafValue = fc.oneof(strings, numbers, fc.boolean(), fc.constant(null));

const event: fc.Arbitrary<Record<string, unknown>> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafValue,
    fc.array(fc.oneof(leafValue, tie('object')), { maxLength: 3 }),
    tie('object'),
  ),
  object: fc.dictionary(keys, tie('value'), { maxKeys: 4 }),
})).object as fc.Arbitrary<Record<string, unknown>>;

const matcher = fc.oneof(
  leafValue,
  strings.map((s) => ({ prefix: s })),
  strings.map((s) => ({ suffix: s })),
  strings.map((s) => ({ prefix: { 'equals-ignore-case': s } })),
  strings.map((s) => ({ suffix: { 'equals-ignore-case': s } })),
  strings.map((s) => ({ 'equals-ignore-case': s })),
  fc.constantFrom('*', 'p*', '*.png', '*test.com*', 'a\\\\b', '10.0.*', '').map((w) => ({ wildcard: w })),
  fc.constantFrom('10.0.0.0/24', '10.0.0.5/24', '::/0', '::1/127').map((c) => ({ cidr: c })),
  fc.boolean().map((exists) => ({ exists })),
  fc
    .tuple(fc.constantFrom('>', '>=', '<', '<=', '='), fc.integer({ min: -200, max: 200 }))
    .map(([op, n]) => ({ numeric: [op, n] })),
  fc
    .tuple(fc.integer({ min: -200, max: 0 }), fc.integer({ min: 1, max: 200 }))
    .map(([lo, hi]) => ({ numeric: ['>', lo, '<=', hi] })),
  fc.array(strings, { minLength: 1, maxLength: 2 }).map((v) => ({ 'anything-but': v })),
  fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 2 }).map((v) => ({ 'anything-but': v })),
  fc.constantFrom('init', 'x', 'p').map((p) => ({ 'anything-but': { prefix: p } })),
  fc.constantFrom('.png', '.com').map((s) => ({ 'anything-but': { suffix: s } })),
  strings.map((s) => ({ 'anything-but': { 'equals-ignore-case': s } })),
  fc.constantFrom('*test.com*', 'p*', '').map((w) => ({ 'anything-but': { wildcard: w } })),
);

const leafList = fc.array(matcher, { minLength: 1, maxLength: 3 });

/** Patterns nest at most `depth` objects deep, with an occasional `$or` of two or three alternatives. */
function patternOf(depth: number): fc.Arbitrary<Record<string, unknown>> {
  const node = depth === 0 ? leafList : fc.oneof(leafList, patternOf(depth - 1));
  const fields = fc.dictionary(keys, node, { minKeys: 1, maxKeys: 3 });
  if (depth === 0) return fields;
  const or = fc.option(fc.array(patternOf(depth - 1), { minLength: 2, maxLength: 3 }), { freq: 4 });
  return fc.tuple(fields, or).map(([f, branches]) => (branches ? { ...f, $or: branches } : f));
}
const pattern = patternOf(2);

/** A value the first matcher of a list accepts (for most operators), so that random pairs often match. */
function satisfying(m: unknown): unknown {
  if (typeof m !== 'object' || m === null) return m;
  const [op, operand] = Object.entries(m)[0] ?? [];
  const text = (v: unknown) => (typeof v === 'object' && v !== null ? Object.values(v)[0] : v);
  switch (op) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      return text(operand);
    case 'wildcard':
      return String(operand).replaceAll('\\\\', '\\').replaceAll('*', '');
    case 'cidr':
      return String(operand).startsWith('10.') ? '10.0.0.7' : '::1';
    case 'numeric': {
      const [cmp, n] = operand as [string, number];
      return cmp === '>' ? n + 1 : cmp === '<' ? n - 1 : n;
    }
    case 'anything-but':
      return Array.isArray(operand) && typeof operand[0] === 'number' ? 999 : 'other';
    default:
      return 'present';
  }
}

/** An event built to satisfy the pattern (first `$or` branch, first matcher of each list). */
function witness(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p)) {
    if (key === '$or') Object.assign(out, witness((value as Record<string, unknown>[])[0] ?? {}));
    else if (Array.isArray(value)) {
      const first = value[0];
      if (!(typeof first === 'object' && first !== null && 'exists' in first && first.exists === false)) {
        out[key] = satisfying(first);
      }
    } else out[key] = witness(value as Record<string, unknown>);
  }
  return out;
}

describe('compiled matcher against the reference interpreter', () => {
  it('agree on random patterns and events, in every evaluation mode', () => {
    let compared = 0;
    let matched = 0;
    fc.assert(
      fc.property(pattern, fc.array(event, { minLength: 1, maxLength: 3 }), (p, randomEvents) => {
        fc.pre(isValidPattern(p));
        const compiled = compilePattern(p);
        const near = witness(p);
        const events = [...randomEvents, near, { ...randomEvents[0], ...near }, { ...near, ...randomEvents[0] }];
        for (const e of events) {
          const verdict = compiled.matches(e);
          expect(verdict).toBe(referenceMatch(p, e));
          expect(compiled.matchesJson(JSON.stringify(e))).toBe(verdict);
          expect(compiled.matchesJson(JSON.stringify(e, null, 2))).toBe(verdict);
          const explanation = compiled.explain(e);
          expect(explanation.matched).toBe(verdict);
          expect(explanation.failures.length === 0).toBe(verdict);
          compared++;
          if (verdict) matched++;
        }
      }),
      { numRuns: 600 },
    );
    // Guard against a vacuous run: the pools must produce both verdicts.
    expect(compared).toBeGreaterThan(1000);
    expect(matched).toBeGreaterThan(100);
  }, 180_000);

  it('agree when the event puts the pattern paths inside arrays of objects', () => {
    const wrap = (e: Record<string, unknown>, f: Record<string, unknown>) => ({ a: [e, f], 'a.b': [f] });
    fc.assert(
      fc.property(pattern, event, event, (p, e, f) => {
        fc.pre(isValidPattern(p));
        const compiled = compilePattern(p);
        const nested = wrap(e, f);
        expect(compiled.matches(nested)).toBe(referenceMatch(p, nested));
        expect(compiled.matchesJson(JSON.stringify(nested))).toBe(compiled.matches(nested));
      }),
      { numRuns: 400 },
    );
  }, 180_000);
});

describe('validation of arbitrary input', () => {
  it('either accepts or throws PatternValidationError, for any JSON-like value', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), (junk) => {
        expect(typeof isValidPattern(junk)).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('either accepts or throws PatternValidationError, for operator objects with junk operands', () => {
    const operator = fc.constantFrom(
      'prefix',
      'suffix',
      'equals-ignore-case',
      'wildcard',
      'numeric',
      'anything-but',
      'exists',
      'cidr',
      'NUMERIC',
      '$or',
    );
    fc.assert(
      fc.property(keys, operator, fc.anything(), fc.boolean(), (key, op, operand, pipes) => {
        const p = { detail: { [key]: [{ [op]: operand }] } };
        try {
          validatePattern(p, pipes ? 'pipes' : 'eventbridge');
        } catch (error: unknown) {
          expect(error).toBeInstanceOf(PatternValidationError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('cidr', () => {
  /** Addresses as byte arrays, written as IPv4 dotted quads or as full IPv6 groups (the first never 0: no mapping). */
  const v4 = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
  const v6 = fc
    .tuple(fc.integer({ min: 1, max: 0xffff }), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7 }))
    .map(([first, rest]) => [first, ...rest.slice(0, 7)].flatMap((g) => [g >> 8, g & 0xff]));
  const write = (bytes: number[]) =>
    bytes.length === 4
      ? bytes.join('.')
      : Array.from({ length: 8 }, (_, i) => (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16)).join(
          ':',
        );
  const value = (bytes: number[]) => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  /** Near the network more often than not: the probe keeps the network's first bytes and varies the rest. */
  const cases = fc.oneof(v4, v6).chain((network) =>
    fc.record({
      network: fc.constant(network),
      mask: fc.integer({ min: 0, max: network.length * 8 - 1 }),
      probe: fc
        .tuple(
          fc.integer({ min: 0, max: network.length }),
          fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16 }),
        )
        .map(([keep, noise]) => network.map((b, i) => (i < keep ? b : (noise[i] ?? 0)))),
    }),
  );

  it('matches exactly the addresses that share the first mask bits, host bits of the pattern ignored', () => {
    let inside = 0;
    fc.assert(
      fc.property(cases, ({ network, mask, probe }) => {
        const hostBits = BigInt(network.length * 8 - mask);
        const expected = value(probe) >> hostBits === value(network) >> hostBits;
        const p = { ip: [{ cidr: `${write(network)}/${mask}` }] };
        const e = { ip: write(probe) };
        const compiled = compilePattern(p);
        expect(compiled.matches(e)).toBe(expected);
        expect(compiled.matchesJson(JSON.stringify(e))).toBe(expected);
        expect(referenceMatch(p, e)).toBe(expected);
        if (expected) inside++;
      }),
      { numRuns: 1000 },
    );
    expect(inside).toBeGreaterThan(100);
  });
});
