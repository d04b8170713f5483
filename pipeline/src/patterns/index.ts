/**
 * The EventBridge event-pattern engine: the public contract.
 * Implementation lives beside this file; everything else in the repo imports from here (via `@orderflow/pipeline`).
 */
import { compiledFor } from './compile.ts';
import { PatternValidationError } from './errors.ts';
import type { PatternExplanation } from './explain.ts';
import { parsePattern } from './parse.ts';

export type Dialect = 'eventbridge' | 'pipes';

export { type CompiledPattern, type CompileOptions, compilePattern } from './compile.ts';
export { PatternValidationError } from './errors.ts';
export type { ClauseFailure, PatternExplanation } from './explain.ts';
export { PIPES_POLLER_FIELDS } from './parse.ts';
export { referenceMatch } from './reference.ts';

/** Throws PatternValidationError, with AWS's reason, when EventBridge (or, for 'pipes', EventBridge Pipes) would. */
export function validatePattern(pattern: unknown, dialect: Dialect = 'eventbridge'): void {
  parsePattern(pattern, dialect);
}

/** Whether the event matches; the pattern is compiled once per pattern object and dialect. */
export function matchesPattern(pattern: unknown, event: unknown, dialect: Dialect = 'eventbridge'): boolean {
  return compiledFor(pattern, dialect).matches(event);
}

/** Whether the event matches, and if not, which clauses failed first (in pattern key order) and why. */
export function explain(pattern: unknown, event: unknown, dialect: Dialect = 'eventbridge'): PatternExplanation {
  return compiledFor(pattern, dialect).explain(event);
}

/** Whether EventBridge Pipes can evaluate the pattern as a filter, with the reason when it cannot. */
export function isPipesSupported(
  pattern: unknown,
): { readonly ok: true } | { readonly ok: false; readonly error: PatternValidationError } {
  try {
    parsePattern(pattern, 'pipes');
    return { ok: true };
  } catch (error: unknown) {
    if (error instanceof PatternValidationError) return { ok: false, error };
    throw error;
  }
}
