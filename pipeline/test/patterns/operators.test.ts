import { describe, expect, it } from 'vitest';
import { compilePattern, isPipesSupported, matchesPattern, referenceMatch } from '../../src/patterns/index.ts';

/** Asserts the verdict in every evaluation mode, so each case also checks the modes agree. */
function verdict(pattern: unknown, event: Record<string, unknown>): boolean {
  const compiled = compilePattern(pattern);
  const result = compiled.matches(event);
  expect(compiled.matchesJson(JSON.stringify(event))).toBe(result);
  expect(referenceMatch(pattern, event)).toBe(result);
  return result;
}

describe('exact values', () => {
  it('match strings, booleans and null by type', () => {
    expect(verdict({ a: ['1'] }, { a: '1' })).toBe(true);
    expect(verdict({ a: ['1'] }, { a: 1 })).toBe(false);
    expect(verdict({ a: [true] }, { a: 'true' })).toBe(false);
    expect(verdict({ a: [null] }, { a: null })).toBe(true);
    expect(verdict({ a: [null] }, {})).toBe(false);
  });

  it('compare numbers by value', () => {
    expect(verdict({ a: [300] }, JSON.parse('{"a": 3.0e2}'))).toBe(true);
    expect(verdict({ a: [901.8] }, JSON.parse('{"a": 9.018e2}'))).toBe(true);
    expect(verdict({ a: [123456789012] }, { a: 123456789012 })).toBe(true);
  });

  it('treat an IP literal as the address, whatever its spelling', () => {
    expect(verdict({ ip: ['2001:db8::1'] }, { ip: '2001:0db8:0:0:0:0:0:1' })).toBe(true);
    expect(verdict({ ip: ['10.0.0.1'] }, { ip: '10.0.0.2' })).toBe(false);
  });

  it('match any element of an event array', () => {
    expect(verdict({ r: ['x', 'y'] }, { r: ['a', 'y'] })).toBe(true);
    expect(verdict({ r: [null] }, { r: [] })).toBe(false);
  });

  it('join nested keys and dotted keys alike', () => {
    expect(verdict({ 'a.b': ['v'] }, { a: { b: 'v' } })).toBe(true);
    expect(verdict({ a: { b: ['v'] } }, { 'a.b': 'v' })).toBe(true);
  });
});

describe('string operators', () => {
  it('prefix and suffix, optionally ignoring case, apply to strings only', () => {
    expect(verdict({ t: [{ prefix: '2024-' }] }, { t: '2024-05-01' })).toBe(true);
    expect(verdict({ t: [{ prefix: '1' }] }, { t: 12 })).toBe(false);
    expect(verdict({ f: [{ suffix: '.png' }] }, { f: 'a.PNG' })).toBe(false);
    expect(verdict({ f: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { f: 'a.PNG' })).toBe(true);
    expect(verdict({ s: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, { s: 'eventbridge' })).toBe(true);
  });

  it('equals-ignore-case follows per-character case forms (ß matches SS, not ss)', () => {
    expect(verdict({ s: [{ 'equals-ignore-case': 'alice' }] }, { s: 'ALICE' })).toBe(true);
    expect(verdict({ s: [{ 'equals-ignore-case': 'straße' }] }, { s: 'STRASSE' })).toBe(true);
    expect(verdict({ s: [{ 'equals-ignore-case': 'straße' }] }, { s: 'strasse' })).toBe(false);
  });

  it('wildcard matches runs of characters, with \\* as a literal star', () => {
    expect(verdict({ p: [{ wildcard: '*/lib/*' }] }, { p: 'a/lib/b' })).toBe(true);
    expect(verdict({ p: [{ wildcard: 'a\\*b' }] }, { p: 'a*b' })).toBe(true);
    expect(verdict({ p: [{ wildcard: 'a\\*b' }] }, { p: 'axb' })).toBe(false);
    expect(verdict({ p: [{ wildcard: '' }] }, { p: '' })).toBe(true);
  });

  it('cidr matches IPv4 and IPv6 addresses in range', () => {
    expect(verdict({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.0.255' })).toBe(true);
    expect(verdict({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.1.0' })).toBe(false);
    expect(verdict({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db8:ffff::1' })).toBe(true);
  });

  it('cidr covers the whole network when the address is written with host bits set', () => {
    // As aws/event-ruler's CIDR.cidr (computeBottomBytes) and EventBridge: the host bits are masked off.
    expect(verdict({ ip: [{ cidr: '10.0.0.5/24' }] }, { ip: '10.0.0.1' })).toBe(true);
    expect(verdict({ ip: [{ cidr: '10.0.0.5/24' }] }, { ip: '10.0.0.0' })).toBe(true);
    expect(verdict({ ip: [{ cidr: '10.0.0.5/24' }] }, { ip: '10.0.0.255' })).toBe(true);
    expect(verdict({ ip: [{ cidr: '10.0.0.5/24' }] }, { ip: '10.0.1.1' })).toBe(false);
    expect(verdict({ ip: [{ cidr: '10.0.0.5/29' }] }, { ip: '10.0.0.0' })).toBe(true);
    expect(verdict({ ip: [{ cidr: '10.0.0.5/29' }] }, { ip: '10.0.0.8' })).toBe(false);
    expect(verdict({ ip: [{ cidr: '2001:db8::ff/120' }] }, { ip: '2001:db8::1' })).toBe(true);
    expect(verdict({ ip: [{ cidr: '2001:db8::ff/120' }] }, { ip: '2001:db8::100' })).toBe(false);
    expect(verdict({ ip: [{ cidr: '2001:db8::ff/121' }] }, { ip: '2001:db8::80' })).toBe(true);
    expect(verdict({ ip: [{ cidr: '2001:db8::ff/121' }] }, { ip: '2001:db8::7f' })).toBe(false);
    // Also from JSON text with escapes (`\u0031\u0030` is `10`), where the scanner takes a copy of the string.
    const compiled = compilePattern({ ip: [{ cidr: '10.0.0.5/24' }] });
    expect(compiled.matchesJson('{"ip":"\\u0031\\u0030.0.0.1"}')).toBe(true);
  });
});

describe('numeric', () => {
  it('compares JSON numbers only, within the comparable range', () => {
    expect(verdict({ n: [{ numeric: ['>', 100] }] }, { n: 100.5 })).toBe(true);
    expect(verdict({ n: [{ numeric: ['>', 100] }] }, { n: '150' })).toBe(false);
    expect(verdict({ n: [{ numeric: ['>', 100] }] }, { n: 5e9 + 1 })).toBe(false);
    expect(verdict({ n: [{ numeric: ['>', 100] }] }, { n: 100.0000001 })).toBe(false);
    expect(verdict({ n: [{ numeric: ['>=', 0, '<', 5] }] }, { n: 5 })).toBe(false);
    expect(verdict({ n: [{ numeric: ['=', 301.8] }] }, JSON.parse('{"n": 3.018e2}'))).toBe(true);
  });
});

describe('anything-but', () => {
  it('excludes values, and accepts every leaf it does not exclude, null included', () => {
    expect(verdict({ s: [{ 'anything-but': ['a', 'b'] }] }, { s: 'b' })).toBe(false);
    expect(verdict({ s: [{ 'anything-but': ['a', 'b'] }] }, { s: null })).toBe(true);
    expect(verdict({ s: [{ 'anything-but': ['a', 'b'] }] }, {})).toBe(false);
    expect(verdict({ n: [{ 'anything-but': [100] }] }, { n: 100 })).toBe(false);
    expect(verdict({ n: [{ 'anything-but': [100] }] }, { n: '100' })).toBe(true);
  });

  it('excludes by prefix, suffix, case-insensitive value and wildcard', () => {
    expect(verdict({ s: [{ 'anything-but': { prefix: 'us-' } }] }, { s: 'us-east-1' })).toBe(false);
    expect(verdict({ s: [{ 'anything-but': { suffix: '.png' } }] }, { s: 'a.jpg' })).toBe(true);
    expect(verdict({ s: [{ 'anything-but': { 'equals-ignore-case': ['x', 'y'] } }] }, { s: 'Y' })).toBe(false);
    expect(verdict({ e: [{ 'anything-but': { wildcard: '*test.com*' } }] }, { e: 'a@test.com' })).toBe(false);
    expect(verdict({ e: [{ 'anything-but': { wildcard: '*test.com*' } }] }, { e: 'a@example.com' })).toBe(true);
  });

  it('is satisfied by any element of an event array that it does not exclude', () => {
    expect(verdict({ s: [{ 'anything-but': 'a' }] }, { s: ['a', 'b'] })).toBe(true);
    expect(verdict({ s: [{ 'anything-but': 'a' }] }, { s: ['a'] })).toBe(false);
  });
});

describe('exists', () => {
  it('exists:true needs a leaf (null counts, objects and empty arrays do not)', () => {
    expect(verdict({ k: [{ exists: true }] }, { k: null })).toBe(true);
    expect(verdict({ k: [{ exists: true }] }, { k: { S: 'x' } })).toBe(false);
    expect(verdict({ k: [{ exists: true }] }, { k: [] })).toBe(false);
  });

  it('exists:false holds when there is no leaf at the path', () => {
    expect(verdict({ k: [{ exists: false }] }, {})).toBe(true);
    expect(verdict({ k: [{ exists: false }] }, { k: { nested: 1 } })).toBe(true);
    expect(verdict({ k: [{ exists: false }] }, { k: 'v' })).toBe(false);
  });
});

describe('$or', () => {
  it('matches when any alternative does, combined with the fields around it', () => {
    const pattern = { source: ['s'], $or: [{ a: ['1'] }, { b: [{ numeric: ['>', 5] }] }] };
    expect(verdict(pattern, { source: 's', b: 6 })).toBe(true);
    expect(verdict(pattern, { source: 't', b: 6 })).toBe(false);
    expect(verdict(pattern, { source: 's', a: '2', b: 5 })).toBe(false);
  });
});

describe('array consistency', () => {
  const pattern = { items: { sku: ['A'], qty: [{ numeric: ['>', 1] }] } };

  it('requires the fields of one sub-rule to come from the same array element', () => {
    expect(verdict(pattern, { items: [{ sku: 'A', qty: 2 }] })).toBe(true);
    expect(
      verdict(pattern, {
        items: [
          { sku: 'A', qty: 1 },
          { sku: 'B', qty: 2 },
        ],
      }),
    ).toBe(false);
  });

  it('applies to exists:false against the elements already chosen', () => {
    const absent = { items: { sku: ['A'], zzz: [{ exists: false }] } };
    expect(verdict(absent, { items: [{ sku: 'A' }, { sku: 'B', zzz: 1 }] })).toBe(true);
    expect(verdict(absent, { items: [{ sku: 'A', zzz: 1 }] })).toBe(false);
  });
});

describe('events that are not JSON objects', () => {
  it('never match', () => {
    expect(matchesPattern({ a: [{ exists: false }] }, [])).toBe(false);
    expect(matchesPattern({ a: [{ exists: false }] }, 'text')).toBe(false);
    expect(compilePattern({ a: [{ exists: false }] }).matchesJson('[1]')).toBe(false);
  });

  it('throw JSON.parse errors for malformed text on the pattern path', () => {
    expect(() => compilePattern({ a: ['x'] }).matchesJson('{"a": "x", ')).toThrow(SyntaxError);
    expect(() => compilePattern({ a: [{ exists: true }] }).matchesJson('{"a": ')).toThrow(SyntaxError);
  });

  it('are not matches, unchecked, when they lack a string every match contains', () => {
    expect(compilePattern({ a: ['x'] }).matchesJson('{"a": ')).toBe(false);
  });
});

describe('matchesPattern', () => {
  it('compiles once per pattern object and dialect', () => {
    const pattern = { a: ['x'] };
    expect(matchesPattern(pattern, { a: 'x' })).toBe(true);
    expect(matchesPattern(pattern, { a: 'y' }, 'pipes')).toBe(false);
  });
});

describe('isPipesSupported', () => {
  it('reports the unsupported operator', () => {
    expect(isPipesSupported({ a: [{ prefix: 'x' }] })).toEqual({ ok: true });
    const result = isPipesSupported({ a: [{ 'anything-but': { suffix: '.png' } }] });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.reason).toBe(
      'anything-but with suffix is not supported by EventBridge Pipes filtering',
    );
  });
});
