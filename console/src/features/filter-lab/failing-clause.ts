import type { FilterExplanation } from '@orderflow/ops-api/schemas';
import type { RuleClause } from '@orderflow/pipeline';

/**
 * The rule clause to highlight: the one whose id or description the API's explanation names (issue 6: the explanation
 * names the failing clause in words).
 */
export function failingClause(clauses: readonly RuleClause[], verdict: FilterExplanation): string | undefined {
  if (verdict.rule) return undefined;
  const text = verdict.explanation.toLowerCase();
  return clauses.find((clause) => text.includes(clause.id) || text.includes(clause.description.toLowerCase()))?.id;
}
