/**
 * `equals-ignore-case` as aws/event-ruler implements it (`EqualsIgnoreCaseParser`): each UTF-16 unit of the pattern
 * stands for its lower-case or its upper-case form (Locale.ROOT), and a value matches when it is a sequence of such
 * forms. This differs from comparing `toLowerCase()`s for characters whose case forms have other lengths (`ß`
 * matches `ß` or `SS`, not `ss`).
 */
export interface CaseFolded {
  readonly source: string;
  /** Per pattern unit, its distinct case forms. */
  readonly forms: readonly (readonly string[])[];
  /** When every form is one unit long: the lower and upper forms as strings, for a per-index comparison. */
  readonly lower: string | undefined;
  readonly upper: string | undefined;
}

export function foldCase(source: string): CaseFolded {
  const forms: string[][] = [];
  for (let i = 0; i < source.length; i++) {
    const unit = source[i] ?? '';
    forms.push([...new Set([unit.toLowerCase(), unit.toUpperCase()])]);
  }
  const simple = forms.every((f) => f.every((form) => form.length === 1));
  return {
    source,
    forms,
    lower: simple ? forms.map((f) => f[0]).join('') : undefined,
    upper: simple ? forms.map((f) => f[f.length - 1]).join('') : undefined,
  };
}

/** Whether value[from, from + folded.length) spells the pattern, for one-unit forms. */
function simpleAt(lower: string, upper: string, value: string, from: number): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = value.charCodeAt(from + i);
    if (c !== lower.charCodeAt(i) && c !== upper.charCodeAt(i)) return false;
  }
  return true;
}

/** Ends reachable after spelling forms[0..] from `start`, in general (forms of any length). */
function endsFrom(forms: readonly (readonly string[])[], value: string, start: number): Set<number> {
  let positions = new Set([start]);
  for (const options of forms) {
    const next = new Set<number>();
    for (const at of positions) for (const form of options) if (value.startsWith(form, at)) next.add(at + form.length);
    positions = next;
    if (positions.size === 0) break;
  }
  return positions;
}

export function equalsIgnoringCase(folded: CaseFolded, value: string): boolean {
  const { lower, upper } = folded;
  if (lower !== undefined && upper !== undefined) {
    return value.length === lower.length && simpleAt(lower, upper, value, 0);
  }
  return endsFrom(folded.forms, value, 0).has(value.length);
}

export function startsWithIgnoringCase(folded: CaseFolded, value: string): boolean {
  const { lower, upper } = folded;
  if (lower !== undefined && upper !== undefined) {
    return value.length >= lower.length && simpleAt(lower, upper, value, 0);
  }
  return endsFrom(folded.forms, value, 0).size > 0;
}

export function endsWithIgnoringCase(folded: CaseFolded, value: string): boolean {
  const { lower, upper } = folded;
  if (lower !== undefined && upper !== undefined) {
    return value.length >= lower.length && simpleAt(lower, upper, value, value.length - lower.length);
  }
  // Spell the pattern backwards from the end of the value, unit by unit as event-ruler does.
  const reverse = (s: string) => s.split('').reverse().join('');
  const reversed = [...folded.forms].reverse().map((options) => options.map(reverse));
  return endsFrom(reversed, reverse(value), 0).size > 0;
}
