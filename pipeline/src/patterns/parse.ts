import type { Clause, Exclusion, Matcher, NumericRange, OrNode, ParsedPattern } from './ast.ts';
import { PatternValidationError } from './errors.ts';
import { foldCase } from './ignore-case.ts';
import type { Dialect } from './index.ts';
import { ipToHex, parseCidr } from './ip.ts';
import { comparableNumberError } from './numbers.ts';
import { parseWildcard, WILDCARD_COMPLEXITY_LIMIT, type Wildcard, wildcardComplexity } from './wildcard.ts';

/*
 * Validation and normalisation of event patterns. The checks, their order and their reasons follow aws/event-ruler's
 * `JsonRuleCompiler` (the library behind EventBridge), which reads the pattern as a token stream and reports the
 * first problem in document order; the conformance vectors hold AWS's own texts for these reasons.
 */

/**
 * Operators EventBridge Pipes does not evaluate. Source: EventBridge user guide, "Comparison operators for use in
 * event patterns in Amazon EventBridge"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html), column "Pipe support"
 * (all 22 rows read): No for "Anything-but (begins with)", "Anything-but (ends with)",
 * "Anything-but (ignore case)", "Anything-but using a wildcard" and "Wildcard"; Yes for And, Anything-but, Not
 * (`anything-but` list), Begins with and Begins with (ignore case), Empty, Equals and Equals (ignore case), Ends with
 * and Ends with (ignore case), Exists, Does not exist, Null, Numeric (equals), Numeric (range), Or (several values)
 * and Or (multiple fields, `$or`). The table has no IP-address row, so `cidr` is accepted by assumption.
 */
const PIPES_UNSUPPORTED_ANYTHING_BUT = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

/**
 * Record fields the Pipes poller adds, which a Pipes filter cannot use. Source: EventBridge user guide, "Event
 * filtering in Amazon EventBridge Pipes" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-event-filtering.html):
 * "you can filter based on the fields sent by the source API, and not on fields added by the polling operation. The
 * following fields can't be used in event patterns": this list, for every source (DynamoDB, Kinesis, SQS, MQ, Kafka).
 * They are top-level fields of the record, so only a pattern's root keys (also in a root `$or`) are checked.
 */
export const PIPES_POLLER_FIELDS: ReadonlySet<string> = new Set([
  'awsRegion',
  'eventSource',
  'eventSourceARN',
  'eventVersion',
  'eventID',
  'eventName',
  'invokeIdentityArn',
  'eventSourceKey',
]);

/** A Pipes filter is a string of at most 4096 characters (EventBridge Pipes API reference, `Filter.Pattern`). */
const PIPES_PATTERN_MAX_LENGTH = 4096;

/** Field names aws/event-ruler reserves inside `$or` (its `Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP`). */
const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  'html',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

type Rule = Map<string, Clause>;

class PatternReader {
  private position = 0;
  readonly ors: OrNode[] = [];

  constructor(private readonly dialect: Dialect) {}

  fail(jsonPath: string, reason: string): never {
    throw new PatternValidationError(jsonPath, reason, this.dialect);
  }

  read(pattern: unknown): ParsedPattern {
    if (!isObject(pattern)) this.fail('$', 'Filter is not an object');
    const rules: Rule[] = [];
    this.readObject(pattern, [], rules, false, '$');
    const subRules = rules.map((rule) => [...rule.values()]);
    for (const clauses of subRules) for (const clause of clauses) this.checkComplexity(clause);
    if (this.dialect === 'pipes') {
      const length = JSON.stringify(pattern).length;
      if (length > PIPES_PATTERN_MAX_LENGTH) {
        this.fail(
          '$',
          `Pattern is ${length} characters long; a Pipes filter holds at most ${PIPES_PATTERN_MAX_LENGTH}`,
        );
      }
    }
    return { subRules, ors: this.ors };
  }

  private readObject(object: object, steps: string[], rules: Rule[], insideOr: boolean, jsonPath: string): void {
    const entries = Object.entries(object);
    if (entries.length === 0) this.fail(jsonPath, 'Empty objects are not allowed');
    for (const [key, value] of entries) {
      const at = childPath(jsonPath, key);
      if (key === '$or') {
        this.readOr(value, steps, rules, at);
        continue;
      }
      // A root key names a record field by its first segment (`{"eventName.x": …}` is under eventName too).
      const rootField = steps.length === 0 ? key.split('.')[0] : undefined;
      if (this.dialect === 'pipes' && rootField !== undefined && PIPES_POLLER_FIELDS.has(rootField)) {
        this.fail(
          at,
          `${rootField} cannot be used in an EventBridge Pipes filter: the Pipes poller adds it to each record, and Pipes filters only on fields the source sends`,
        );
      }
      if (insideOr && RESERVED_IN_OR.has(key)) {
        this.fail(at, `${key} is Ruler reserved fieldName which cannot be used inside $or.`);
      }
      if (Array.isArray(value)) {
        const clause = this.readClause([...steps, key].join('.'), value, at);
        if (rules.length === 0) rules.push(new Map());
        for (const rule of rules) rule.set(clause.path, clause);
      } else if (isObject(value)) {
        this.readObject(value, [...steps, key], rules, insideOr, at);
      } else {
        this.fail(at, `"${key}" must be an object or an array`);
      }
    }
  }

  private readOr(value: unknown, steps: string[], rules: Rule[], jsonPath: string): void {
    this.ors.push({ path: [...steps, '$or'].join('.'), position: this.position++, source: value });
    if (!Array.isArray(value)) this.fail(jsonPath, 'It must be an Array followed with $or.');
    const before = rules.splice(0).map((rule) => new Map(rule));
    value.forEach((branch, i) => {
      if (!isObject(branch))
        this.fail(`${jsonPath}[${i}]`, 'Only JSON object is allowed in array of $or relationship.');
      const branchRules = before.length > 0 ? before.map((rule) => new Map(rule)) : [new Map()];
      this.readObject(branch, steps, branchRules, true, `${jsonPath}[${i}]`);
      rules.push(...branchRules);
    });
    if (value.length < 2) this.fail(jsonPath, 'There must have at least 2 Objects in $or relationship.');
  }

  private readClause(path: string, values: unknown[], jsonPath: string): Clause {
    const position = this.position++;
    const matchers = values.map((value, i): Matcher => {
      const at = `${jsonPath}[${i}]`;
      if (isObject(value)) return this.readExpression(value, at);
      if (typeof value === 'string') {
        const hex = ipToHex(value);
        return hex === undefined
          ? { kind: 'exact', source: value, value }
          : { kind: 'exact-ip', source: value, value, hex };
      }
      if (isJsonNumber(value) || typeof value === 'boolean' || value === null)
        return { kind: 'exact', source: value, value };
      return this.fail(at, 'Match value must be String, number, true, false, or null');
    });
    if (matchers.length === 0) this.fail(jsonPath, 'Empty arrays are not allowed');
    return { path, matchers, source: values, position, jsonPath };
  }

  private readExpression(expression: object, jsonPath: string): Matcher {
    const [first, ...extra] = Object.entries(expression);
    if (!first) return this.fail(jsonPath, 'Match expression name not found');
    const [operator, operand] = first;
    const at = childPath(jsonPath, operator);
    const onlyOneKey = () => {
      if (extra.length > 0) this.fail(jsonPath, 'Only one key allowed in match expression');
    };
    const tooManyElements = () => {
      if (extra.length > 0) this.fail(jsonPath, 'Too many elements in numeric expression');
    };
    switch (operator) {
      case 'prefix':
      case 'suffix': {
        const matcher = this.readPrefixOrSuffix(operator, operand, expression, at);
        onlyOneKey();
        return matcher;
      }
      case 'equals-ignore-case':
        if (typeof operand !== 'string') this.fail(at, 'equals-ignore-case match pattern must be a string');
        onlyOneKey();
        return { kind: 'equals-ignore-case', source: expression, folded: foldCase(operand) };
      case 'wildcard': {
        this.requireDialect('wildcard', at);
        if (typeof operand !== 'string') this.fail(at, 'wildcard match pattern must be a string');
        const wildcard = this.readWildcard(operand, at);
        onlyOneKey();
        return { kind: 'wildcard', source: expression, wildcard };
      }
      case 'numeric': {
        if (!Array.isArray(operand)) this.fail(at, 'Value of numeric must be an array.');
        const range = this.readNumeric(operand, at);
        tooManyElements();
        return { kind: 'numeric', source: expression, range };
      }
      case 'anything-but': {
        const exclude = this.readAnythingBut(operand, at);
        tooManyElements();
        return { kind: 'anything-but', source: expression, exclude };
      }
      case 'exists':
        if (typeof operand !== 'boolean') this.fail(at, 'exists match pattern must be either true or false.');
        onlyOneKey();
        return { kind: 'exists', source: expression, exists: operand };
      case 'cidr': {
        if (typeof operand !== 'string') this.fail(at, 'prefix match pattern must be a string');
        const range = parseCidr(operand);
        if (typeof range === 'string') this.fail(at, range);
        onlyOneKey();
        return { kind: 'cidr', source: expression, text: operand, range };
      }
      default:
        return this.fail(at, `Unrecognized match type ${operator}`);
    }
  }

  /** `{"prefix": "x"}`, or `{"prefix": {"equals-ignore-case": "x"}}` (and the same for suffix). */
  private readPrefixOrSuffix(kind: 'prefix' | 'suffix', operand: unknown, source: object, jsonPath: string): Matcher {
    if (!isObject(operand)) {
      if (typeof operand !== 'string') this.fail(jsonPath, `${kind} match pattern must be a string`);
      return { kind, source, value: operand };
    }
    const [first, ...extra] = Object.entries(operand);
    const title = kind === 'prefix' ? 'Prefix' : 'Suffix';
    if (!first) return this.fail(jsonPath, `${title} expression name not found`);
    const [inner, value] = first;
    const at = childPath(jsonPath, inner);
    if (inner !== 'equals-ignore-case') this.fail(at, `Unsupported ${kind} pattern: ${inner}`);
    if (typeof value !== 'string') this.fail(at, 'equals-ignore-case match pattern must be a string');
    if (extra.length > 0) this.fail(jsonPath, 'Only one key allowed in match expression');
    return { kind: kind === 'prefix' ? 'prefix-ignore-case' : 'suffix-ignore-case', source, folded: foldCase(value) };
  }

  private readWildcard(value: string, jsonPath: string): Wildcard {
    const wildcard = parseWildcard(value);
    if (typeof wildcard === 'string') this.fail(jsonPath, wildcard);
    return wildcard;
  }

  /** `["=", x]`, `[">", x]`, `[">=", x]`, `["<", x]`, `["<=", x]`, or a lower bound followed by an upper bound. */
  private readNumeric(terms: unknown[], jsonPath: string): NumericRange {
    const [operator, value, ...rest] = terms;
    const valueAt = `${jsonPath}[1]`;
    if (typeof operator !== 'string')
      this.fail(`${jsonPath}[0]`, `Invalid member in numeric match: ${tokenText(operator)}`);
    const bound = (x: unknown, name: string, at: string): number => {
      if (!isJsonNumber(x)) this.fail(at, `Value of ${name} must be numeric`);
      return x;
    };
    const comparable = (x: number, at: string): number => {
      const error = comparableNumberError(x);
      if (error) this.fail(at, error);
      return x;
    };
    const unbounded = {
      lower: Number.NEGATIVE_INFINITY,
      lowerOpen: false,
      upper: Number.POSITIVE_INFINITY,
      upperOpen: false,
    };
    switch (operator) {
      case '=': {
        const x = bound(value, 'equals', valueAt);
        if (rest.length > 0) this.fail(jsonPath, 'Too many elements in numeric expression');
        comparable(x, valueAt);
        return { lower: x, lowerOpen: false, upper: x, upperOpen: false };
      }
      case '<':
      case '<=': {
        const x = bound(value, operator, valueAt);
        if (rest.length > 0) this.fail(jsonPath, 'Too many elements in numeric expression');
        return { ...unbounded, upper: comparable(x, valueAt), upperOpen: operator === '<' };
      }
      case '>':
      case '>=': {
        const lower = bound(value, operator, valueAt);
        const lowerOpen = operator === '>';
        if (rest.length === 0) return { ...unbounded, lower: comparable(lower, valueAt), lowerOpen };
        const [upperOperator, upperValue, ...extra] = rest;
        if (typeof upperOperator !== 'string') {
          this.fail(`${jsonPath}[2]`, `Bad value in numeric range: ${tokenText(upperOperator)}`);
        }
        if (upperOperator !== '<' && upperOperator !== '<=') {
          this.fail(`${jsonPath}[2]`, `Bad numeric range operator: ${upperOperator}`);
        }
        const upper = bound(upperValue, upperOperator, `${jsonPath}[3]`);
        if (extra.length > 0) this.fail(jsonPath, 'Too many terms in numeric range expression');
        comparable(lower, valueAt);
        comparable(upper, `${jsonPath}[3]`);
        if (lower >= upper) this.fail(jsonPath, 'Bottom must be less than top');
        return { lower, lowerOpen, upper, upperOpen: upperOperator === '<' };
      }
      default:
        return this.fail(`${jsonPath}[0]`, `Unrecognized numeric range operator: ${operator}`);
    }
  }

  private readAnythingBut(operand: unknown, jsonPath: string): Exclusion {
    let mode = 'values';
    let values = operand;
    let at = jsonPath;
    let innerExtra = false;
    if (isObject(operand)) {
      const [first, ...extra] = Object.entries(operand);
      if (!first) return this.fail(jsonPath, 'Anything-But expression name not found');
      [mode, values] = first;
      at = childPath(jsonPath, mode);
      if (!PIPES_UNSUPPORTED_ANYTHING_BUT.has(mode)) this.fail(at, `Unsupported anything-but pattern: ${mode}`);
      this.requireDialect(`anything-but with ${mode}`, at);
      innerExtra = extra.length > 0;
    }
    if (!Array.isArray(values) && typeof values !== 'string' && !isJsonNumber(values)) {
      this.fail(at, 'Value of anything-but must be an array or single string/number value.');
    }
    const list: unknown[] = Array.isArray(values) ? values : [values];
    const itemAt = (i: number) => (Array.isArray(values) ? `${at}[${i}]` : at);
    const exclusion =
      mode === 'values' ? this.readExcludedValues(list, at, itemAt) : this.readExcludedSet(mode, list, itemAt);
    if (innerExtra) this.fail(jsonPath, 'Too many elements in numeric expression');
    return exclusion;
  }

  private readExcludedValues(list: unknown[], jsonPath: string, itemAt: (i: number) => string): Exclusion {
    const strings: string[] = [];
    const numbers: number[] = [];
    list.forEach((value, i) => {
      if (typeof value === 'string') strings.push(value);
      else if (isJsonNumber(value)) {
        const error = comparableNumberError(value);
        if (error) this.fail(itemAt(i), error);
        numbers.push(value);
      } else this.fail(itemAt(i), 'Inside anything but list, start|null|boolean is not supported.');
    });
    if (strings.length > 0 === numbers.length > 0) {
      this.fail(
        jsonPath,
        'Inside anything but list, either all values are number or string, mixed type is not supported',
      );
    }
    return strings.length > 0 ? { mode: 'strings', values: strings } : { mode: 'numbers', values: numbers };
  }

  private readExcludedSet(mode: string, list: unknown[], itemAt: (i: number) => string): Exclusion {
    const strings = list.map((value, i) => {
      if (typeof value !== 'string') {
        if (mode === 'equals-ignore-case') {
          this.fail(
            itemAt(i),
            'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.',
          );
        }
        this.fail(
          itemAt(i),
          mode === 'wildcard'
            ? 'wildcard match pattern must be a string'
            : 'prefix/suffix match pattern must be a string',
        );
      }
      if ((mode === 'prefix' || mode === 'suffix') && value === '')
        this.fail(itemAt(i), 'Null prefix/suffix not allowed');
      return value;
    });
    switch (mode) {
      case 'prefix':
      case 'suffix':
        return { mode, values: strings };
      case 'equals-ignore-case':
        return { mode, values: strings.map(foldCase) };
      default:
        return { mode: 'wildcard', values: strings.map((value, i) => this.readWildcard(value, itemAt(i))) };
    }
  }

  private requireDialect(operator: string, jsonPath: string): void {
    if (this.dialect === 'pipes') this.fail(jsonPath, `${operator} is not supported by EventBridge Pipes filtering`);
  }

  /** AWS weighs the wildcards of one field together; `anything-but` wildcards do not count. */
  private checkComplexity(clause: Clause): void {
    const wildcards = clause.matchers.flatMap((m) => (m.kind === 'wildcard' ? [m.wildcard] : []));
    if (wildcards.length > 0 && wildcardComplexity(wildcards) > WILDCARD_COMPLEXITY_LIMIT) {
      this.fail(
        clause.jsonPath,
        'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
      );
    }
  }
}

export function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON numbers only: a pattern built in code could hold NaN or Infinity, which JSON cannot express. */
function isJsonNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function childPath(jsonPath: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${jsonPath}.${key}` : `${jsonPath}[${JSON.stringify(key)}]`;
}

/** How Jackson prints the token event-ruler stumbled on: `]` when the array ended early. */
function tokenText(value: unknown): string {
  if (value === undefined) return ']';
  if (Array.isArray(value)) return '[';
  if (typeof value === 'object' && value !== null) return '{';
  return String(value);
}

/** Validates and normalises a pattern, throwing PatternValidationError with AWS's reason for the first problem. */
export function parsePattern(pattern: unknown, dialect: Dialect): ParsedPattern {
  return new PatternReader(dialect).read(pattern);
}
