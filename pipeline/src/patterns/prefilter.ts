import type { Clause } from './ast.ts';
import { find, type Needle, needleFor as needle } from './search.ts';

/*
 * Strings that the JSON text of every matching event must contain, so that `matchesJson` can reject most records
 * with a few native `indexOf` searches instead of a scan. Sound only for text without a backslash: a string token
 * without escapes is its characters between quotes, so a leaf or key string is visible verbatim. (With an escape,
 * `"\u0070ending"` is `pending`; the caller checks for a backslash once and skips the prefilter then.)
 *
 * Per clause that needs a leaf at its path (any clause without `{"exists": false}`: EventBridge matches a missing
 * field only with that; `anything-but` and `numeric` need the field too):
 * - its values, when every matcher names text the leaf must contain: an exact string `v` (the leaf is the token
 *   `"v"`), a `prefix` `p` (`"p`) or a `suffix` `s` (`s"`); the clause needs one of them. Any other matcher (numbers,
 *   whose spelling varies; booleans and null; IP strings, which match other spellings; the ignore-case family;
 *   `wildcard`; `anything-but`; `exists`) gives its clause no value requirement. The string may also occur as a key
 *   or in another field: that only lets a record through to the scanner.
 * - its keys, only when no clause of the sub-rule has a value requirement: EventBridge joins keys with '.', so a leaf
 *   at `a.b.c` is reached through keys that, joined, spell the path (`"a.b"` then `"c"`, or `"a"` then `"b.c"`). The
 *   first key then starts with `a` (the text holds `"a`), the last ends with `c` (`c"`), every middle segment lies
 *   inside some key, and a one-segment path is one whole key (`"a"`). Keys of real records are nearly always present
 *   and each found one still costs a search up to where it is: on the bench's standard filter, its seven key strings
 *   cost more on the records that pass than the few records they reject would have cost the scanner.
 * A value that would need escaping cannot occur verbatim, and then its text is truly absent from backslash-free JSON,
 * so searching for it stays sound. A sub-rule (`$or` expands into several) needs all its clauses' requirements; the
 * pattern needs some sub-rule's. Array consistency only narrows which leaves may be taken, so it adds no case.
 */

/** One requirement: the text must contain at least one of these strings. */
type Requirement = readonly Needle[];

/**
 * Required strings are searched for without their opening quote (then checked), from their rarest character (see
 * search.ts): a quote occurs every few characters of JSON, which made `"pending"` three times slower to rule out than
 * `pending"`, and `shipped"` stopped at every `s`.
 */
function contains(text: string, needle: Needle): boolean {
  return find(text, needle, 0) >= 0;
}

export class LiteralPrefilter {
  private constructor(
    /** Per sub-rule, its requirements. */
    private readonly rules: readonly (readonly Requirement[])[],
  ) {}

  /** The prefilter of a pattern's sub-rules, or undefined when some sub-rule requires nothing. */
  static of(subRules: readonly (readonly Clause[])[]): LiteralPrefilter | undefined {
    const rules = subRules.map(requirementsOf);
    return rules.every((rule) => rule.length > 0) ? new LiteralPrefilter(rules) : undefined;
  }

  /** False when the text (which must hold no backslash) cannot be a matching event's JSON. */
  mayMatch(text: string): boolean {
    const rules = this.rules;
    for (let r = 0; r < rules.length; r++) if (meetsAll(text, rules[r] as readonly Requirement[])) return true;
    return false;
  }
}

function meetsAll(text: string, requirements: readonly Requirement[]): boolean {
  for (let q = 0; q < requirements.length; q++) {
    const alternatives = requirements[q] as Requirement;
    let met = false;
    for (let a = 0; a < alternatives.length && !met; a++) met = contains(text, alternatives[a] as Needle);
    if (!met) return false;
  }
  return true;
}

function requirementsOf(clauses: readonly Clause[]): Requirement[] {
  const needsLeaf = clauses.filter((clause) => !clause.matchers.some((m) => m.kind === 'exists' && !m.exists));
  const values = needsLeaf.map(valueRequirement).filter((value) => value !== undefined);
  if (values.length > 0) return values.map((alternatives) => alternatives.map(needle));
  // A key string inside a longer required one is implied by it.
  const keys = [...new Set(needsLeaf.flatMap((clause) => keyRequirements(clause.path)))];
  const needed = keys.filter((key) => !keys.some((other) => other !== key && other.includes(key)));
  return needed.map((key) => [needle(key)]);
}

function valueRequirement(clause: Clause): string[] | undefined {
  const texts = new Set<string>();
  for (const m of clause.matchers) {
    if (m.kind === 'exact' && typeof m.value === 'string') texts.add(`"${m.value}"`);
    else if (m.kind === 'prefix') texts.add(`"${m.value}`);
    else if (m.kind === 'suffix') texts.add(`${m.value}"`);
    else return undefined;
  }
  return [...texts];
}

function keyRequirements(path: string): string[] {
  const segments = path.split('.');
  if (segments.length === 1) return [`"${path}"`];
  return segments.map((segment, i) => (i === 0 ? `"${segment}` : i === segments.length - 1 ? `${segment}"` : segment));
}
