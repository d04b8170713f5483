import type { Clause, Matcher } from './ast.ts';
import type { CaseFolded } from './ignore-case.ts';
import { ipBytes, ipToHex } from './ip.ts';
import { decimalPlaces, NUMERIC_LIMIT } from './numbers.ts';
import { parsePattern } from './parse.ts';
import type { Wildcard } from './wildcard.ts';

/*
 * A deliberately plain interpreter of EventBridge matching, kept apart from the compiler so that each checks the
 * other (the property tests compare them on random patterns and events). It does what aws/event-ruler describes, in
 * the most direct way: normalise the event to JSON, flatten it into (dotted name, leaf, array membership) fields, and
 * search every sub-rule's clauses in path order for array-consistent leaves. Operators are read off the AST with
 * regular expressions and string functions instead of the compiler's precomputed closures.
 */

interface Field {
  readonly name: string;
  readonly value: string | number | boolean | null;
  /** Array id to element index, for every array element (object or array) on the way to the leaf. */
  readonly membership: ReadonlyMap<number, number>;
}

export function referenceMatch(pattern: unknown, event: unknown): boolean {
  const parsed = parsePattern(pattern, 'eventbridge');
  if (event === undefined) return false;
  const json: unknown = JSON.parse(JSON.stringify(event) ?? 'null');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const fields = flatten(json);
  return parsed.subRules.some((rule) => {
    const ordered = [...rule].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return search(ordered, fields, new Map());
  });
}

function flatten(root: object): Field[] {
  const fields: Field[] = [];
  let arrays = 0;
  const walk = (value: unknown, name: string, membership: Map<number, number>): void => {
    if (Array.isArray(value)) {
      const id = arrays++;
      value.forEach((item, index) => {
        const inner = typeof item === 'object' && item !== null ? new Map(membership).set(id, index) : membership;
        walk(item, name, inner);
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) walk(item, name === '' ? key : `${name}.${key}`, membership);
    } else {
      fields.push({ name, value: value as Field['value'], membership });
    }
  };
  for (const [key, value] of Object.entries(root)) walk(value, key, new Map());
  return fields;
}

function consistent(membership: ReadonlyMap<number, number>, chosen: ReadonlyMap<number, number>): boolean {
  for (const [array, index] of membership) if (chosen.has(array) && chosen.get(array) !== index) return false;
  return true;
}

function search(clauses: Clause[], fields: Field[], chosen: ReadonlyMap<number, number>): boolean {
  const [clause, ...rest] = clauses;
  if (!clause) return true;
  const named = fields.filter((f) => f.name === clause.path);
  for (const field of named) {
    if (!consistent(field.membership, chosen)) continue;
    if (clause.matchers.some((m) => accepts(m, field.value))) {
      if (search(rest, fields, new Map([...chosen, ...field.membership]))) return true;
    }
  }
  const absenceAllowed = clause.matchers.some((m) => m.kind === 'exists' && !m.exists);
  return absenceAllowed && !named.some((f) => consistent(f.membership, chosen)) && search(rest, fields, chosen);
}

function comparable(x: number): boolean {
  return Math.abs(x) <= NUMERIC_LIMIT && decimalPlaces(x) <= 6;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function caseRegex(folded: CaseFolded, anchor: 'start' | 'end' | 'both'): RegExp {
  const body = folded.forms.map((forms) => `(?:${forms.map(escapeRegex).join('|')})`).join('');
  return new RegExp(`${anchor === 'end' ? '' : '^'}${body}${anchor === 'start' ? '' : '$'}`);
}

function wildcardRegex(wildcard: Wildcard): RegExp {
  return new RegExp(`^${wildcard.segments.map(escapeRegex).join('[\\s\\S]*')}$`);
}

/** Whether the address shares the CIDR's first mask bits, compared bit by bit (host bits of the CIDR ignored). */
function inNetwork(address: string, cidr: string): boolean {
  const [network = '', mask = ''] = cidr.split('/');
  const a = ipBytes(address);
  const n = ipBytes(network);
  if (!a || !n || a.length !== n.length) return false;
  const bit = (bytes: number[], i: number) => ((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
  for (let i = 0; i < Number(mask); i++) if (bit(a, i) !== bit(n, i)) return false;
  return true;
}

function accepts(m: Matcher, value: Field['value']): boolean {
  const text = typeof value === 'string' ? value : undefined;
  switch (m.kind) {
    case 'exact':
      return value === m.value;
    case 'exact-ip':
      return text !== undefined && ipToHex(text) === m.hex;
    case 'prefix':
      return text?.startsWith(m.value) ?? false;
    case 'suffix':
      return text?.endsWith(m.value) ?? false;
    case 'prefix-ignore-case':
      return text !== undefined && caseRegex(m.folded, 'start').test(text);
    case 'suffix-ignore-case':
      return text !== undefined && caseRegex(m.folded, 'end').test(text);
    case 'equals-ignore-case':
      return text !== undefined && caseRegex(m.folded, 'both').test(text);
    case 'wildcard':
      return text !== undefined && wildcardRegex(m.wildcard).test(text);
    case 'numeric': {
      if (typeof value !== 'number' || !comparable(value)) return false;
      const { lower, lowerOpen, upper, upperOpen } = m.range;
      const aboveLower = lowerOpen ? value > lower : value >= lower;
      const belowUpper = upperOpen ? value < upper : value <= upper;
      return aboveLower && belowUpper;
    }
    case 'cidr':
      return text !== undefined && inNetwork(text, m.text);
    case 'exists':
      return m.exists;
    case 'anything-but': {
      const { exclude } = m;
      switch (exclude.mode) {
        case 'strings':
          return !(text !== undefined && exclude.values.includes(text));
        case 'numbers':
          return !(typeof value === 'number' && comparable(value) && exclude.values.includes(value));
        case 'prefix':
          return !(text !== undefined && exclude.values.some((p) => text.startsWith(p)));
        case 'suffix':
          return !(text !== undefined && exclude.values.some((s) => text.endsWith(s)));
        case 'equals-ignore-case':
          return !(text !== undefined && exclude.values.some((f) => caseRegex(f, 'both').test(text)));
        case 'wildcard':
          return !(text !== undefined && exclude.values.some((w) => wildcardRegex(w).test(text)));
      }
    }
  }
}
