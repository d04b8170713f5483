import { typedView } from '../streams/typed-view.ts';
import type { Clause, ParsedPattern } from './ast.ts';
import { explainMatch, type PatternExplanation } from './explain.ts';
import * as fields from './fields.ts';
import { arrayConsistentMatch, FieldPath, type Verdict } from './fields.ts';
import type { Dialect } from './index.ts';
import { type CompiledClause, compileClause } from './matchers.ts';
import { parsePattern } from './parse.ts';
import { LiteralPrefilter } from './prefilter.ts';
import { JsonScanner } from './scan.ts';

// Read once into module constants: where a loader turns imports into property reads (tsx when the entry point is
// CommonJS, test runners), every use of an imported binding is a getter call. (The bench's ESM entry was not affected.)
const { NO, summarise, UNSURE, verdictOf, YES } = fields;

export interface CompileOptions {
  /**
   * `matchesJson` reads the text as the stream record's typed view (pipeline's `typedView`: a string under a key `N`,
   * and each string member of an array under `NS`, is the number it spells when it spells a finite one), the view the
   * pipes' business rules are written for (`N` values as numbers). Then `matchesJson(text)` is
   * `matches(typedView(JSON.parse(text)))`; `matches` and `explain` take the event as given (pass the typed view).
   */
  readonly typedNumbers?: boolean;
}

export interface CompiledPattern {
  readonly pattern: unknown;
  readonly dialect: Dialect;
  /** Whether the event (a parsed JSON object) matches. Anything but an object never matches. */
  matches(event: unknown): boolean;
  /**
   * Whether the JSON text of an event matches; always equal to `matches(JSON.parse(json))`, usually without parsing.
   * Malformed text throws JSON.parse's SyntaxError when the malformation lies on the pattern's paths (elsewhere it
   * may go unnoticed: skipped values are only checked for balance, and the text after the point where no later key
   * can continue a pattern path only for ending in '}'); text lacking a string that every match contains (see
   * prefilter.ts) is answered false without being checked at all.
   */
  matchesJson(json: string): boolean;
  /** Whether it matches, and if not, which clauses failed and why. */
  explain(event: unknown): PatternExplanation;
}

/** A clause ready to evaluate: where to look, and what to accept. */
export interface ClauseProgram {
  readonly clause: Clause;
  readonly path: FieldPath;
  readonly compiled: CompiledClause;
}

class Compiled implements CompiledPattern {
  readonly programs: readonly ClauseProgram[];
  /** Per sub-rule, indexes into `programs`, in path order (the order array consistency is checked in). */
  readonly rules: readonly (readonly number[])[];
  /**
   * The same, shallowest paths first: the fast verdict does not depend on order, and a shallow clause costs fewer
   * lookups while rejecting as well as any (`eventName` settles most records before the image is looked at).
   */
  private readonly cheapFirst: readonly (readonly number[])[];
  private readonly scanner: JsonScanner;
  /** Strings every matching event's JSON text contains; undefined when some sub-rule needs none. */
  private readonly prefilter: LiteralPrefilter | undefined;
  /** Clause summaries of the event being matched, plus one (0 = not computed yet), shared by sub-rules. */
  private readonly memo: Int32Array;

  /** See {@link CompileOptions.typedNumbers}. */
  private readonly typedNumbers: boolean;

  constructor(
    readonly pattern: unknown,
    readonly dialect: Dialect,
    readonly parsed: ParsedPattern,
    options: CompileOptions = {},
  ) {
    this.typedNumbers = options.typedNumbers === true;
    const clauses = [...new Set(parsed.subRules.flat())];
    this.programs = clauses.map((clause) => ({
      clause,
      path: new FieldPath(clause.path),
      compiled: compileClause(clause),
    }));
    this.rules = parsed.subRules.map((rule) =>
      rule
        .map((clause) => clauses.indexOf(clause))
        .sort((a, b) => compareJava(clauses[a]?.path ?? '', clauses[b]?.path ?? '')),
    );
    const depth = (i: number) => this.programs[i]?.path.end ?? 0;
    this.cheapFirst = this.rules.map((rule) => [...rule].sort((a, b) => depth(a) - depth(b)));
    this.memo = new Int32Array(clauses.length);
    this.scanner = new JsonScanner(
      this.programs.map(({ clause, compiled }) => ({ path: clause.path, compiled })),
      this.rules,
      this.typedNumbers,
    );
    // Sound for typed numbers too: the typed view only turns some strings into numbers, and a string the prefilter
    // requires is one a string matcher needs, which a number never satisfies.
    this.prefilter = LiteralPrefilter.of(parsed.subRules);
  }

  matches(event: unknown): boolean {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
    if (this.rules.length > 1) this.memo.fill(0);
    for (let r = 0; r < this.rules.length; r++) {
      const verdict = this.verdict(this.cheapFirst[r] as readonly number[], event, undefined);
      if (verdict === YES) return true;
      const rule = this.rules[r] as readonly number[];
      if (
        verdict === UNSURE &&
        arrayConsistentMatch(
          event,
          rule.map((i) => this.programs[i] as ClauseProgram),
        )
      ) {
        return true;
      }
    }
    return false;
  }

  matchesJson(json: string): boolean {
    // Without a backslash no string is escaped, so every string of the event is visible verbatim (see prefilter.ts).
    const escapes = json.includes('\\');
    if (!escapes && this.prefilter && !this.prefilter.mayMatch(json)) return false;
    const scanned = this.scanner.scan(json, escapes);
    if (scanned) {
      let unsure = false;
      for (let r = 0; r < this.rules.length; r++) {
        const verdict = this.verdict(this.rules[r] as readonly number[], undefined, scanned);
        if (verdict === YES) return true;
        if (verdict === UNSURE) unsure = true;
      }
      if (!unsure) return false;
    }
    const event: unknown = JSON.parse(json);
    return this.matches(this.typedNumbers ? typedView(event) : event);
  }

  explain(event: unknown): PatternExplanation {
    return explainMatch(this, event);
  }

  /** A sub-rule's verdict from clause summaries, read from a scan or computed on the event object (lazily). */
  private verdict(rule: readonly number[], event: object | undefined, scanned: Int32Array | undefined): Verdict {
    let verdict: Verdict = YES;
    for (let c = 0; c < rule.length; c++) {
      const i = rule[c] as number;
      const program = this.programs[i] as ClauseProgram;
      let flags: number;
      if (scanned) flags = scanned[i] as number;
      else if (this.rules.length === 1) flags = summarise(event as object, program.path, program.compiled.test);
      else {
        const memo = this.memo[i] as number;
        flags = memo > 0 ? memo - 1 : summarise(event as object, program.path, program.compiled.test);
        this.memo[i] = flags + 1;
      }
      const clauseVerdict = verdictOf(flags, program.compiled.allowsAbsence);
      if (clauseVerdict === NO) return NO;
      if (clauseVerdict === UNSURE) verdict = UNSURE;
    }
    return verdict;
  }
}

/** Java's String.compareTo (UTF-16 code units), the order event-ruler visits a rule's fields in. */
function compareJava(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type { Compiled };

/** Validates the pattern for the dialect, then compiles it once into matchers that allocate nothing per match. */
export function compilePattern(
  pattern: unknown,
  dialect: Dialect = 'eventbridge',
  options: CompileOptions = {},
): CompiledPattern {
  return new Compiled(pattern, dialect, parsePattern(pattern, dialect), options);
}

const cache = new WeakMap<object, Map<Dialect, CompiledPattern>>();

/** Compiles once per pattern object (by identity) and dialect, then matches. */
export function compiledFor(pattern: unknown, dialect: Dialect): CompiledPattern {
  if (typeof pattern !== 'object' || pattern === null) return compilePattern(pattern, dialect);
  let byDialect = cache.get(pattern);
  if (!byDialect) {
    byDialect = new Map();
    cache.set(pattern, byDialect);
  }
  let compiled = byDialect.get(dialect);
  if (!compiled) {
    compiled = compilePattern(pattern, dialect);
    byDialect.set(dialect, compiled);
  }
  return compiled;
}
