/**
 * IAM policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'none'}` and the special characters `${*}`,
 * `${?}`, `${$}`, replaced by request-context values in `Resource` and in string, ARN and Bool conditions. Only in
 * policies with `"Version": "2012-10-17"`; in older ones `${...}` is literal text.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */
import type { PatternChunk } from './patterns.ts';

export type VariablePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'variable'; readonly key: string; readonly fallback?: string };

/** Reads a request-context key (lowercase name); a multivalued key gives its values. */
export type ContextLookup = (key: string) => readonly string[] | undefined;

const VARIABLE = /\$\{([^}]*)\}/g;
const SPECIAL: Record<string, string> = { '*': '*', '?': '?', $: '$' };
const WITH_DEFAULT = /^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$/;

/** Parts of a text with policy variables, or undefined when it has none. */
export function parseVariables(text: string): VariablePart[] | undefined {
  if (!text.includes('${')) return undefined;
  const parts: VariablePart[] = [];
  let last = 0;
  let found = false;
  for (const match of text.matchAll(VARIABLE)) {
    const inner = match[1] ?? '';
    const index = match.index ?? 0;
    if (index > last) parts.push({ kind: 'text', text: text.slice(last, index) });
    const special = SPECIAL[inner];
    const withDefault = WITH_DEFAULT.exec(inner);
    if (special !== undefined) parts.push({ kind: 'literal', text: special });
    else if (withDefault?.[1] !== undefined)
      parts.push({ kind: 'variable', key: withDefault[1].toLowerCase(), fallback: withDefault[2] ?? '' });
    else parts.push({ kind: 'variable', key: inner.trim().toLowerCase() });
    found = true;
    last = index + match[0].length;
  }
  if (!found) return undefined;
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

export function variableKeys(parts: readonly VariablePart[]): string[] {
  return parts.flatMap((part) => (part.kind === 'variable' ? [part.key] : []));
}

/**
 * The chunks of `parts` for one request: variables replaced by their single value (literal text), or undefined when a
 * variable has no value and no default, or several values (a multivalued key cannot be substituted), in which case
 * the element containing it matches nothing (reference_policies_variables.html, "Request information that you can
 * use for policy variables": a key that is not present makes the comparison fail).
 */
export function substitute(parts: readonly VariablePart[], lookup: ContextLookup): PatternChunk[] | undefined {
  const chunks: PatternChunk[] = [];
  for (const part of parts) {
    if (part.kind === 'text') chunks.push({ text: part.text, literal: false });
    else if (part.kind === 'literal') chunks.push({ text: part.text, literal: true });
    else {
      const values = lookup(part.key);
      if (values && values.length === 1 && values[0] !== undefined) chunks.push({ text: values[0], literal: true });
      else if ((!values || values.length === 0) && part.fallback !== undefined)
        chunks.push({ text: part.fallback, literal: true });
      else return undefined;
    }
  }
  return chunks;
}

export function chunksText(chunks: readonly PatternChunk[]): string {
  return chunks.map((chunk) => chunk.text).join('');
}
