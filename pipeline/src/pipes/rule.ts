/**
 * A business rule: named clauses, each a fragment of an EventBridge event pattern over the stream record's typed view
 * (`N` values as numbers). The rule is the merge of its clauses; clauses constrain disjoint fields, so the rule
 * matches exactly when every clause does, and a rejection can be attributed to the clause that failed.
 */
export type EventPattern = { readonly [key: string]: unknown };

export interface RuleClause {
  /** Stable id, used as the `Clause` metric dimension and in explanations, e.g. `amount-over-100`. */
  readonly id: string;
  /** What the clause demands, in words an operator understands. */
  readonly description: string;
  readonly pattern: EventPattern;
}

export interface BusinessRule {
  readonly clauses: readonly RuleClause[];
  /** The full pattern (merge of the clauses). */
  readonly pattern: EventPattern;
}

export function defineRule(clauses: readonly RuleClause[]): BusinessRule {
  const ids = new Set<string>();
  let pattern: EventPattern = {};
  for (const clause of clauses) {
    if (ids.has(clause.id)) throw new Error(`duplicate rule clause id '${clause.id}'`);
    ids.add(clause.id);
    pattern = mergePatterns(pattern, clause.pattern, clause.id);
  }
  return { clauses, pattern };
}

function mergePatterns(target: EventPattern, addition: EventPattern, clauseId: string, path = ''): EventPattern {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(addition)) {
    const existing = out[key];
    const here = path ? `${path}.${key}` : key;
    if (existing === undefined) out[key] = value;
    else if (isObject(existing) && isObject(value)) out[key] = mergePatterns(existing, value, clauseId, here);
    else throw new Error(`rule clause '${clauseId}' constrains ${here}, which another clause already constrains`);
  }
  return out;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
