import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../src/patterns/index.ts';

/** matchesJson must equal matches(JSON.parse(text)) for any valid JSON text, including texts JSON.stringify never writes. */
function agrees(pattern: unknown, text: string): boolean {
  const compiled = compilePattern(pattern);
  const expected = compiled.matches(JSON.parse(text));
  expect(compiled.matchesJson(text)).toBe(expected);
  return expected;
}

describe('matchesJson on hand-written JSON text', () => {
  const modify = { eventName: ['MODIFY'], dynamodb: { NewImage: { s: { S: ['shipped'] } } } };

  it('keeps the last of duplicate keys, as JSON.parse does', () => {
    expect(
      agrees(modify, '{"eventName":"INSERT","dynamodb":{"NewImage":{"s":{"S":"shipped"}}},"eventName":"MODIFY"}'),
    ).toBe(true);
    expect(
      agrees(modify, '{"eventName":"MODIFY","dynamodb":{"NewImage":{"s":{"S":"shipped"}}},"eventName":"INSERT"}'),
    ).toBe(false);
  });

  it('does not stop early when a failing key occurs again later, even inside a string', () => {
    expect(
      agrees(modify, '{"eventName":"INSERT","note":"\\"eventName\\"","dynamodb":{"NewImage":{"s":{"S":"x"}}}}'),
    ).toBe(false);
  });

  it('does not stop early when a later key on a pattern path is spelled with escapes', () => {
    expect(agrees({ a: ['x'], b: ['y'] }, '{"a":"z","\\u0061":"x","b":"y"}')).toBe(true);
    expect(agrees({ $or: [{ a: ['x'] }, { b: ['y'] }] }, '{"a":"z","\\u0062":"y"}')).toBe(true);
  });

  it('decodes escapes in keys and values', () => {
    expect(agrees({ 'k"1': ['a\\b'] }, '{"k\\"1": "a\\\\b"}')).toBe(true);
    expect(agrees({ key: ['é'] }, '{"k\\u0065y": "\\u00e9"}')).toBe(true);
    expect(agrees({ key: ['x'] }, '{"key": "\\u0078"}')).toBe(true);
  });

  it('joins dotted keys in text like nested ones', () => {
    expect(agrees({ a: { b: { c: [1] } } }, '{"a.b": {"c": 1}}')).toBe(true);
    expect(agrees({ a: { b: { c: [1] } } }, '{"a": {"b.c": 1.0}}')).toBe(true);
  });

  it('reads numbers as JSON.parse does', () => {
    for (const n of ['0', '-0', '1e2', '123456789012345678', '0.1', '5000000000.000001', '1E-7', '-12.5e+1']) {
      agrees({ n: [{ numeric: ['>', 0] }] }, `{"n": ${n}}`);
      agrees({ n: [100] }, `{"n": ${n}}`);
    }
    expect(agrees({ n: [100] }, '{"n": 1e2}')).toBe(true);
  });

  it('accepts whitespace anywhere JSON allows it', () => {
    expect(
      agrees(modify, ' \n{ "eventName" : "MODIFY" ,\t"dynamodb":{ "NewImage" : { "s" : { "S" : "shipped" } } } }\r\n'),
    ).toBe(true);
  });

  it('stops early only when no later key can continue a pattern path', () => {
    const status = { d: { N: { s: ['shipped'] } } };
    // A later duplicate of a nested key, a dotted spelling at the root, and the key text inside values.
    expect(agrees(status, '{"d":{"N":{"s":"shipped"},"O":{"s":"x"},"N":{"s":"x"}}}')).toBe(false);
    expect(agrees(status, '{"d":{"N":{"s":"x"}},"e":1,"d.N":{"s":"shipped"}}')).toBe(true);
    expect(agrees(status, '{"d":{"N":{"s":"x"}},"e":"d.N","f":["N",{"s":"shipped"}]}')).toBe(false);
    expect(agrees(status, '{"d":{"N":{"s":"shipped"},"O":{"N":{"s":"x"}}},"e":"\\\\"}')).toBe(true);
    // Inside an array a later element can add a leaf without any key.
    const both = { a: ['x'], 'a.b': ['y'] };
    expect(agrees(both, '{"a":[{"b":"y"},"x"]}')).toBe(true);
  });

  it('starts at the first root key on a pattern path only when scalars alone come before it', () => {
    const status = { d: { N: { s: ['shipped'] } } };
    expect(agrees(status, '{"y":{"a":1,"d":{"N":{"s":"shipped"}}},"e":1}')).toBe(false);
    expect(agrees(status, '{"y":["a",{"d":{"N":{"s":"shipped"}}}],"e":1}')).toBe(false);
    expect(agrees(status, '{"y":"a","z":"d","d":{"N":{"s":"shipped"}}}')).toBe(true);
    expect(agrees(status, '{"y":"[","d":{"N":{"s":"shipped"}}}')).toBe(true);
    // Arrays of scalars before it hold no key; a needle inside one is followed by ',' or ']', never ':'.
    expect(agrees(status, '{"y":["a",1,[2]],"d":{"N":{"s":"shipped"}}}')).toBe(true);
    expect(agrees(status, '{"y":["x","d"],"d":{"N":{"s":"shipped"}}}')).toBe(true);
    expect(agrees(status, '{"y":["x","d" ,"e"],"d":{"N":{"s":"x"}}}')).toBe(false);
    expect(agrees(status, '{"y":["x","d" ] , "d" :{"N":{"s":"shipped"}}}')).toBe(true);
    // A longer key starting with the needle, then the real one.
    expect(agrees(status, '{"y":1,"dd":{"N":{"s":"shipped"}},"d":{"N":{"s":"x"}}}')).toBe(false);
    expect(agrees(status, '{"y":1,"dd":{"N":{"s":"x"}},"d":{"N":{"s":"shipped"}}}')).toBe(true);
    // A needle in an array of objects before it.
    expect(agrees(status, '{"y":[1,{"d":{"N":{"s":"shipped"}}}],"e":1}')).toBe(false);
  });

  it('tests a wildcard only within its string, however long, and never past its end', () => {
    const notTest = { e: [{ 'anything-but': { wildcard: '*test.com*' } }] };
    const test = { e: [{ wildcard: '*test.com*' }] };
    const long = 'x'.repeat(70);
    for (const value of ['a@test.com', 'a@example.com', 'test.co', 'test.com', `${long}test.com`, `${long}test.co`]) {
      for (const after of ['', ',"f":"test.com"', ',"f":"m test.com"']) {
        const text = `{"e":"${value}"${after}}`;
        expect(agrees(notTest, text)).toBe(!value.includes('test.com'));
        expect(agrees(test, text)).toBe(value.includes('test.com'));
      }
    }
    expect(agrees({ e: [{ wildcard: 'a*b*c*d' }] }, '{"e":"abxcd","f":"bcd"}')).toBe(true);
    expect(agrees({ e: [{ wildcard: 'a*bc*d' }] }, '{"e":"abxd","f":"bcd"}')).toBe(false);
    expect(agrees({ e: [{ wildcard: 'a*b\\*c*d' }] }, '{"e":"ab*cd"}')).toBe(true);
  });

  // (Only the last character is checked: text cut right after an inner '}' past that point goes unnoticed.)
  it('throws on text cut short after the point where the walk could stop', () => {
    const compiled = compilePattern({ d: { N: { s: ['shipped'] } } });
    expect(compiled.matchesJson('{"d":{"N":{"s":"shipped"}},"e":1}')).toBe(true);
    expect(() => compiled.matchesJson('{"d":{"N":{"s":"shipped"}},"e":')).toThrow(SyntaxError);
    expect(() => compiled.matchesJson('{"d":{"N":{"s":"shipped"}},"e":"ab')).toThrow(SyntaxError);
  });

  it('settles array elements through the array-consistent search', () => {
    const pattern = { items: { sku: ['A'], qty: [2] } };
    expect(agrees(pattern, '{"items":[{"sku":"A","qty":1},{"sku":"B","qty":2}]}')).toBe(false);
    expect(agrees(pattern, '{"items":[{"sku":"B","qty":1},{"sku":"A","qty":2}]}')).toBe(true);
  });
});
