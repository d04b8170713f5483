import { type CompiledPattern, compilePattern } from '../patterns/index.ts';
import { typedView } from '../streams/typed-view.ts';
import type { BusinessRule, RuleClause } from './rule.ts';

export type GuardVerdict =
  | { readonly verdict: 'pass' }
  | {
      readonly verdict: 'reject';
      /** Id of the first failing clause, e.g. `amount-over-100` (the `Clause` metric dimension). */
      readonly clause: string;
      readonly clauseDescription: string;
      /** What failed, in words, e.g. `dynamodb.NewImage.orderAmount.N is 100, which is not > 100`. */
      readonly explanation: string;
    };

export interface Guard {
  /** Evaluates the full rule on the record's typed view (`N` as numbers). */
  check(record: unknown): GuardVerdict;
}

/**
 * The target guard (docs/AWS-FACTS.md, fact 3): the full business rule, which the pipe filter can only approximate.
 * Compiled once; a pass costs one match on the typed view, a rejection additionally finds the failing clause.
 */
export function guardFor(rule: BusinessRule): Guard {
  const full = compilePattern(rule.pattern, 'eventbridge');
  const clauses: { clause: RuleClause; matcher: CompiledPattern }[] = rule.clauses.map((clause) => ({
    clause,
    matcher: compilePattern(clause.pattern, 'eventbridge'),
  }));
  return {
    check(record: unknown): GuardVerdict {
      const view = typedView(record);
      if (full.matches(view)) return { verdict: 'pass' };
      for (const { clause, matcher } of clauses) {
        const explanation = matcher.explain(view);
        if (!explanation.matched) {
          return {
            verdict: 'reject',
            clause: clause.id,
            clauseDescription: clause.description,
            explanation: explanation.failures.map((failure) => failure.message).join('; '),
          };
        }
      }
      // Unreachable while clauses constrain disjoint fields (enforced by defineRule); kept total for safety.
      return {
        verdict: 'reject',
        clause: 'rule',
        clauseDescription: 'the full rule',
        explanation: 'rule did not match',
      };
    },
  };
}
