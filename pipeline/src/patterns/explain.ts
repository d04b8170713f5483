import type { Clause, Matcher } from './ast.ts';
import type { ClauseProgram, Compiled } from './compile.ts';
import { leavesAt } from './fields.ts';
import { compileClause } from './matchers.ts';

export interface ClauseFailure {
  /** Dotted field path, e.g. `dynamodb.NewImage.orderAmount.N` (for a `$or`, its parent's path plus `$or`). */
  readonly path: string;
  /** The clause's matcher list as written, e.g. `[{"numeric":[">",100]}]`. */
  readonly clause: string;
  /** The value found, the list of values when there are several, or undefined when the field is missing. */
  readonly actual: unknown;
  /** The failure in words, e.g. `dynamodb.NewImage.orderAmount.N is 100, which is not > 100`. */
  readonly message: string;
}

export interface PatternExplanation {
  readonly matched: boolean;
  /** Empty when matched; otherwise in pattern key order, so the first is the first failing clause. */
  readonly failures: ClauseFailure[];
}

interface PlacedFailure extends ClauseFailure {
  readonly position: number;
}

/**
 * Explains a verdict. Each clause of a sub-rule is judged on its own (is there a leaf it accepts, or is it absent
 * where absence is allowed); when every clause holds alone but the sub-rule still fails, the leaves they accept lie in
 * different elements of one array. Failures shared by every `$or` alternative are reported as they are; the rest are
 * summarised branch by branch in one failure placed where the first `$or` is.
 */
export function explainMatch(compiled: Compiled, event: unknown): PatternExplanation {
  if (compiled.matches(event)) return { matched: true, failures: [] };
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    const message = `the event is ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}, not a JSON object`;
    return {
      matched: false,
      failures: [{ path: '', clause: JSON.stringify(compiled.pattern), actual: event, message }],
    };
  }
  const perRule = compiled.rules.map((rule) =>
    ruleFailures(
      rule.map((i) => compiled.programs[i] as ClauseProgram),
      event,
    ),
  );
  const [first] = perRule;
  if (perRule.length === 1 && first) return { matched: false, failures: strip(first) };
  const shared = (f: PlacedFailure) => perRule.every((failures) => failures.some((g) => g.position === f.position));
  const common = (first ?? []).filter(shared);
  const failures = [...common];
  const [or] = compiled.parsed.ors;
  // The $or itself failed only when no branch would match once the shared failures were fixed.
  if (or && perRule.every((failures) => failures.some((f) => !shared(f)))) {
    const branches = perRule.map((failures, i) => {
      const own = failures.filter((f) => !shared(f));
      return `(${i + 1}) ${own.map((f) => f.message).join('; ')}`;
    });
    const actual = Object.fromEntries(
      perRule
        .flat()
        .filter((f) => !shared(f))
        .map((f) => [f.path, f.actual]),
    );
    failures.push({
      path: or.path,
      clause: JSON.stringify(or.source),
      actual,
      message: `none of the $or branches matched: ${branches.join('; ')}`,
      position: or.position,
    });
  }
  return { matched: false, failures: strip(failures.sort((a, b) => a.position - b.position)) };
}

function strip(failures: PlacedFailure[]): ClauseFailure[] {
  return failures.map(({ path, clause, actual, message }) => ({ path, clause, actual, message }));
}

function ruleFailures(programs: ClauseProgram[], event: object): PlacedFailure[] {
  const failures: PlacedFailure[] = [];
  for (const { clause, path, compiled } of [...programs].sort((a, b) => a.clause.position - b.clause.position)) {
    const values = leavesAt(event, path).map((leaf) => leaf.value);
    const holds = values.some(compiled.test) || (compiled.allowsAbsence && values.length === 0);
    if (!holds) failures.push(clauseFailure(clause, values));
  }
  const [first] = programs;
  if (failures.length === 0 && first) {
    const paths = programs.map((p) => p.clause.path);
    failures.push({
      path: paths.join(', '),
      clause: JSON.stringify(Object.fromEntries(programs.map((p) => [p.clause.path, p.clause.source]))),
      actual: undefined,
      message: `${paths.join(', ')} each match, but only in different elements of the same array; EventBridge requires one array element to satisfy them together`,
      position: first.clause.position,
    });
  }
  return failures;
}

function clauseFailure(clause: Clause, values: unknown[]): PlacedFailure {
  const [only] = values;
  return {
    path: clause.path,
    clause: JSON.stringify(clause.source),
    actual: values.length === 0 ? undefined : values.length === 1 ? only : values,
    message: `${clause.path} ${reason(clause, values)}`,
    position: clause.position,
  };
}

/** The words after the path: why no value (or no absence) satisfied the clause. */
function reason(clause: Clause, values: unknown[]): string {
  if (values.length === 0) return 'is missing';
  const matchers = clause.matchers.filter((m) => !(m.kind === 'exists' && !m.exists));
  if (matchers.length === 0)
    return `is ${render(values.length === 1 ? values[0] : values)}, but the pattern requires it to be absent`;
  if (values.length > 1) return `is ${render(values)}, and no element matches ${JSON.stringify(clause.source)}`;
  const value = values[0];
  const [matcher] = matchers;
  if (matchers.every((m) => m.kind === 'exact' || m.kind === 'exact-ip')) {
    const expected = matchers.map((m) => render(m.source)).join(', ');
    return `is ${render(value)}, which is not ${matchers.length > 1 ? `one of ${expected}` : expected}`;
  }
  if (matchers.length === 1 && matcher) return mismatch(matcher, value);
  return `is ${render(value)}, which matches none of ${JSON.stringify(clause.source)}`;
}

function mismatch(m: Matcher, value: unknown): string {
  const is = `is ${render(value)}`;
  const stringOnly = (what: string) =>
    typeof value === 'string'
      ? `${is}, which ${what}`
      : `${is}, which is not a string (${m.kind} matches strings only)`;
  switch (m.kind) {
    case 'prefix':
      return stringOnly(`does not start with ${render(m.value)}`);
    case 'suffix':
      return stringOnly(`does not end with ${render(m.value)}`);
    case 'prefix-ignore-case':
      return stringOnly(`does not start with ${render(m.folded.source)} (ignoring case)`);
    case 'suffix-ignore-case':
      return stringOnly(`does not end with ${render(m.folded.source)} (ignoring case)`);
    case 'equals-ignore-case':
      return stringOnly(`does not equal ${render(m.folded.source)} (ignoring case)`);
    case 'wildcard':
      return stringOnly(`does not match the wildcard ${render(m.wildcard.source)}`);
    case 'cidr':
      return `${is}, which is not an IP address in ${m.text}`;
    case 'numeric': {
      const terms = (m.source as { numeric: unknown[] }).numeric;
      const condition = terms
        .map((t) => String(t))
        .join(' ')
        .replace(/ (<=?) /, ' and $1 ');
      if (typeof value !== 'number')
        return `${is}, which is not a JSON number (numeric matching applies to numbers only)`;
      return `${is}, which is not ${condition}`;
    }
    case 'anything-but':
      return `${render(value)} ${excludedBy(m, value)}`;
    default:
      return `${is}, which does not match ${JSON.stringify(m.source)}`;
  }
}

/** Which exclusion of an `anything-but` caught the value. */
function excludedBy(m: Extract<Matcher, { kind: 'anything-but' }>, value: unknown): string {
  const { exclude } = m;
  if (exclude.mode === 'strings' || exclude.mode === 'numbers') {
    const list = exclude.values.map(render).join(', ');
    return exclude.values.length > 1 ? `is one of the excluded values ${list}` : `is the excluded value ${list}`;
  }
  const written = Object.values((m.source as Record<string, object>)['anything-but'] ?? {})[0];
  const candidates: unknown[] = Array.isArray(written) ? written : [written];
  // The first exclusion that, on its own, rejects the value.
  const hit = candidates.find((_, i) => {
    const alone = { ...m, exclude: { mode: exclude.mode, values: [exclude.values[i]] } } as Matcher;
    return !compileClause({ path: '', matchers: [alone], source: [], position: 0, jsonPath: '' }).test(value);
  });
  return `matches the excluded ${exclude.mode} ${render(hit ?? written)}`;
}

function render(value: unknown): string {
  return typeof value === 'string' || Array.isArray(value) ? JSON.stringify(value) : String(value);
}
