import type { Clause, Exclusion, Matcher } from './ast.ts';
import { endsWithIgnoringCase, equalsIgnoringCase, startsWithIgnoringCase } from './ignore-case.ts';
import { ipToHex } from './ip.ts';
import { isComparable } from './numbers.ts';
import { matchesWildcard, matchesWildcardIn, regionIs } from './wildcard.ts';

/**
 * A clause compiled into predicates over one leaf value of the event (string, number, boolean or null; objects are
 * never leaves). Everything that can be decided from the pattern alone is decided here, once: per JSON type, the
 * matchers that can apply are combined into one closure over precomputed values and sets.
 */
export interface CompiledClause {
  readonly clause: Clause;
  /** Whether one leaf value satisfies any of the clause's matchers. */
  readonly test: (value: unknown) => boolean;
  /** `{"exists": false}` is among the matchers: the clause also holds when the field has no leaf. */
  readonly allowsAbsence: boolean;
  /** Set when every matcher is an exact non-IP string: JSON text can then be compared without decoding. */
  readonly exactStrings: readonly string[] | undefined;
  /** `{"exists": true}` is among the matchers: every leaf is accepted, whatever its value. */
  readonly acceptsAnyLeaf: boolean;
  /**
   * `test` for a string value read in JSON text as the characters [start, end) of `text`, which hold no escape, so
   * that nothing is copied out; undefined when some matcher needs the string itself (ignore-case, IP addresses).
   */
  readonly testInText: RangeTest | undefined;
}

type Test<T> = (value: T) => boolean;
/**
 * `units` holds the text's UTF-16 units as bytes, a unit above 0x7f as 0x80 (see scan.ts): ASCII characters are read
 * there, faster than from the text, others from the text.
 */
type RangeTest = (text: string, start: number, end: number, units: Uint8Array) => boolean;

export function compileClause(clause: Clause): CompiledClause {
  const strings: Test<string>[] = [];
  const numbers: Test<number>[] = [];
  const exactStrings: string[] = [];
  const exactNumbers: number[] = [];
  const ipHexes: string[] = [];
  let onNull = false;
  let onTrue = false;
  let onFalse = false;
  let allowsAbsence = false;
  let acceptsAnyLeaf = false;
  const always = () => true;
  // The string tests again, on text ranges (see testInText); any matcher without one leaves the clause without.
  const ranges: RangeTest[] = [];
  let inText = true;
  for (const m of clause.matchers) {
    switch (m.kind) {
      case 'exact':
        if (typeof m.value === 'string') exactStrings.push(m.value);
        else if (typeof m.value === 'number') exactNumbers.push(m.value);
        else if (m.value === null) onNull = true;
        else if (m.value) onTrue = true;
        else onFalse = true;
        break;
      case 'exact-ip':
        ipHexes.push(m.hex);
        inText = false;
        break;
      case 'exists':
        if (m.exists) {
          acceptsAnyLeaf = true;
          strings.push(always);
          ranges.push(always);
          numbers.push(always);
          onNull = onTrue = onFalse = true;
        } else allowsAbsence = true;
        break;
      case 'anything-but': {
        const [stringTest, numberTest] = exclusionTests(m.exclude);
        strings.push(stringTest);
        numbers.push(numberTest);
        // No anything-but can exclude null or a boolean.
        onNull = onTrue = onFalse = true;
        const range = exclusionInText(m.exclude);
        if (range) ranges.push(range);
        else inText = false;
        break;
      }
      case 'numeric': {
        const { lower, lowerOpen, upper, upperOpen } = m.range;
        numbers.push(
          (x) => isComparable(x) && (lowerOpen ? x > lower : x >= lower) && (upperOpen ? x < upper : x <= upper),
        );
        break;
      }
      default: {
        strings.push(stringMatcher(m));
        const range = stringMatcherInText(m);
        if (range) ranges.push(range);
        else inText = false;
      }
    }
  }
  if (exactStrings.length > 0) {
    strings.unshift(oneOf(exactStrings));
    ranges.unshift(oneOfInText(exactStrings));
  }
  if (ipHexes.length > 0) {
    const hexes = new Set(ipHexes);
    strings.push((s) => {
      const hex = ipToHex(s);
      return hex !== undefined && hexes.has(hex);
    });
  }
  if (exactNumbers.length > 0) {
    const set = new Set(exactNumbers);
    numbers.unshift((x) => set.has(x));
  }
  const stringTest = anyOf(strings);
  const numberTest = anyOf(numbers);
  const onlyExactStrings = clause.matchers.every((m) => m.kind === 'exact' && typeof m.value === 'string');
  return {
    clause,
    allowsAbsence,
    acceptsAnyLeaf,
    exactStrings: onlyExactStrings ? exactStrings : undefined,
    testInText: inText ? anyOfInText(ranges) : undefined,
    test: (v) => {
      if (typeof v === 'string') return stringTest(v);
      // Non-finite numbers are not JSON; JSON.stringify writes them as null, and so they are read here.
      if (typeof v === 'number') return Number.isFinite(v) ? numberTest(v) : onNull;
      if (v === null) return onNull;
      return v === true ? onTrue : v === false && onFalse;
    },
  };
}

/** String matchers other than exact values: prefix, suffix, the ignore-case family, wildcard, cidr. */
function stringMatcher(m: Exclude<Matcher, { kind: 'exact' | 'exact-ip' | 'exists' | 'anything-but' | 'numeric' }>) {
  switch (m.kind) {
    case 'prefix':
      return (s: string) => s.startsWith(m.value);
    case 'suffix':
      return (s: string) => s.endsWith(m.value);
    case 'prefix-ignore-case':
      return (s: string) => startsWithIgnoringCase(m.folded, s);
    case 'suffix-ignore-case':
      return (s: string) => endsWithIgnoringCase(m.folded, s);
    case 'equals-ignore-case':
      return (s: string) => equalsIgnoringCase(m.folded, s);
    case 'wildcard':
      return (s: string) => matchesWildcard(m.wildcard, s);
    case 'cidr': {
      const { bottom, top } = m.range;
      return (s: string) => {
        const hex = ipToHex(s);
        return hex !== undefined && hex.length === bottom.length && hex >= bottom && hex <= top;
      };
    }
  }
}

/** The string and number tests of an `anything-but`: true unless the value is excluded. */
function exclusionTests(exclude: Exclusion): [Test<string>, Test<number>] {
  const always = () => true;
  switch (exclude.mode) {
    case 'strings': {
      const excluded = oneOf(exclude.values);
      return [(s) => !excluded(s), always];
    }
    case 'numbers': {
      const excluded = new Set(exclude.values);
      // A number outside the comparable range is never equal to an excluded number.
      return [always, (x) => !(isComparable(x) && excluded.has(x))];
    }
    case 'prefix':
      return [(s) => !someOf(exclude.values, s, startsWith), always];
    case 'suffix':
      return [(s) => !someOf(exclude.values, s, endsWith), always];
    case 'equals-ignore-case':
      return [(s) => !someOf(exclude.values, s, equalsIgnoringCase), always];
    case 'wildcard':
      return [(s) => !someOf(exclude.values, s, matchesWildcard), always];
  }
}

/** The string matchers of `stringMatcher` that can test a text range in place; undefined for the others. */
function stringMatcherInText(m: Parameters<typeof stringMatcher>[0]): RangeTest | undefined {
  switch (m.kind) {
    case 'prefix':
      return (text, start, end, units) => startsWithIn(m.value, text, start, end, units);
    case 'suffix':
      return (text, start, end, units) => endsWithIn(m.value, text, start, end, units);
    case 'wildcard':
      return (text, start, end, units) => matchesWildcardIn(m.wildcard, text, start, end, units);
    default:
      return undefined;
  }
}

/** `exclusionTests`' string test on a text range, where it needs no copy of the string. */
function exclusionInText(exclude: Exclusion): RangeTest | undefined {
  switch (exclude.mode) {
    case 'strings': {
      const excluded = oneOfInText(exclude.values);
      return (text, start, end, units) => !excluded(text, start, end, units);
    }
    case 'numbers':
      return () => true;
    case 'prefix':
      return (text, start, end, units) => !someIn(exclude.values, text, start, end, units, startsWithIn);
    case 'suffix':
      return (text, start, end, units) => !someIn(exclude.values, text, start, end, units, endsWithIn);
    case 'wildcard':
      return (text, start, end, units) => !someIn(exclude.values, text, start, end, units, matchesWildcardIn);
    default:
      return undefined;
  }
}

const startsWithIn = (prefix: string, text: string, start: number, end: number, units: Uint8Array) =>
  end - start >= prefix.length && regionIs(text, units, start, prefix);
const endsWithIn = (suffix: string, text: string, start: number, end: number, units: Uint8Array) =>
  end - start >= suffix.length && regionIs(text, units, end - suffix.length, suffix);

function someIn<V>(
  values: readonly V[],
  text: string,
  start: number,
  end: number,
  units: Uint8Array,
  test: (value: V, text: string, start: number, end: number, units: Uint8Array) => boolean,
): boolean {
  for (let i = 0; i < values.length; i++) if (test(values[i] as V, text, start, end, units)) return true;
  return false;
}

function oneOfInText(values: readonly string[]): RangeTest {
  const unique = [...new Set(values)];
  return (text, start, end, units) => {
    for (let i = 0; i < unique.length; i++) {
      const value = unique[i] as string;
      if (value.length === end - start && regionIs(text, units, start, value)) return true;
    }
    return false;
  };
}

function anyOfInText(tests: RangeTest[]): RangeTest {
  const [only] = tests;
  if (tests.length === 0) return () => false;
  if (tests.length === 1 && only) return only;
  return (text, start, end, units) => {
    for (let i = 0; i < tests.length; i++) if ((tests[i] as RangeTest)(text, start, end, units)) return true;
    return false;
  };
}

const startsWith = (prefix: string, s: string) => s.startsWith(prefix);
const endsWith = (suffix: string, s: string) => s.endsWith(suffix);

/** `values.some((v) => test(v, s))` without allocating a closure per call. */
function someOf<V>(values: readonly V[], s: string, test: (value: V, s: string) => boolean): boolean {
  for (let i = 0; i < values.length; i++) if (test(values[i] as V, s)) return true;
  return false;
}

/** Membership in a small list is fastest as comparisons; a larger one uses a Set. */
function oneOf(values: readonly string[]): Test<string> {
  const unique = [...new Set(values)];
  const [a, b, c] = unique;
  switch (unique.length) {
    case 1:
      return (s) => s === a;
    case 2:
      return (s) => s === a || s === b;
    case 3:
      return (s) => s === a || s === b || s === c;
    default: {
      const set = new Set(unique);
      return (s) => set.has(s);
    }
  }
}

function anyOf<T>(tests: Test<T>[]): Test<T> {
  const [only] = tests;
  if (tests.length === 0) return () => false;
  if (tests.length === 1 && only) return only;
  return (value) => {
    for (let i = 0; i < tests.length; i++) if ((tests[i] as Test<T>)(value)) return true;
    return false;
  };
}
