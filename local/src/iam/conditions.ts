/**
 * The `Condition` element, compiled once per statement
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html and
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
 *
 * - every operator of a block, and every key of an operator, must hold (AND); several values for one key are ORed,
 *   except for negated operators (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, ...), where the key's value must
 *   match none of them;
 * - a key missing from the request makes an operator false, a negated operator true; `...IfExists` makes it true;
 *   `Null` tests presence;
 * - a policy value whose policy variable has no value in the request (and no default) is compared neither way: it
 *   cannot make a positive operator match, and a negated operator does not hold;
 * - `ForAllValues:` holds when every value of the request's key matches (and when the key is missing or empty);
 *   `ForAnyValue:` when at least one does (false when the key is missing)
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html);
 * - condition key names are case-insensitive, values compare as each operator says.
 *
 * A multivalued request key under an operator without a set qualifier is treated as `ForAnyValue:` for a positive
 * operator and `ForAllValues:` for a negated one (the key matches if any value matches; a negated operator holds if
 * no value matches); AWS asks for a qualifier there, so policies should not rely on it.
 */
import { ipInBlock, parseCidr } from './ip.ts';
import { arnConditionMatcher, escapeRegExp, globMatcher, globSource, type Matcher } from './patterns.ts';
import {
  type ContextLookup,
  chunksText,
  parseVariables,
  substitute,
  type VariablePart,
  variableKeys,
} from './variables.ts';

/** A policy that AWS would refuse (MalformedPolicyDocument): the template cannot be deployed as it is. */
export class PolicyDocumentError extends Error {
  override readonly name = 'PolicyDocumentError';
}

export interface CompiledCondition {
  /** Lowercase context keys the condition reads (including policy variables in its values). */
  readonly keys: readonly string[];
  test(lookup: ContextLookup): boolean;
}

export interface ConditionOptions {
  /** Policy variables are substituted (policy `Version` 2012-10-17). */
  readonly variables: boolean;
  /** Why a condition key cannot be evaluated locally, or undefined when it can. */
  readonly keySupport: (key: string) => string | undefined;
  /** Names the statement in error messages. */
  readonly where: string;
}

export type ConditionCompileResult =
  | { readonly condition: CompiledCondition | undefined; readonly unsupported?: undefined }
  | { readonly condition?: undefined; readonly unsupported: readonly string[] };

type Family = 'string' | 'string-ignore-case' | 'string-like' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn';
type Comparison = 'eq' | 'lt' | 'le' | 'gt' | 'ge';

interface OperatorSpec {
  readonly family: Family;
  readonly negated: boolean;
  readonly comparison: Comparison;
}

const OPERATORS: Readonly<Record<string, OperatorSpec>> = {
  StringEquals: { family: 'string', negated: false, comparison: 'eq' },
  StringNotEquals: { family: 'string', negated: true, comparison: 'eq' },
  StringEqualsIgnoreCase: { family: 'string-ignore-case', negated: false, comparison: 'eq' },
  StringNotEqualsIgnoreCase: { family: 'string-ignore-case', negated: true, comparison: 'eq' },
  StringLike: { family: 'string-like', negated: false, comparison: 'eq' },
  StringNotLike: { family: 'string-like', negated: true, comparison: 'eq' },
  NumericEquals: { family: 'numeric', negated: false, comparison: 'eq' },
  NumericNotEquals: { family: 'numeric', negated: true, comparison: 'eq' },
  NumericLessThan: { family: 'numeric', negated: false, comparison: 'lt' },
  NumericLessThanEquals: { family: 'numeric', negated: false, comparison: 'le' },
  NumericGreaterThan: { family: 'numeric', negated: false, comparison: 'gt' },
  NumericGreaterThanEquals: { family: 'numeric', negated: false, comparison: 'ge' },
  DateEquals: { family: 'date', negated: false, comparison: 'eq' },
  DateNotEquals: { family: 'date', negated: true, comparison: 'eq' },
  DateLessThan: { family: 'date', negated: false, comparison: 'lt' },
  DateLessThanEquals: { family: 'date', negated: false, comparison: 'le' },
  DateGreaterThan: { family: 'date', negated: false, comparison: 'gt' },
  DateGreaterThanEquals: { family: 'date', negated: false, comparison: 'ge' },
  Bool: { family: 'bool', negated: false, comparison: 'eq' },
  BinaryEquals: { family: 'binary', negated: false, comparison: 'eq' },
  IpAddress: { family: 'ip', negated: false, comparison: 'eq' },
  NotIpAddress: { family: 'ip', negated: true, comparison: 'eq' },
  ArnEquals: { family: 'arn', negated: false, comparison: 'eq' },
  ArnLike: { family: 'arn', negated: false, comparison: 'eq' },
  ArnNotEquals: { family: 'arn', negated: true, comparison: 'eq' },
  ArnNotLike: { family: 'arn', negated: true, comparison: 'eq' },
};

/** The condition operators the evaluator implements (without qualifiers and `IfExists`), plus `Null`. */
export const CONDITION_OPERATORS: readonly string[] = [...Object.keys(OPERATORS), 'Null'];

/** Families whose values may hold policy variables (condition operators page, "Policy variables" per category). */
const VARIABLE_FAMILIES = new Set<Family>(['string', 'string-ignore-case', 'string-like', 'arn', 'bool']);

/**
 * A value test: static, or built per request when the policy value holds variables; undefined when a variable has no
 * value, and then the comparison is made neither way: a positive operator does not match through that value, and a
 * negated operator does not hold (so a value that cannot be substituted never makes a statement apply).
 */
type ValueTest = (contextValue: string, lookup: ContextLookup) => boolean | undefined;

interface Clause {
  readonly key: string;
  readonly qualifier: 'ForAllValues' | 'ForAnyValue' | undefined;
  readonly ifExists: boolean;
  readonly negated: boolean;
  /** For `Null`: true = the key must be absent, false = present; several values are ORed. */
  readonly nullChecks?: readonly boolean[];
  readonly tests: readonly ValueTest[];
}

function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/** ISO 8601 (`2026-01-01`, `2026-01-01T00:00:00Z`) or epoch seconds, as `Date*` operators take them. */
export function parseDate(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

function compare(comparison: Comparison, a: number, b: number): boolean {
  switch (comparison) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
  }
}

function stringLikeMatcher(parts: readonly { text: string; literal: boolean }[]): Matcher {
  const source = parts.map((part) => (part.literal ? escapeRegExp(part.text) : globSource(part.text))).join('');
  const regex = new RegExp(`^${source}$`, 's');
  return (value) => regex.test(value);
}

/** Compiles one policy value of an operator into a test, or gives the reason it cannot be evaluated. */
function valueTest(spec: OperatorSpec, operator: string, raw: string, variables: boolean): ValueTest | string {
  const parts: VariablePart[] | undefined =
    variables && VARIABLE_FAMILIES.has(spec.family) ? parseVariables(raw) : undefined;
  const staticTest = (value: string): Matcher | string => {
    switch (spec.family) {
      case 'string':
      case 'binary':
        return (v) => v === value;
      case 'string-ignore-case': {
        const lower = value.toLowerCase();
        return (v) => v.toLowerCase() === lower;
      }
      case 'string-like':
        return globMatcher(value);
      case 'arn':
        return arnConditionMatcher(value);
      case 'bool': {
        const lower = value.toLowerCase();
        if (lower !== 'true' && lower !== 'false') return `${operator} value '${value}' is neither true nor false`;
        return (v) => v.toLowerCase() === lower;
      }
      case 'numeric': {
        const number = parseNumber(value);
        if (number === undefined) return `${operator} value '${value}' is not a number`;
        return (v) => {
          const n = parseNumber(v);
          return n !== undefined && compare(spec.comparison, n, number);
        };
      }
      case 'date': {
        const ms = parseDate(value);
        if (ms === undefined) return `${operator} value '${value}' is not an ISO 8601 date or epoch seconds`;
        return (v) => {
          const d = parseDate(v);
          return d !== undefined && compare(spec.comparison, d, ms);
        };
      }
      case 'ip': {
        const block = parseCidr(value);
        if (!block) return `${operator} value '${value}' is not an IP address or CIDR block`;
        return (v) => ipInBlock(v, block);
      }
    }
  };
  if (!parts) {
    const test = staticTest(raw);
    return typeof test === 'string' ? test : (v) => test(v);
  }
  return (contextValue, lookup) => {
    const chunks = substitute(parts, lookup);
    if (!chunks) return undefined;
    if (spec.family === 'string-like') return stringLikeMatcher(chunks)(contextValue);
    const test = staticTest(chunksText(chunks));
    return typeof test !== 'string' && test(contextValue);
  };
}

function policyValues(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number' || typeof item === 'boolean') return String(item);
    throw new PolicyDocumentError(
      `${where}: condition values must be strings, numbers or booleans, got ${JSON.stringify(item)}`,
    );
  });
}

function parseOperator(
  name: string,
): { spec: OperatorSpec | 'null'; qualifier: Clause['qualifier']; ifExists: boolean } | undefined {
  let rest = name;
  let qualifier: Clause['qualifier'];
  if (rest.startsWith('ForAllValues:')) {
    qualifier = 'ForAllValues';
    rest = rest.slice('ForAllValues:'.length);
  } else if (rest.startsWith('ForAnyValue:')) {
    qualifier = 'ForAnyValue';
    rest = rest.slice('ForAnyValue:'.length);
  }
  if (rest === 'Null') return { spec: 'null', qualifier, ifExists: false };
  const ifExists = rest.endsWith('IfExists');
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  const spec = OPERATORS[rest];
  return spec ? { spec, qualifier, ifExists } : undefined;
}

function evaluateClause(clause: Clause, lookup: ContextLookup): boolean {
  const values = lookup(clause.key);
  const present = values !== undefined && values.length > 0;
  if (clause.nullChecks) return clause.nullChecks.some((mustBeAbsent) => mustBeAbsent === !present);
  if (!present || !values) {
    if (clause.ifExists || clause.qualifier === 'ForAllValues') return true;
    if (clause.qualifier === 'ForAnyValue') return false;
    return clause.negated;
  }
  const holds = clause.negated
    ? (value: string) => clause.tests.every((test) => test(value, lookup) === false)
    : (value: string) => clause.tests.some((test) => test(value, lookup) === true);
  if (clause.qualifier === 'ForAllValues') return values.every(holds);
  if (clause.qualifier === 'ForAnyValue') return values.some(holds);
  return clause.negated ? values.every(holds) : values.some(holds);
}

/** Compiles a statement's `Condition` block; `unsupported` lists why it cannot be evaluated. */
export function compileCondition(block: unknown, options: ConditionOptions): ConditionCompileResult {
  if (block === undefined) return { condition: undefined };
  if (block === null || typeof block !== 'object' || Array.isArray(block))
    throw new PolicyDocumentError(`${options.where}: Condition must be an object of operators`);
  const clauses: Clause[] = [];
  const unsupported: string[] = [];
  const keys = new Set<string>();
  for (const [operator, inner] of Object.entries(block)) {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner))
      throw new PolicyDocumentError(`${options.where}: Condition operator ${operator} must map keys to values`);
    const parsed = parseOperator(operator);
    if (!parsed) {
      unsupported.push(`unknown condition operator ${operator}`);
      continue;
    }
    for (const [rawKey, rawValues] of Object.entries(inner)) {
      const key = rawKey.toLowerCase();
      const values = policyValues(rawValues, `${options.where}: ${operator} ${rawKey}`);
      const keyProblem = options.keySupport(key);
      if (keyProblem) {
        unsupported.push(keyProblem);
        continue;
      }
      keys.add(key);
      if (parsed.spec === 'null') {
        const checks: boolean[] = [];
        for (const value of values) {
          const lower = value.toLowerCase();
          if (lower === 'true' || lower === 'false') checks.push(lower === 'true');
          else unsupported.push(`Null value '${value}' for ${rawKey} is neither true nor false`);
        }
        clauses.push({
          key,
          qualifier: parsed.qualifier,
          ifExists: false,
          negated: false,
          nullChecks: checks,
          tests: [],
        });
        continue;
      }
      const spec = parsed.spec;
      const tests: ValueTest[] = [];
      for (const value of values) {
        const test = valueTest(spec, operator, value, options.variables);
        if (typeof test === 'string') unsupported.push(test);
        else tests.push(test);
        if (options.variables && VARIABLE_FAMILIES.has(spec.family)) {
          const parts = parseVariables(value);
          for (const variable of parts ? variableKeys(parts) : []) {
            const problem = options.keySupport(variable);
            if (problem) unsupported.push(`policy variable: ${problem}`);
            keys.add(variable);
          }
        }
      }
      clauses.push({ key, qualifier: parsed.qualifier, ifExists: parsed.ifExists, negated: spec.negated, tests });
    }
  }
  if (unsupported.length > 0) return { unsupported };
  if (clauses.length === 0) return { condition: undefined };
  return {
    condition: {
      keys: [...keys],
      test: (lookup) => {
        for (const clause of clauses) if (!evaluateClause(clause, lookup)) return false;
        return true;
      },
    },
  };
}
