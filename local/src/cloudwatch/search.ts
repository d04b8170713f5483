import type { MetricId } from './metric-store.ts';

/**
 * The search expression of CloudWatch's `SEARCH(' {Namespace,DimensionName,...} SearchTerm ', 'Statistic', Period)`:
 * parsed once, then matched against every metric the store holds. What it follows is the CloudWatch User Guide,
 * "CloudWatch search expression syntax" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html):
 *
 * - The metric schema `{Namespace, DimensionName, ...}` (optional, first): a metric matches only if it is in that
 *   namespace and its dimension names are exactly those (`{AWS/EC2}` is the metrics of no dimension, "search-expression
 *   examples"). Names with spaces or other characters are double-quoted; a comma may follow the closing brace.
 * - Partial terms (bare words) match tokens of the metric name, namespace, dimension names and values: names are cut at
 *   camel case, at digits and at every other character; a single-token term matches a token whatever its case, a term
 *   of several tokens ("composite") matches them consecutively and case-sensitively (`CustomCount` and `Count1` find
 *   `CustomCount1`, `customcount` and `count1` do not); words the term separates with other characters match
 *   consecutive tokens (`network-errors` finds `NetworkErrors2`).
 * - Exact terms (`"CustomCount1"`) equal one of those strings; `" \ ( )` inside are escaped with a backslash.
 * - Property terms `MetricName=`, `Namespace=` and `<DimensionName>=` restrict a partial or exact term to that property
 *   (`InstanceType=micro`, `InstanceType="t2.micro"`), or a parenthesized group of terms (`InstanceId=("a" OR "b")`).
 * - `AND`, `OR`, `NOT` (case-sensitive; adjacent terms are ANDed) and parentheses.
 *
 * Not served: `:aws.AccountId` (cross-account observability: one account runs locally).
 */

/** The most characters a search expression's query may hold ("Search expression limits"). */
export const MAX_SEARCH_QUERY_LENGTH = 1024;

export class SearchSyntaxError extends Error {
  override readonly name = 'SearchSyntaxError';
}

export interface MetricSchema {
  readonly namespace: string;
  readonly dimensions: readonly string[];
}

type Term =
  | { readonly kind: 'and' | 'or'; readonly items: readonly Term[] }
  | { readonly kind: 'not'; readonly item: Term }
  | { readonly kind: 'match'; readonly text: string; readonly exact: boolean; readonly property?: string };

export interface SearchQuery {
  readonly schema?: MetricSchema;
  readonly term?: Term;
}

type Token =
  | { readonly kind: 'word' | 'phrase'; readonly text: string; readonly at: number }
  | { readonly kind: '(' | ')' | '=' | '{' | '}' | ',' | 'AND' | 'OR' | 'NOT'; readonly at: number };

const OPERATORS = new Set(['AND', 'OR', 'NOT']);

function lex(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ('(){}=,'.includes(c)) {
      tokens.push({ kind: c as '(' | ')' | '{' | '}' | '=' | ',', at: i });
      i++;
      continue;
    }
    if (c === '"') {
      const start = i;
      let text = '';
      i++;
      for (;;) {
        if (i >= query.length)
          throw new SearchSyntaxError(`the quoted phrase starting at position ${start} has no closing double quote`);
        const d = query[i] as string;
        if (d === '\\') {
          if (i + 1 >= query.length)
            throw new SearchSyntaxError(`the quoted phrase starting at position ${start} ends in a lone backslash`);
          text += query[i + 1];
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ kind: 'phrase', text, at: start });
      continue;
    }
    const start = i;
    let text = '';
    while (i < query.length && !/[\s(){}=,"]/.test(query[i] as string)) {
      if (query[i] === '\\' && i + 1 < query.length) {
        text += query[i + 1];
        i += 2;
      } else text += query[i++];
    }
    tokens.push(
      OPERATORS.has(text) ? { kind: text as 'AND' | 'OR' | 'NOT', at: start } : { kind: 'word', text, at: start },
    );
  }
  return tokens;
}

const describeToken = (token: Token | undefined): string =>
  token === undefined
    ? 'the end of the query'
    : token.kind === 'word'
      ? `'${token.text}' at position ${token.at}`
      : token.kind === 'phrase'
        ? `"${token.text}" at position ${token.at}`
        : `'${token.kind}' at position ${token.at}`;

/** Parses the query of a SEARCH (what its first single-quoted argument holds). */
export function parseSearch(query: string): SearchQuery {
  if (query.length > MAX_SEARCH_QUERY_LENGTH)
    throw new SearchSyntaxError(
      `the search expression is ${query.length} characters long; the maximum search expression query size is ${MAX_SEARCH_QUERY_LENGTH} characters`,
    );
  const tokens = lex(query);
  let position = 0;
  const peek = () => tokens[position];
  let schema: MetricSchema | undefined;
  if (peek()?.kind === '{') {
    position++;
    const names: string[] = [];
    for (;;) {
      const token = tokens[position++];
      if (token?.kind !== 'word' && token?.kind !== 'phrase')
        throw new SearchSyntaxError(
          `the metric schema expects a ${names.length === 0 ? 'namespace' : 'dimension name'}, found ${describeToken(token)}`,
        );
      if (token.text === '')
        throw new SearchSyntaxError(`the metric schema holds an empty name at position ${token.at}`);
      names.push(token.text);
      const next = tokens[position++];
      if (next?.kind === '}') break;
      if (next?.kind !== ',')
        throw new SearchSyntaxError(`the metric schema expects ',' or '}', found ${describeToken(next)}`);
    }
    const [namespace, ...dimensions] = names as [string, ...string[]];
    if (new Set(dimensions).size !== dimensions.length)
      throw new SearchSyntaxError(`the metric schema names a dimension twice: {${names.join(',')}}`);
    schema = { namespace, dimensions };
    if (peek()?.kind === ',') position++;
  }

  const or = (): Term => {
    const items = [and()];
    while (peek()?.kind === 'OR') {
      position++;
      items.push(and());
    }
    return items.length === 1 ? (items[0] as Term) : { kind: 'or', items };
  };
  const startsTerm = (token: Token | undefined) =>
    token !== undefined &&
    (token.kind === 'word' || token.kind === 'phrase' || token.kind === '(' || token.kind === 'NOT');
  const and = (): Term => {
    const items = [unary()];
    for (;;) {
      if (peek()?.kind === 'AND') {
        position++;
        items.push(unary());
      } else if (startsTerm(peek())) items.push(unary());
      else break;
    }
    return items.length === 1 ? (items[0] as Term) : { kind: 'and', items };
  };
  const unary = (): Term => {
    const token = peek();
    if (token?.kind === 'NOT') {
      position++;
      return { kind: 'not', item: unary() };
    }
    return primary();
  };
  const primary = (): Term => {
    const token = tokens[position++];
    if (token?.kind === '(') {
      const inner = or();
      const close = tokens[position++];
      if (close?.kind !== ')')
        throw new SearchSyntaxError(
          `the '(' at position ${token.at} has no matching ')' (found ${describeToken(close)})`,
        );
      return inner;
    }
    if (token?.kind === 'word' || token?.kind === 'phrase') {
      if (peek()?.kind !== '=') return leaf(token);
      position++;
      const property = token.text;
      if (property.startsWith(':aws.'))
        throw new SearchSyntaxError(
          `${property} is not served by the local CloudWatch (cross-account observability: one account runs locally)`,
        );
      if (property === '') throw new SearchSyntaxError(`a property term at position ${token.at} names no property`);
      const value = tokens[position];
      if (value?.kind === '(') return withProperty(primary(), property);
      position++;
      if (value?.kind !== 'word' && value?.kind !== 'phrase')
        throw new SearchSyntaxError(`${property}= expects a value, found ${describeToken(value)}`);
      return leaf(value, property);
    }
    if (token?.kind === '{')
      throw new SearchSyntaxError(
        `the metric schema must come first in the search expression, found '{' at position ${token.at}`,
      );
    throw new SearchSyntaxError(`expected a search term, found ${describeToken(token)}`);
  };

  let term: Term | undefined;
  if (position < tokens.length) {
    term = or();
    if (position < tokens.length) {
      const extra = tokens[position];
      throw new SearchSyntaxError(
        extra?.kind === ')'
          ? `the ')' at position ${extra.at} has no matching '('`
          : extra?.kind === '{'
            ? `the metric schema must come first in the search expression, found '{' at position ${extra.at}`
            : `unexpected ${describeToken(extra)}`,
      );
    }
  }
  if (!schema && !term)
    throw new SearchSyntaxError('a search expression must contain a metric schema, a search term, or both');
  return { ...(schema ? { schema } : {}), ...(term ? { term } : {}) };
}

function leaf(token: Extract<Token, { kind: 'word' | 'phrase' }>, property?: string): Term {
  if (token.kind === 'word' && words(token.text).length === 0)
    throw new SearchSyntaxError(
      `the search term '${token.text}' at position ${token.at} has no letter or digit to match`,
    );
  return { kind: 'match', text: token.text, exact: token.kind === 'phrase', ...(property ? { property } : {}) };
}

/** `InstanceId=("a" OR "b")`: the property applies to every term of the group that names none. */
function withProperty(term: Term, property: string): Term {
  switch (term.kind) {
    case 'match':
      return term.property ? term : { ...term, property };
    case 'not':
      return { kind: 'not', item: withProperty(term.item, property) };
    default:
      return { kind: term.kind, items: term.items.map((item) => withProperty(item, property)) };
  }
}

/** The runs of letters and digits of a string (every other character delimits). */
function words(text: string): string[] {
  return text.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
}

/**
 * The tokens of a word: cut before an upper-case letter that starts a capitalized part (`CustomCount` → `Custom`,
 * `Count`; `SDBFailure` → `SDB`, `Failure`) and where digits start or end (`Project2` → `Project`, `2`).
 */
function subTokens(word: string): string[] {
  return word.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? [];
}

/** Whether a partial term matches a name, by the tokenization rules of the syntax page (see the module comment). */
export function partialMatch(term: string, name: string): boolean {
  const nameTokens = words(name).flatMap(subTokens);
  // The whole name, lower case, delimiters dropped, is a token of its own (`Project2-trial333` → `project2trial333`).
  const whole = words(name).join('').toLowerCase();
  const termWords = words(term);
  if (termWords.join('').toLowerCase() === whole) return true;
  const pattern = termWords.flatMap((word) => {
    const parts = subTokens(word);
    // One token: any case. A composite of several: case-sensitive.
    return parts.length === 1
      ? [{ text: (parts[0] as string).toLowerCase(), anyCase: true }]
      : parts.map((text) => ({ text, anyCase: false }));
  });
  if (pattern.length === 0) return false;
  for (let i = 0; i + pattern.length <= nameTokens.length; i++) {
    if (
      pattern.every(({ text, anyCase }, k) => {
        const token = nameTokens[i + k] as string;
        return anyCase ? token.toLowerCase() === text : token === text;
      })
    )
      return true;
  }
  return false;
}

/** The strings a term is compared with: its property's value, or every name and value of the metric. */
function candidates(metric: MetricId, property: string | undefined): string[] {
  if (property === undefined)
    return [
      metric.namespace,
      metric.metricName,
      ...metric.dimensions.flatMap((dimension) => [dimension.Name, dimension.Value]),
    ];
  if (property === 'MetricName') return [metric.metricName];
  if (property === 'Namespace') return [metric.namespace];
  return metric.dimensions.filter((dimension) => dimension.Name === property).map((dimension) => dimension.Value);
}

function termMatches(term: Term, metric: MetricId): boolean {
  switch (term.kind) {
    case 'and':
      return term.items.every((item) => termMatches(item, metric));
    case 'or':
      return term.items.some((item) => termMatches(item, metric));
    case 'not':
      return !termMatches(term.item, metric);
    case 'match':
      return candidates(metric, term.property).some((candidate) =>
        term.exact ? candidate === term.text : partialMatch(term.text, candidate),
      );
  }
}

/** Whether a metric is one the search finds: in the schema (exactly its dimension names) and matching the terms. */
export function searchMatches(search: SearchQuery, metric: MetricId): boolean {
  if (search.schema) {
    if (metric.namespace !== search.schema.namespace) return false;
    const names = new Set(metric.dimensions.map((dimension) => dimension.Name));
    if (names.size !== search.schema.dimensions.length) return false;
    if (!search.schema.dimensions.every((name) => names.has(name))) return false;
  }
  return search.term === undefined || termMatches(search.term, metric);
}
