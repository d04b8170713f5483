import type { MetricId } from './metric-store.ts';

/**
 * The subset of CloudWatch metric math the stack's alarms and dashboards and the ops API use: numbers, metric ids,
 * `+ - * / ^`, comparisons (`> >= < <= == !=`, 1 or 0), `AND`/`&&`, `OR`/`||`, arrays `[m1, m2]`, and the functions
 * IF, FILL, ABS, SUM, AVG, MIN, MAX, METRIC_COUNT, REMOVE_EMPTY, METRICS and SEARCH.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 *
 * A value is a scalar (S), a time series (TS: bucket start in ms → value) or an array of time series (TS[]: what
 * SEARCH, METRICS() and `[m1, m2]` produce). A binary operation between two series keeps the timestamps both have;
 * an operation between an array and a scalar or a series applies to each series of the array. SUM, AVG, MIN and MAX
 * of a TS are scalars, of a TS[] one TS (per timestamp; AVG counts a missing value as 0, as the function table says).
 */
export type TimeSeries = Map<number, number>;

/** One time series of an array, with what labels it. */
export interface LabelledSeries {
  readonly label: string;
  readonly points: TimeSeries;
  /** The metric it was read from (SEARCH, METRICS()), whose properties a dynamic label may name. */
  readonly metric?: MetricId;
  readonly stat?: string;
  readonly period?: number;
}

/** An array of time series (`TS[]` in CloudWatch's function tables). */
export class SeriesArray {
  constructor(readonly series: readonly LabelledSeries[]) {}
}

export type MathValue = number | TimeSeries | SeriesArray;

export class MetricMathError extends Error {
  override readonly name = 'MetricMathError';
}

/** What an expression reads beyond its own text. */
export interface MathContext {
  /** The value of another query of the request, by Id; undefined when the request has no query of that Id. */
  readonly variable: (id: string) => MathValue | undefined;
  /** The label a query's series carries inside an array (`[m1, m2]`); default the Id. */
  readonly label?: (id: string) => string;
  /** Every period start of the query window, which FILL needs to know what is missing. */
  readonly buckets?: readonly number[];
  /** `SEARCH('<query>', '<statistic>'[, period])`: a series per metric the search finds. */
  readonly search?: (query: string, statistic: string, period: number | undefined) => SeriesArray;
  /** `METRICS(['<filter>'])`: the request's metric (not expression) queries, those whose Id contains the filter. */
  readonly metrics?: (filter: string | undefined) => SeriesArray;
}

type Node =
  | { kind: 'num'; value: number }
  | { kind: 'str'; value: string; quote: string }
  | { kind: 'id'; name: string }
  | { kind: 'array'; items: Node[] }
  | { kind: 'bin'; op: string; left: Node; right: Node }
  | { kind: 'neg'; operand: Node }
  | { kind: 'call'; fn: string; args: Node[] };

/**
 * Strings are kept as written between their quotes (backslash escapes included): a SEARCH query is read by the search
 * parser, which has escapes of its own (`\"` inside an exact phrase).
 */
const TOKEN =
  /\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[A-Za-z_]\w*|>=|<=|==|!=|&&|\|\||[-+*/^(),<>[\]])/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    if (/^\s*$/.test(expression.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expression);
    if (!match?.[1]) {
      const start = at + (expression.slice(at).length - expression.slice(at).trimStart().length);
      const quote = expression[start];
      if (quote === "'" || quote === '"')
        throw new MetricMathError(`the string starting at position ${start} has no closing ${quote}`);
      throw new MetricMathError(`cannot read metric math '${expression}' at position ${at}`);
    }
    tokens.push(match[1]);
  }
  return tokens;
}

const PRECEDENCE: Record<string, number> = {
  OR: 1,
  '||': 1,
  AND: 2,
  '&&': 2,
  '>': 3,
  '>=': 3,
  '<': 3,
  '<=': 3,
  '==': 3,
  '!=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '^': 6,
};
const OPERATOR_NAME: Record<string, string> = { '||': 'OR', '&&': 'AND' };

function parseExpression(expression: string): Node {
  const tokens = tokenize(expression);
  let position = 0;
  const peek = () => tokens[position];
  const expect = (token: string) => {
    if (tokens[position] !== token)
      throw new MetricMathError(
        `metric math '${expression}': expected '${token}', found '${tokens[position] ?? 'end'}'`,
      );
    position++;
  };
  const list = (close: string): Node[] => {
    const items: Node[] = [];
    if (peek() !== close) {
      for (;;) {
        items.push(binary(0));
        if (peek() !== ',') break;
        position++;
      }
    }
    expect(close);
    return items;
  };
  const primary = (): Node => {
    const token = tokens[position++];
    if (token === undefined) throw new MetricMathError(`metric math '${expression}' ends unexpectedly`);
    if (token === '(') {
      const inner = binary(0);
      expect(')');
      return inner;
    }
    if (token === '[') return { kind: 'array', items: list(']') };
    if (token === '-') return { kind: 'neg', operand: primary() };
    if (token.startsWith("'") || token.startsWith('"'))
      return { kind: 'str', value: token.slice(1, -1), quote: token[0] as string };
    if (/^\d/.test(token)) return { kind: 'num', value: Number(token) };
    if (/^[A-Za-z_]/.test(token)) {
      if (peek() !== '(') return { kind: 'id', name: token };
      position++;
      return { kind: 'call', fn: token, args: list(')') };
    }
    throw new MetricMathError(`metric math '${expression}': unexpected '${token}'`);
  };
  const binary = (minPrecedence: number): Node => {
    let left = primary();
    for (;;) {
      const op = peek();
      const precedence = op === undefined ? undefined : PRECEDENCE[op.toUpperCase()];
      if (op === undefined || precedence === undefined || precedence < minPrecedence) return left;
      position++;
      // `^` is right-associative; the others associate to the left.
      const right = binary(op === '^' ? precedence : precedence + 1);
      left = { kind: 'bin', op: OPERATOR_NAME[op] ?? op.toUpperCase(), left, right };
    }
  };
  const tree = binary(0);
  if (position !== tokens.length) throw new MetricMathError(`metric math '${expression}': unexpected '${peek()}'`);
  return tree;
}

/** The ids of metrics and expressions an expression refers to. */
export function referencedIds(expression: string): string[] {
  const ids: string[] = [];
  const walk = (node: Node): void => {
    if (node.kind === 'id') ids.push(node.name);
    else if (node.kind === 'bin') {
      walk(node.left);
      walk(node.right);
    } else if (node.kind === 'neg') walk(node.operand);
    else if (node.kind === 'call' || node.kind === 'array')
      (node.kind === 'call' ? node.args : node.items).forEach(walk);
  };
  walk(parseExpression(expression));
  return ids;
}

/** The functions served locally (all CloudWatch's are upper case: "Enter all functions in uppercase letters"). */
const SERVED = ['IF', 'FILL', 'ABS', 'SUM', 'AVG', 'MIN', 'MAX', 'METRIC_COUNT', 'REMOVE_EMPTY', 'METRICS', 'SEARCH'];
/** CloudWatch's other metric math functions (the function table of "Using metric math"): not served locally. */
const NOT_SERVED = new Set([
  'ANOMALY_DETECTION_BAND',
  'CEIL',
  'DATAPOINT_COUNT',
  'DIFF',
  'DIFF_TIME',
  'FIRST',
  'LAST',
  'FLOOR',
  'INSIGHT_RULE_METRIC',
  'LOG',
  'LOG10',
  'MINUTE',
  'HOUR',
  'DAY',
  'DATE',
  'MONTH',
  'YEAR',
  'EPOCH',
  'PERIOD',
  'RATE',
  'RUNNING_SUM',
  'SERVICE_QUOTA',
  'SLICE',
  'SORT',
  'STDDEV',
  'TIME_SERIES',
]);

export function evaluateExpression(expression: string, context: MathContext): MathValue {
  const evaluate = (node: Node): MathValue => {
    switch (node.kind) {
      case 'num':
        return node.value;
      case 'str':
        throw new MetricMathError(
          `the string ${node.quote}${node.value}${node.quote} is only an argument of SEARCH or METRICS`,
        );
      case 'id': {
        const value = context.variable(node.name);
        if (value === undefined)
          throw new MetricMathError(`metric math '${expression}' refers to unknown id '${node.name}'`);
        return value;
      }
      case 'array':
        return new SeriesArray(
          node.items.flatMap((item): LabelledSeries[] => {
            const value = evaluate(item);
            if (value instanceof SeriesArray) return [...value.series];
            if (value instanceof Map)
              return [{ label: item.kind === 'id' ? (context.label?.(item.name) ?? item.name) : '', points: value }];
            throw new MetricMathError(`an array holds time series, not the number ${value}`);
          }),
        );
      case 'neg':
        return lift([evaluate(node.operand)], ([v]) => -(v as number));
      case 'bin':
        return lift([evaluate(node.left), evaluate(node.right)], ([a, b]) =>
          applyBinary(node.op, a as number, b as number),
        );
      case 'call':
        return call(node.fn, node.args);
    }
  };
  const call = (fn: string, nodes: Node[]): MathValue => {
    if (fn === 'SEARCH') return search(nodes);
    if (fn === 'METRICS') {
      const [filter, ...extra] = nodes;
      if (extra.length > 0 || (filter && filter.kind !== 'str'))
        throw new MetricMathError('METRICS takes no argument, or one string that the Ids must contain');
      if (!context.metrics) throw new MetricMathError('METRICS() has no metrics to return here');
      return context.metrics(filter?.kind === 'str' ? unescaped(filter.value) : undefined);
    }
    const args = nodes.map(evaluate);
    switch (fn) {
      case 'IF':
        if (args.length !== 3 && args.length !== 2)
          throw new MetricMathError(`metric math '${expression}': IF takes 2 or 3 arguments`);
        return lift(args, ([condition, whenTrue, whenFalse]) =>
          condition !== 0 ? (whenTrue as number) : (whenFalse ?? Number.NaN),
        );
      case 'FILL':
        return fill(args[0], args[1], context.buckets ?? []);
      case 'ABS':
        return lift([args[0] ?? 0], ([v]) => Math.abs(v as number));
      case 'SUM':
      case 'AVG':
      case 'MIN':
      case 'MAX':
        return reduce(fn, args);
      case 'METRIC_COUNT':
        return arrayArgument(fn, args).series.length;
      case 'REMOVE_EMPTY':
        return new SeriesArray(arrayArgument(fn, args).series.filter((series) => series.points.size > 0));
      default:
        throw new MetricMathError(
          NOT_SERVED.has(fn)
            ? `Function '${fn}' is not served by the local CloudWatch (served: ${SERVED.join(', ')})`
            : `Function '${fn}' not found`,
        );
    }
  };
  const search = (nodes: Node[]): SeriesArray => {
    const [query, statistic, period, ...extra] = nodes;
    if (
      query?.kind !== 'str' ||
      query.quote !== "'" ||
      statistic?.kind !== 'str' ||
      statistic.quote !== "'" ||
      extra.length > 0
    )
      throw new MetricMathError(
        "SEARCH takes the search expression and the statistic, each in single quotes, and optionally the period in seconds: SEARCH(' {Namespace,DimensionName} SearchTerm ', 'Statistic', Period)",
      );
    let seconds: number | undefined;
    if (period) {
      const value = evaluate(period);
      if (typeof value !== 'number') throw new MetricMathError('the period of a SEARCH is a number of seconds');
      seconds = value;
    }
    if (!context.search) throw new MetricMathError('SEARCH has no metrics to search here');
    return context.search(query.value, unescaped(statistic.value), seconds);
  };
  return stripNaN(evaluate(parseExpression(expression)));
}

const unescaped = (text: string) => text.replace(/\\(.)/g, '$1');

function arrayArgument(fn: string, args: readonly MathValue[]): SeriesArray {
  const [value] = args;
  if (args.length !== 1 || !(value instanceof SeriesArray))
    throw new MetricMathError(`${fn} takes one argument, an array of time series`);
  return value;
}

function applyBinary(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? Number.NaN : a / b;
    case '^':
      return a ** b;
    case '>':
      return a > b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case 'AND':
      return a !== 0 && b !== 0 ? 1 : 0;
    case 'OR':
      return a !== 0 || b !== 0 ? 1 : 0;
    default:
      throw new MetricMathError(`metric math operator ${op} is not supported`);
  }
}

/**
 * SUM, AVG, MIN, MAX: of a time series, the scalar over its datapoints; of an array, one time series, per timestamp
 * any of its series has ("Using metric math", function table). AVG of an array treats a missing value as 0.
 */
function reduce(fn: 'SUM' | 'AVG' | 'MIN' | 'MAX', args: readonly MathValue[]): MathValue {
  const [value] = args;
  if (args.length !== 1 || value === undefined || typeof value === 'number')
    throw new MetricMathError(
      `${fn} takes one argument, a time series or an array of time series (such as [m1, m2] or a SEARCH)`,
    );
  if (value instanceof Map) return reduceValues(fn, [...value.values()], value.size);
  const timestamps = [...new Set(value.series.flatMap((series) => [...series.points.keys()]))].sort((a, b) => a - b);
  const out: TimeSeries = new Map();
  for (const timestamp of timestamps) {
    const present = value.series.flatMap((series) => {
      const point = series.points.get(timestamp);
      return point === undefined ? [] : [point];
    });
    out.set(timestamp, reduceValues(fn, present, value.series.length));
  }
  return out;
}

function reduceValues(fn: string, values: readonly number[], count: number): number {
  if (values.length === 0) return Number.NaN;
  const sum = values.reduce((a, b) => a + b, 0);
  if (fn === 'SUM') return sum;
  if (fn === 'AVG') return sum / count;
  // Not Math.min(...values): a long series overflows the call stack as arguments.
  return values.reduce((a, b) => (fn === 'MIN' ? Math.min(a, b) : Math.max(a, b)));
}

/**
 * Applies `fn` point-wise: scalars broadcast, series combine on the timestamps all of them have, and an array applies
 * the operation to each of its series.
 */
function lift(args: readonly MathValue[], fn: (values: (number | undefined)[]) => number): MathValue {
  const arrays = args.filter((a): a is SeriesArray => a instanceof SeriesArray);
  if (arrays.length > 1) throw new MetricMathError('an operation takes at most one array of time series');
  const [array] = arrays;
  if (array)
    return new SeriesArray(
      array.series.map((series) => ({
        ...series,
        points: liftSeries(
          args.map((a) => (a === array ? series.points : a)) as (number | TimeSeries)[],
          fn,
        ) as TimeSeries,
      })),
    );
  return liftSeries(args as (number | TimeSeries)[], fn);
}

function liftSeries(args: readonly (number | TimeSeries)[], fn: (values: (number | undefined)[]) => number): MathValue {
  const series = args.filter((a): a is TimeSeries => a instanceof Map);
  if (series.length === 0) return fn(args as number[]);
  const out: TimeSeries = new Map();
  const [first, ...rest] = series;
  for (const timestamp of first?.keys() ?? []) {
    if (!rest.every((s) => s.has(timestamp))) continue;
    out.set(timestamp, fn(args.map((a) => (a instanceof Map ? a.get(timestamp) : a))));
  }
  return out;
}

/** FILL(TS | TS[], S | TS): every bucket of the window without a value takes the filler's. */
function fill(series: MathValue | undefined, value: MathValue | undefined, buckets: readonly number[]): MathValue {
  if (series instanceof SeriesArray)
    return new SeriesArray(
      series.series.map((one) => ({ ...one, points: fill(one.points, value, buckets) as TimeSeries })),
    );
  if (!(series instanceof Map)) throw new MetricMathError('FILL takes a time series or an array of time series');
  if (typeof value === 'number') return new Map(buckets.map((t) => [t, series.get(t) ?? value]));
  if (value instanceof Map)
    return new Map(
      buckets.flatMap((t) => {
        const filled = series.get(t) ?? value.get(t);
        return filled === undefined ? [] : [[t, filled] as const];
      }),
    );
  throw new MetricMathError('FILL takes a number or a time series to fill with');
}

function stripNaN(value: MathValue): MathValue {
  if (value instanceof SeriesArray)
    return new SeriesArray(value.series.map((one) => ({ ...one, points: stripNaN(one.points) as TimeSeries })));
  if (!(value instanceof Map)) return value;
  return new Map([...value].filter(([, v]) => !Number.isNaN(v)));
}
