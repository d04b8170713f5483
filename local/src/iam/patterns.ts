/**
 * Wildcard matching as IAM policies use it, compiled once per policy value.
 *
 * - Actions: `service:pattern`, `*` any run of characters and `?` one character, case-insensitive
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
 * - Resources: case-sensitive; `*` and `?` work inside each colon-separated segment of the ARN, and a `*` that ends a
 *   segment may expand beyond the colons
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html, "Using wildcards in
 *   resource ARNs"). The resource segment (everything after the fifth colon) may hold colons itself, so wildcards match
 *   them there.
 * - `StringLike`: `*` and `?` anywhere, case-sensitive.
 * - `ArnLike`/`ArnEquals`: each of the six colon-delimited components is matched separately
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN).
 */

export type Matcher = (value: string) => boolean;

const ALWAYS: Matcher = () => true;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** Regular-expression source of a glob where `*` is `star` and `?` is `one`. */
function globSource(pattern: string, star = '.*', one = '.'): string {
  let out = '';
  for (const char of pattern) {
    if (char === '*') out += star;
    else if (char === '?') out += one;
    else out += escapeRegExp(char);
  }
  return out;
}

/** `*`/`?` glob over the whole string. */
export function globMatcher(pattern: string, ignoreCase = false): Matcher {
  if (pattern === '*') return ALWAYS;
  if (!hasWildcard(pattern)) {
    if (!ignoreCase) return (value) => value === pattern;
    const lower = pattern.toLowerCase();
    return (value) => value.length === lower.length && value.toLowerCase() === lower;
  }
  const body = pattern.slice(0, -1);
  if (pattern.endsWith('*') && !hasWildcard(body)) {
    if (!ignoreCase) return (value) => value.startsWith(body);
    const lower = body.toLowerCase();
    return (value) => value.toLowerCase().startsWith(lower);
  }
  const regex = new RegExp(`^${globSource(pattern)}$`, ignoreCase ? 'is' : 's');
  return (value) => regex.test(value);
}

/** An `Action`/`NotAction` entry: `*`, or `service:pattern` (case-insensitive). */
export function actionMatcher(pattern: string): Matcher {
  return globMatcher(pattern.toLowerCase(), true);
}

/** Splits an ARN into its six components (the last keeps its colons); undefined if it has fewer than six. */
export function splitArn(arn: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const colon = arn.indexOf(':', start);
    if (colon < 0) return undefined;
    parts.push(arn.slice(start, colon));
    start = colon + 1;
  }
  parts.push(arn.slice(start));
  return parts;
}

/** A piece of a pattern: text whose `*`/`?` are wildcards, or literal text (a policy variable's value, `${*}`). */
export interface PatternChunk {
  readonly text: string;
  readonly literal: boolean;
}

/**
 * Regular-expression source of a `Resource` value: wildcards stay in their segment unless a `*` ends it; in the
 * sixth (resource) segment, which may contain colons, they match anything.
 */
export function resourcePatternSource(chunks: readonly PatternChunk[]): string {
  const chars: string[] = [];
  const wild: boolean[] = [];
  for (const chunk of chunks)
    for (const char of chunk.text) {
      chars.push(char);
      wild.push(!chunk.literal && (char === '*' || char === '?'));
    }
  const isArn = chars.slice(0, 4).join('') === 'arn:';
  let out = '';
  let colons = 0;
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] ?? '';
    const inPrefix = isArn && colons < 5;
    if (!wild[i]) {
      out += escapeRegExp(char);
      if (char === ':') colons++;
      continue;
    }
    if (!inPrefix) out += char === '*' ? '.*' : '.';
    else if (char === '?') out += '[^:]';
    else {
      const next = chars[i + 1];
      out += next === undefined || (next === ':' && !wild[i + 1]) ? '.*' : '[^:]*';
    }
  }
  return out;
}

/** A `Resource`/`NotResource` entry, case-sensitive. */
export function resourceMatcher(pattern: string): Matcher {
  if (pattern === '*') return ALWAYS;
  if (!hasWildcard(pattern)) return (value) => value === pattern;
  const regex = new RegExp(`^${resourcePatternSource([{ text: pattern, literal: false }])}$`, 's');
  return (value) => regex.test(value);
}

/** `ArnLike`/`ArnEquals`: six components, each matched on its own; a value that is not an ARN never matches. */
export function arnConditionMatcher(pattern: string): Matcher {
  const parts = splitArn(pattern);
  if (!parts) return () => false;
  const matchers = parts.map((part) => globMatcher(part));
  return (value) => {
    const valueParts = splitArn(value);
    if (!valueParts) return false;
    for (let i = 0; i < 6; i++) {
      const matcher = matchers[i];
      const part = valueParts[i];
      if (!matcher || part === undefined || !matcher(part)) return false;
    }
    return true;
  };
}

export { escapeRegExp, globSource };
