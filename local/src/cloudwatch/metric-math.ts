/**
 * The subset of CloudWatch metric math the stack's alarms and dashboards use: numbers, metric ids, `+ - * /`,
 * comparisons (`> >= < <= == !=`, 1 or 0), `AND`/`OR`, and the functions IF, FILL, ABS, SUM, AVG, MIN, MAX.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 * A time series is a map from bucket start (ms) to value; a binary operation between two series keeps the timestamps
 * both have, as CloudWatch does.
 */
export type MathValue = number | Map<number, number>;

export class MetricMathError extends Error {
  override readonly name = 'MetricMathError';
}

type Node =
  | { kind: 'num'; value: number }
  | { kind: 'id'; name: string }
  | { kind: 'bin'; op: string; left: Node; right: Node }
  | { kind: 'neg'; operand: Node }
  | { kind: 'call'; fn: string; args: Node[] };

const TOKEN = /\s*(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[A-Za-z_][\w]*|>=|<=|==|!=|[-+*/(),<>])/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    if (/^\s*$/.test(expression.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expression);
    if (!match?.[1]) throw new MetricMathError(`cannot read metric math '${expression}' at position ${at}`);
    tokens.push(match[1]);
  }
  return tokens;
}

const PRECEDENCE: Record<string, number> = {
  OR: 1,
  AND: 2,
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
};

export function parseExpression(expression: string): Node {
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
  const primary = (): Node => {
    const token = tokens[position++];
    if (token === undefined) throw new MetricMathError(`metric math '${expression}' ends unexpectedly`);
    if (token === '(') {
      const inner = binary(0);
      expect(')');
      return inner;
    }
    if (token === '-') return { kind: 'neg', operand: primary() };
    if (/^\d/.test(token)) return { kind: 'num', value: Number(token) };
    if (/^[A-Za-z_]/.test(token)) {
      if (peek() !== '(') return { kind: 'id', name: token };
      position++;
      const args: Node[] = [];
      if (peek() !== ')') {
        for (;;) {
          args.push(binary(0));
          if (peek() !== ',') break;
          position++;
        }
      }
      expect(')');
      return { kind: 'call', fn: token.toUpperCase(), args };
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
      left = { kind: 'bin', op: op.toUpperCase(), left, right: binary(precedence + 1) };
    }
  };
  const tree = binary(0);
  if (position !== tokens.length) throw new MetricMathError(`metric math '${expression}': unexpected '${peek()}'`);
  return tree;
}

/** The ids of metrics an expression refers to. */
export function referencedIds(expression: string): string[] {
  const ids: string[] = [];
  const walk = (node: Node): void => {
    if (node.kind === 'id') ids.push(node.name);
    else if (node.kind === 'bin') {
      walk(node.left);
      walk(node.right);
    } else if (node.kind === 'neg') walk(node.operand);
    else if (node.kind === 'call') node.args.forEach(walk);
  };
  walk(parseExpression(expression));
  return ids;
}

/** `buckets`: every period start of the query window, which FILL needs to know what is missing. */
export function evaluateExpression(
  expression: string,
  variables: ReadonlyMap<string, MathValue>,
  buckets: readonly number[] = [],
): MathValue {
  const evaluate = (node: Node): MathValue => {
    switch (node.kind) {
      case 'num':
        return node.value;
      case 'id': {
        const value = variables.get(node.name);
        if (value === undefined)
          throw new MetricMathError(`metric math '${expression}' refers to unknown id '${node.name}'`);
        return value;
      }
      case 'neg':
        return lift([evaluate(node.operand)], ([v]) => -(v as number));
      case 'bin':
        return lift([evaluate(node.left), evaluate(node.right)], ([a, b]) =>
          applyBinary(node.op, a as number, b as number),
        );
      case 'call':
        return call(node.fn, node.args.map(evaluate));
    }
  };
  const call = (fn: string, args: MathValue[]): MathValue => {
    switch (fn) {
      case 'IF':
        if (args.length !== 3 && args.length !== 2)
          throw new MetricMathError(`metric math '${expression}': IF takes 2 or 3 arguments`);
        return lift(args, ([condition, whenTrue, whenFalse]) =>
          condition !== 0 ? (whenTrue as number) : (whenFalse ?? Number.NaN),
        );
      case 'FILL':
        return fill(args[0], args[1], buckets);
      case 'ABS':
        return lift([args[0] ?? 0], ([v]) => Math.abs(v as number));
      case 'SUM':
      case 'AVG':
      case 'MIN':
      case 'MAX':
        return lift(args, (values) => reduceValues(fn, values));
      default:
        throw new MetricMathError(
          `metric math function ${fn} is not supported locally (IF, FILL, ABS, SUM, AVG, MIN, MAX)`,
        );
    }
  };
  return stripNaN(evaluate(parseExpression(expression)));
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

function reduceValues(fn: string, values: readonly (number | undefined)[]): number {
  const numbers = values.filter((v): v is number => v !== undefined);
  if (fn === 'SUM') return numbers.reduce((a, b) => a + b, 0);
  if (fn === 'AVG') return numbers.reduce((a, b) => a + b, 0) / numbers.length;
  return fn === 'MIN' ? Math.min(...numbers) : Math.max(...numbers);
}

/** Applies `fn` point-wise: scalars broadcast, series combine on the timestamps all of them have. */
function lift(args: readonly MathValue[], fn: (values: (number | undefined)[]) => number): MathValue {
  const series = args.filter((a): a is Map<number, number> => a instanceof Map);
  if (series.length === 0) return fn(args as number[]);
  const out = new Map<number, number>();
  const [first, ...rest] = series;
  for (const timestamp of first?.keys() ?? []) {
    if (!rest.every((s) => s.has(timestamp))) continue;
    out.set(timestamp, fn(args.map((a) => (a instanceof Map ? a.get(timestamp) : a))));
  }
  return out;
}

function fill(series: MathValue | undefined, value: MathValue | undefined, buckets: readonly number[]): MathValue {
  if (!(series instanceof Map) || typeof value !== 'number') return series ?? Number.NaN;
  return new Map(buckets.map((t) => [t, series.get(t) ?? value]));
}

function stripNaN(value: MathValue): MathValue {
  if (!(value instanceof Map)) return value;
  return new Map([...value].filter(([, v]) => !Number.isNaN(v)));
}
