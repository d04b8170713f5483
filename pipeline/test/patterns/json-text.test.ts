import { describe, expect, it, vi } from 'vitest';
import { compilePattern } from '../../src/patterns/index.ts';
import { PIPES } from '../../src/pipes/definitions.ts';

const PIPES_STANDARD = PIPES.standard.rule.pattern;

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
    // Units above 0x7f whose low byte is the character looked for (U+0174, U+0163, U+012E: 't', 'c', '.').
    expect(agrees({ e: [{ wildcard: '*t*' }] }, '{"e":"a\u0174b"}')).toBe(false);
    expect(agrees({ e: [{ wildcard: '*t.c*' }] }, '{"e":"a\u0174\u012e\u0163b t.c"}')).toBe(true);
    expect(agrees({ e: [{ 'anything-but': { wildcard: '*t.c*' } }] }, '{"e":"\u0174\u012e\u0163"}')).toBe(true);
    expect(agrees({ e: [{ suffix: 'é.c' }] }, '{"e":"xé.c"}')).toBe(true);
    expect(agrees({ e: [{ suffix: 'é.c' }] }, '{"e":"x\u00e8.c"}')).toBe(false);
    expect(agrees({ e: [{ wildcard: '*é*' }] }, `{"e":"${'x'.repeat(80)}é","f":"é"}`)).toBe(true);
    expect(agrees({ e: [{ wildcard: '*é*' }] }, '{"e":"\u00e8\u00e8","f":"é"}')).toBe(false);
  });

  it('reads text with units above 0x7f, including those whose low byte is a structural character', () => {
    // U+0122 ends in 0x22 ("), U+015C in 0x5c (\\), U+017B/U+017D in 0x7b/0x7d ({ }), U+015B/U+015D in [ ], U+012C in ',',
    // U+013A in ':', U+0120 in ' '; and a surrogate pair.
    const tricky = [
      '\u0122',
      '\u015c',
      '\u017b',
      '\u017d',
      '\u015b',
      '\u015d',
      '\u012c',
      '\u013a',
      '\u0120',
      '\ud83d\ude00',
      'é',
    ];
    const status = { d: { N: { s: ['shipped'] } } };
    for (const t of tricky) {
      const u = JSON.parse(`"${t}"`) as string;
      for (const text of [
        `{"x":"${u}","d":{"N":{"s":"shipped"}}}`,
        `{"x${u}":1,"d":{"k":{"S":"${u}${u}"},"N":{"s":"shipped","t":"${u}"}}}`,
        `{"d":{"N":{"s":"shipped${u}"}}}`,
        `{"d":{"N":{"s${u}":"shipped","s":"x"}}}`,
        `{"d":{"N":{"${u}":{"s":"shipped"},"s":"shipped"}},"${u}":[1,"${u}"]}`,
        `{"d":{"N":{"s":"x"}},"y":"${u}","d.N":{"s":"shipped"}}`,
      ]) {
        agrees(status, text);
      }
      // The scanner itself reads such text: it does not give up and parse (agreeing only because JSON.parse does).
      const compiled = compilePattern(status);
      const named = compilePattern({ [`k${u}`]: [`v${u}`] });
      const parse = vi.spyOn(JSON, 'parse');
      try {
        expect(compiled.matchesJson(`{"x":"${u}","d":{"N":{"s":"shipped"}}}`)).toBe(true);
        expect(compiled.matchesJson(`{"x${u}":1,"d":{"k":{"S":"${u}${u}"},"N":{"s":"shipped","t":"${u}"}}}`)).toBe(
          true,
        );
        expect(compiled.matchesJson(`{"${u}":"${u}","d":{"N":{"t":"${u}","s":"pending"}},"e":"${u}"}`)).toBe(false);
        expect(named.matchesJson(`{"a":"${u}","k${u}":"v${u}"}`)).toBe(true);
        expect(parse).not.toHaveBeenCalled();
      } finally {
        parse.mockRestore();
      }
      // Units above 0x7f in keys and values the pattern names.
      expect(agrees({ [`k${u}`]: [`v${u}`] }, `{"k${u}":"v${u}"}`)).toBe(true);
      expect(agrees({ [`k${u}`]: [`v${u}`] }, `{"k${u}":"v${u}x"}`)).toBe(false);
      expect(agrees({ [`k${u}`]: [`v${u}`] }, `{"kx":"v${u}"}`)).toBe(false);
      expect(agrees({ [`k${u}`]: [{ prefix: `v${u}` }] }, `{"k${u}":"v${u}w"}`)).toBe(true);
      expect(agrees({ k: [{ wildcard: `*${u}*` }] }, `{"k":"a${u}b"}`)).toBe(true);
    }
    // Keys that differ only in a unit above 0x7f, or in a unit whose low byte is the same.
    expect(agrees({ clé: ['x'] }, '{"clè":"x"}')).toBe(false);
    expect(agrees({ clé: ['x'] }, '{"clè":"y","clé":"x"}')).toBe(true);
    expect(agrees({ 'a\u0122': ['x'] }, '{"a\\"":"y","a\u0122":"x"}')).toBe(true);
    expect(agrees({ a: ['\u0122'] }, '{"a":"\u0122"}')).toBe(true);
  });

  it('never reads past the end of a text, whatever longer text came before', () => {
    const record =
      '{"eventName":"INSERT","dynamodb":{"Keys":{"orderId":{"S":"o-1"}},"NewImage":{"orderStatus":{"S":"pending"},' +
      '"orderAmount":{"N":150},"customerEmail":{"S":"a@example.com"}},"SizeBytes":12},"eventSourceARN":"arn"}';
    const cases: [unknown, string][] = [
      [PIPES_STANDARD, record],
      // Only closing brackets after the leaf: a prefix cut after an inner '}' must not borrow the rest.
      [{ d: { N: { n: [1] } } }, '{"d":{"N":{"n":1}}}'],
      [{ d: { N: { n: [1000] } } }, '{"d":{"N":{"n":1000}}}'],
      [{ d: { N: { n: [true] } } }, '{"d":{"N":{"n":true}}} '],
    ];
    for (const [pattern, full] of cases) {
      const compiled = compilePattern(pattern);
      const outcome = (text: string): string => {
        try {
          return String(compiled.matchesJson(text));
        } catch (error) {
          return error instanceof SyntaxError ? 'SyntaxError' : `other: ${String(error)}`;
        }
      };
      expect(outcome(full)).toBe('true');
      // The longer texts scanned before each prefix differ after it: one continues it, the others do not.
      const before = [full, `${' '.repeat(full.length + 10)}{}`, full.replaceAll('"', ' '), `${full}${full}`];
      for (let k = 0; k < full.length; k++) {
        const prefix = full.slice(0, k);
        const outcomes = new Set(
          before.map((longer) => {
            outcome(longer);
            return outcome(prefix);
          }),
        );
        expect([...outcomes], `${full.slice(0, k)}`).toHaveLength(1);
        expect(['SyntaxError', 'true', 'false'], `${full.slice(0, k)}`).toContain([...outcomes][0]);
      }
    }
  });

  it('reads texts longer than the shared buffer', () => {
    const status = { d: { N: { s: ['shipped'] } } };
    const filler = `"f":"${'x'.repeat(70_000)}"`;
    expect(agrees(status, `{${filler},"d":{"N":{"s":"shipped"}}}`)).toBe(true);
    expect(agrees(status, `{"d":{"N":{"s":"pending"}},${filler}}`)).toBe(false);
    expect(agrees(status, `{"d":{"N":{"t":"${'é'.repeat(70_000)}","s":"shipped"}}}`)).toBe(true);
    // And a short one after them, in the buffer they did not replace.
    expect(agrees(status, '{"d":{"N":{"s":"shipped"}}}')).toBe(true);
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
