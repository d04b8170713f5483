import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../src/patterns/index.ts';
import { PIPES } from '../../src/pipes/definitions.ts';
import { pipeFilterOf } from '../../src/pipes/derived-filters.ts';
import { isValidPattern } from './support.ts';

/*
 * matchesJson must equal matches(JSON.parse(text)) on any valid JSON text, not only on what JSON.stringify writes.
 * The texts here are generated as text: numbers in every spelling JSON allows (1e2, 100.0, -0, 1E+2), strings with
 * any character written as an escape (\u0070, \/, \n), whitespace between tokens, duplicate keys (JSON.parse keeps
 * the last), dotted keys, arrays, and keys that the pattern reads appearing again later, nested or inside values, so
 * that the scanner's early stops are exercised on texts where stopping would be wrong.
 */
const keyPool = ['a', 'b', 'a.b', 'd', 'N', 'd.N', 's', 'N.s', 'x'] as const;
const stringPool = ['pending', 'shipped', 'a@test.com', 'd', 'N', 's', '"N', 'N"', 'é', 'a\\b', '', '100'] as const;
const numberSpellings = [
  ['0', 0],
  ['-0', -0],
  ['1e2', 100],
  ['100.0', 100],
  ['100', 100],
  ['1E+2', 100],
  ['10000e-2', 100],
  ['-12.5e+1', -125],
  ['0.1', 0.1],
  ['101', 101],
  ['99.9999999', 99.9999999],
  ['1e-7', 1e-7],
  ['5000000000.000001', 5000000000.000001],
  ['123456789012345678', Number('123456789012345678')],
] as const satisfies readonly (readonly [string, number])[];

const space = fc.constantFrom('', '', '', ' ', '\n', '\t ', '\r\n  ');

/** A string token: each character written plainly or as one of the escapes JSON allows for it. */
function stringToken(value: string): fc.Arbitrary<string> {
  return fc.array(fc.nat(3), { minLength: value.length, maxLength: value.length }).map((choices) => {
    let out = '"';
    for (let i = 0; i < value.length; i++) {
      const ch = value[i] as string;
      const code = ch.charCodeAt(0);
      const choice = choices[i] ?? 0;
      if (ch === '"' || ch === '\\') out += choice === 0 ? `\\${ch}` : `\\u${code.toString(16).padStart(4, '0')}`;
      else if (choice === 1) out += `\\u${code.toString(16).padStart(4, '0')}`;
      else if (choice === 2) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
      else out += ch;
    }
    return `${out}"`;
  });
}

/** Text that is mostly written plainly (escapes in about one string of eight), so escape-free texts are common. */
function maybeEscaped(value: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 7, arbitrary: fc.constant(JSON.stringify(value)) },
    { weight: 1, arbitrary: stringToken(value) },
  );
}

const leafText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...stringPool).chain(maybeEscaped) },
  { weight: 2, arbitrary: fc.constantFrom(...numberSpellings.map(([text]) => text)) },
  fc.constantFrom('true', 'false', 'null'),
);

const keyText = fc.constantFrom(...keyPool).chain(maybeEscaped);

const valueText: fc.Arbitrary<string> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafText, tie('array'), tie('object')),
  array: fc
    .array(fc.tuple(space, tie('value'), space), { maxLength: 3 })
    .map((items) => `[${items.map(([a, v, b]) => a + v + b).join(',')}]`),
  object: fc
    .array(fc.tuple(space, keyText, space, space, tie('value'), space), { maxLength: 5 })
    .map((members) => `{${members.map(([a, k, b, c, v, d]) => `${a}${k}${b}:${c}${v}${d}`).join(',')}}`),
})).value as fc.Arbitrary<string>;

const objectText = fc
  .tuple(space, fc.array(fc.tuple(space, keyText, space, valueText), { maxLength: 6 }), space)
  .map(
    ([before, members, after]) => `${before}{${members.map(([a, k, b, v]) => `${a}${k}:${b}${v}`).join(',')}}${after}`,
  );

const matcher = fc.oneof(
  fc.constantFrom(...stringPool),
  fc.constantFrom(...numberSpellings.map(([, n]) => n)),
  fc.constantFrom(true, false, null),
  fc.constantFrom(
    { prefix: 'pen' },
    { suffix: 'ped' },
    { exists: true },
    { exists: false },
    { numeric: ['>', 100] },
    { numeric: ['>=', 0, '<', 101] },
    { 'anything-but': 'pending' },
    { 'anything-but': { wildcard: '*test.com*' } },
    { wildcard: 'p*g' },
    { 'equals-ignore-case': 'PENDING' },
  ),
);
const leafList = fc.array(matcher, { minLength: 1, maxLength: 3 });
function patternOf(depth: number): fc.Arbitrary<Record<string, unknown>> {
  const node = depth === 0 ? leafList : fc.oneof(leafList, patternOf(depth - 1));
  const fields = fc.dictionary(fc.constantFrom(...keyPool), node, { minKeys: 1, maxKeys: 3 });
  if (depth === 0) return fields;
  const or = fc.option(fc.array(patternOf(depth - 1), { minLength: 2, maxLength: 2 }), { freq: 5 });
  return fc.tuple(fields, or).map(([f, branches]) => (branches ? { ...f, $or: branches } : f));
}

/** An event the pattern's first alternatives accept, so that matches are common (then written out as varied text). */
function witness(pattern: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or') Object.assign(out, witness((value as Record<string, unknown>[])[0] ?? {}));
    else if (!Array.isArray(value)) out[key] = witness(value as Record<string, unknown>);
    else {
      const m: unknown = value[0];
      if (typeof m !== 'object' || m === null) out[key] = m;
      else if ('prefix' in m) out[key] = 'pending';
      else if ('suffix' in m || 'wildcard' in m || 'equals-ignore-case' in m) out[key] = 'shipped';
      else if ('numeric' in m) out[key] = 100;
      else if (!('exists' in m && m.exists === false)) out[key] = 'other';
    }
  }
  return out;
}

/** JSON text of a value, with escapes, number spellings and whitespace chosen by `choose(n)` (a number below n). */
function writeVaried(value: unknown, choose: (n: number) => number): string {
  const ws = () => ['', '', ' ', '\n  '][choose(4)] as string;
  const str = (s: string) =>
    choose(4) > 0
      ? JSON.stringify(s)
      : `"${[...s].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
  if (typeof value === 'string') return str(value);
  if (typeof value === 'number') {
    const spellings = numberSpellings.filter(([, n]) => Object.is(n, value)).map(([text]) => text);
    return spellings.length > 0 ? (spellings[choose(spellings.length)] as string) : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => ws() + writeVaried(v, choose) + ws()).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(([k, v]) => `${ws()}${str(k)}${ws()}:${ws()}${writeVaried(v, choose)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Two object texts as one: the members of both, in either order (keys of both stay, duplicates included). */
function joinObjects(first: string, second: string): string {
  const inner = (t: string) => t.trim().slice(1, -1);
  const parts = [inner(first), inner(second)].filter((p) => p.trim() !== '');
  return `{${parts.join(',')}}`;
}

function agreesOn(pattern: unknown, text: string): boolean {
  const compiled = compilePattern(pattern);
  const expected = compiled.matches(JSON.parse(text));
  expect(compiled.matchesJson(text)).toBe(expected);
  return expected;
}

describe('matchesJson against JSON.parse + matches on generated JSON text', () => {
  it('the generated texts are valid JSON', () => {
    fc.assert(
      fc.property(objectText, (text) => {
        expect(typeof JSON.parse(text)).toBe('object');
      }),
      { numRuns: 500 },
    );
  });

  it('agree on random patterns and texts (escapes, number spellings, whitespace, duplicate keys)', () => {
    let matched = 0;
    let compared = 0;
    fc.assert(
      fc.property(
        patternOf(2),
        fc.array(objectText, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat()),
        (pattern, randomTexts, seeds) => {
          fc.pre(isValidPattern(pattern));
          let k = 0;
          const choose = (n: number) => ((seeds[k++ % Math.max(seeds.length, 1)] ?? k) + k) % n;
          const near = writeVaried(witness(pattern), choose);
          const first = randomTexts[0] as string;
          for (const text of [...randomTexts, near, joinObjects(near, first), joinObjects(first, near)]) {
            if (agreesOn(pattern, text)) matched++;
            compared++;
          }
        },
      ),
      { numRuns: 1500 },
    );
    expect(compared).toBeGreaterThan(2000);
    expect(matched).toBeGreaterThan(50);
  }, 120_000);

  it('agree on string operators tested in place in the text (wildcard, prefix, suffix, anything-but)', () => {
    // Values over a small alphabet so that operands often almost match; the members around the value repeat the
    // operands' pieces, where a search that ran past the string's end would find them.
    const value = fc.string({
      unit: fc.constantFrom('p', 'g', 'e', 'e', '*', '.', 'c', ' '),
      maxLength: 10,
    });
    const operand = fc.string({ unit: fc.constantFrom('p', 'g', 'e', '.', 'c'), maxLength: 3 });
    const wildcard = fc.array(operand, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('*'));
    const op = fc.oneof(
      operand.map((v) => v),
      operand.map((v) => ({ prefix: v })),
      operand.map((v) => ({ suffix: v })),
      wildcard.map((w) => ({ wildcard: w })),
      wildcard.map((w) => ({ 'anything-but': { wildcard: w } })),
      fc.array(wildcard, { minLength: 1, maxLength: 2 }).map((ws) => ({ 'anything-but': { wildcard: ws } })),
      operand.map((v) => ({ 'anything-but': { prefix: v } })),
      operand.map((v) => ({ 'anything-but': { suffix: v } })),
      fc.array(operand, { minLength: 1, maxLength: 2 }).map((vs) => ({ 'anything-but': vs })),
      fc.constant({ exists: true }),
      fc.constant({ numeric: ['>', 0] }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 2 }), value, operand, (matchers, v, around) => {
        const pattern = { a: matchers };
        fc.pre(isValidPattern(pattern));
        agreesOn(pattern, `{"b":"${around}*${around}","a":"${v}","c":"${around}${v}${around}"}`);
      }),
      { numRuns: 3000 },
    );
  });

  /** Stream-record-like texts for the two pipes' filters and rules, whose paths the scanner stops after. */
  const imageText = (status: string, amount: string, email: string) =>
    fc
      .tuple(
        maybeEscaped(status),
        maybeEscaped(email),
        fc.shuffledSubarray(['id', 'email', 'amount', 'status', 'date'], { minLength: 2 }),
        fc.constantFrom('"S"', '"\\u0053"'),
      )
      .map(([s, e, order, sKey]) => {
        const members: Record<string, string> = {
          id: `"orderId":{${sKey}:"o-1"}`,
          email: `"customerEmail":{"S":${e}}`,
          amount: `"orderAmount":{"N":${amount}}`,
          status: `"orderStatus":{${sKey}:${s}}`,
          date: '"orderDate":{"S":"2024-06-01"}',
        };
        return `{${order.map((k) => members[k]).join(',')}}`;
      });
  const statuses = fc.constantFrom('pending', 'shipped', 'delivered');
  const amounts = fc.constantFrom('"150.00"', '"99.5"', '150', '1e2', '100.0', '1500', '"1500.5"', '-0');
  const emails = fc.constantFrom('c1@example.com', 'c2@test.com', 'c3@corp.test.com');
  const recordText = fc
    .tuple(
      fc.constantFrom('INSERT', 'MODIFY', 'REMOVE'),
      fc.option(fc.tuple(statuses, amounts, emails).chain(([s, a, e]) => imageText(s, a, e))),
      fc.option(fc.tuple(statuses, amounts, emails).chain(([s, a, e]) => imageText(s, a, e))),
      fc.constantFrom(
        '',
        ',"eventName":"REMOVE"',
        ',"dynamodb.NewImage":{"orderStatus":{"S":"delivered"}}',
        ',"dynamodb":{"NewImage":{}}',
        ',"dynamodb.NewImage.orderStatus.S":"pending"',
        ',"note":"dynamodb NewImage"',
        ',"note":"\\"NewImage\\""',
        ',"x":["NewImage",{"NewImage":1}]',
      ),
      fc.constantFrom(
        '',
        ',"NewImage":{"orderStatus":{"S":"delivered"}}',
        ',"SizeBytes":250,"NewImage.orderStatus":{}',
      ),
      space,
      fc.constantFrom(
        '',
        '"eventSource":"dynamodb",',
        '"n":"{dynamodb}",',
        '"dynamodb.x":1,',
        '"x":["dynamodb",{"dynamodb":{}}],',
        '"y":{"a":1,"dynamodb":{"NewImage":{"orderStatus":{"S":"pending"}}}},',
        '"z":"]","dynamodb":{"NewImage":{"orderStatus":{"S":"shipped"}}},',
      ),
      // Members of `dynamodb` before and in `Keys` (skipped subtrees) that spell the keys the walk looks for next.
      fc.constantFrom(
        '',
        '"ApproximateCreationDateTime":1714550400,',
        '"SizeBytes":"\\"NewImage\\":{",',
        '"Tags":["NewImage",{"NewImage":{"orderStatus":{"S":"pending"}}}],',
      ),
      fc.constantFrom(
        '{"orderId":{"S":"o-1"}}',
        '{"NewImage":{"orderStatus":{"S":"pending"}}}',
        '{"orderId":{"S":"]}\\"NewImage\\":{"},"x":"}}"}',
        '{"orderId":{"S":"\\"},\\"NewImage\\":{\\"orderStatus\\":{\\"S\\":\\"shipped\\"}}"}}',
        '{"orderId":{"S":"NewImage"},"orderStatus":[{"S":"shipped"},"{"]}',
      ),
    )
    .map(([eventName, newImage, oldImage, rootTail, dynamodbTail, ws, rootHead, dynamodbHead, keys]) => {
      const images = [
        newImage === null ? '' : `,"NewImage":${newImage}`,
        oldImage === null ? '' : `,"OldImage":${oldImage}`,
      ].join('');
      return `{${rootHead}"eventID":"e1","eventName":"${eventName}","dynamodb":{${dynamodbHead}"Keys":${keys}${images}${dynamodbTail}},${ws}"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/Orders"${rootTail}}${ws}`;
    });

  it('agree on stream-record texts with later keys that continue, or only resemble, the pipes’ paths', () => {
    const patterns = Object.values(PIPES).flatMap((pipe) => [pipeFilterOf(pipe.key), pipe.rule.pattern]);
    let matched = 0;
    fc.assert(
      fc.property(recordText, (text) => {
        for (const pattern of patterns) if (agreesOn(pattern, text)) matched++;
      }),
      { numRuns: 3000 },
    );
    expect(matched).toBeGreaterThan(100);
  }, 120_000);
});
