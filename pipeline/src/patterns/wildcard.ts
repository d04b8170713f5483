/**
 * Wildcard patterns: `*` matches any run of characters (including none), `\*` is a literal star and `\\` a literal
 * backslash (EventBridge user guide, "Wildcard matching"). Validation follows aws/event-ruler's `WildcardParser`,
 * whose positions are UTF-8 byte offsets into the value wrapped in quotes, so `"a**"` fails "at pos 2".
 */
export interface Wildcard {
  readonly source: string;
  /** Literal runs between unescaped stars: `a*b\*c` is `['a', 'b*c']`; a leading or trailing star gives ''. */
  readonly segments: readonly string[];
}

/** Parses a wildcard value, returning it or AWS's reason for refusing it. */
export function parseWildcard(source: string): Wildcard | string {
  const segments: string[] = [];
  let current = '';
  // Byte offset of the character at index i in '"' + source + '"' (UTF-8, as event-ruler counts).
  let bytePos = 1;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x2a /* * */) {
      if (source.charCodeAt(i + 1) === 0x2a) return `Consecutive wildcard characters at pos ${bytePos}`;
      segments.push(current);
      current = '';
      bytePos += 1;
    } else if (c === 0x5c /* \ */) {
      const next = source.charCodeAt(i + 1);
      if (next !== 0x2a && next !== 0x5c) return `Invalid escape character at pos ${bytePos}`;
      current += source[i + 1];
      i++;
      bytePos += 2;
    } else {
      current += source[i];
      bytePos += utf8Length(source, i);
      if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(source.charCodeAt(i + 1))) current += source[++i];
    }
  }
  segments.push(current);
  // Built a character at a time, each segment is a chain of concatenations; read one unit at a time while matching,
  // a flat copy is cheaper to read.
  return { source, segments: segments.map((segment) => segment.split('').join('')) };
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** UTF-8 length of the character starting at index i (a surrogate pair is 4; a lone surrogate becomes '?'). */
function utf8Length(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdbff) return isLowSurrogate(s.charCodeAt(i + 1)) ? 4 : 1;
  if (isLowSurrogate(c)) return 1;
  return 3;
}

/** Glob matching with stars only: first segment anchors the start, last the end, the rest leftmost in between. */
export function matchesWildcard(wildcard: Wildcard, value: string): boolean {
  const segments = wildcard.segments;
  const first = segments[0] ?? '';
  if (segments.length === 1) return value === first;
  const last = segments[segments.length - 1] ?? '';
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  let from = first.length;
  const end = value.length - last.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const segment = segments[i] ?? '';
    const at = value.indexOf(segment, from);
    if (at < 0 || at + segment.length > end) return false;
    from = at + segment.length;
  }
  return true;
}

/**
 * `matchesWildcard(wildcard, text.slice(start, end))` without copying the string out: for JSON text whose string
 * [start, end) has no escape, so that its characters are the value's. `units` holds the text's units as bytes, a unit
 * above 0x7f as 0x80 (see scan.ts), where ASCII characters are read.
 */
export function matchesWildcardIn(
  wildcard: Wildcard,
  text: string,
  start: number,
  end: number,
  units: Uint8Array,
): boolean {
  const segments = wildcard.segments;
  const first = segments[0] ?? '';
  if (segments.length === 1) return end - start === first.length && regionIs(text, units, start, first);
  const last = segments[segments.length - 1] ?? '';
  const stop = end - last.length;
  if (stop - start < first.length || !regionIs(text, units, start, first) || !regionIs(text, units, stop, last)) {
    return false;
  }
  let from = start + first.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const segment = segments[i] ?? '';
    const at = indexBefore(text, units, segment, from, stop);
    if (at < 0) return false;
    from = at + segment.length;
  }
  return true;
}

/** Values this short are searched by a loop: indexOf cannot stop at `stop`, and would search the rest of the text. */
const SHORT_RANGE = 64;

/** The first index at or after `from` where `segment` occurs and ends by `stop`, or -1. */
function indexBefore(text: string, units: Uint8Array, segment: string, from: number, stop: number): number {
  const last = stop - segment.length;
  if (last < from) return -1;
  if (stop - from > SHORT_RANGE || segment.length === 0) {
    const at = text.indexOf(segment, from);
    return at <= last ? at : -1;
  }
  const head = segment.charCodeAt(0);
  if (head >= 0x80) {
    for (let at = from; at <= last; at++)
      if (text.charCodeAt(at) === head && regionIs(text, units, at, segment)) return at;
    return -1;
  }
  for (let at = from; at <= last; at++) if (units[at] === head && regionIs(text, units, at, segment)) return at;
  return -1;
}

/**
 * Whether `text` holds `expected` at `at` (a plain loop beats startsWith on short strings), its ASCII characters read
 * from `units` (the text's units as bytes, a unit above 0x7f as 0x80; see scan.ts).
 */
export function regionIs(text: string, units: Uint8Array, at: number, expected: string): boolean {
  for (let i = 0; i < expected.length; i++) {
    const code = expected.charCodeAt(i);
    if ((code < 0x80 ? units[at + i] : text.charCodeAt(at + i)) !== code) return false;
  }
  return true;
}

/**
 * AWS refuses wildcard rules that would keep too many partial matches alive at once ("Rule is too complex - try using
 * fewer wildcard characters or fewer repeating character sequences after a wildcard character"; EventBridge user
 * guide, "Wildcard matching"). event-ruler measures this on its byte machine (`MachineComplexityEvaluator`) against a
 * limit AWS does not publish. We measure a close analogue on the pattern's own position automaton: the largest number
 * of positions a single input can keep active across all wildcards of one field (a star counts as its looping
 * position plus the one after it), with the value's quotes included as event-ruler does. The limit is calibrated on
 * AWS's own verdicts in the conformance vectors: five `*:` groups before `event-bus/` score 10 and are refused, while
 * the accepted ones score at most 8 (one star followed by five repeats of `dir/`). Patterns scoring exactly 9 are the
 * zone where this approximation may disagree with AWS.
 */
export const WILDCARD_COMPLEXITY_LIMIT = 9;

type Token = string | null; // null is a star

export function wildcardComplexity(wildcards: readonly Wildcard[]): number {
  const machines: Token[][] = wildcards.map((w) => {
    const tokens: Token[] = ['"'];
    w.segments.forEach((segment, i) => {
      if (i > 0) tokens.push(null);
      tokens.push(...Array.from(segment));
    });
    tokens.push('"');
    return tokens;
  });
  const alphabet = [...new Set(machines.flat().filter((t): t is string => t !== null)), '\u0000other'];
  // A state is (machine, position); position p means tokens[0..p) are consumed.
  const close = (states: Set<string>): Set<string> => {
    for (const state of states) {
      const [m, p] = state.split(':').map(Number) as [number, number];
      if (machines[m]?.[p] === null) states.add(`${m}:${p + 1}`);
    }
    return states;
  };
  const start = close(new Set(machines.map((_, m) => `${m}:0`)));
  const seen = new Set<string>();
  const queue = [start];
  let worst = start.size;
  while (queue.length > 0 && seen.size < 10_000) {
    const states = queue.pop() ?? new Set<string>();
    const key = [...states].sort().join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    worst = Math.max(worst, states.size);
    if (worst > WILDCARD_COMPLEXITY_LIMIT) return worst;
    for (const symbol of alphabet) {
      const next = new Set<string>();
      for (const state of states) {
        const [m, p] = state.split(':').map(Number) as [number, number];
        const token = machines[m]?.[p];
        if (token === null) next.add(state);
        else if (token === symbol) next.add(`${m}:${p + 1}`);
      }
      if (next.size > 0) queue.push(close(next));
    }
  }
  return worst;
}
