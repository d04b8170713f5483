import {
  compilePattern,
  isPipesSupported,
  PatternValidationError,
  PIPES_POLLER_FIELDS,
  validatePattern,
} from '../patterns/index.ts';
import { type EventPattern, isObject } from './rule.ts';

/**
 * The strongest pattern EventBridge Pipes can evaluate on the raw stream record that never rejects a record the rule
 * accepts (docs/AWS-FACTS.md, fact 3). Walking the rule:
 * - a field whose matchers the `pipes` dialect rejects (e.g. `anything-but`+`wildcard`; EventBridge user guide,
 *   "Comparison operators", Pipes column) is weakened;
 * - a field under a DynamoDB `N` attribute is weakened whatever its matchers: the raw record carries numbers as
 *   strings (`{"N":"150"}`) and `numeric` or numeric equality only match JSON numbers, so AWS would silently match
 *   nothing (Lambda developer guide, "Filtering DynamoDB events": numeric operators are not supported);
 * - "weakened" means replaced by `[{"exists":true}]` when the rule's matchers can never match a missing field (so
 *   presence is implied), and dropped otherwise;
 * - a root field the Pipes poller adds to each record (`eventName`, `eventID`, `awsRegion`…; EventBridge user guide,
 *   "Event filtering in Amazon EventBridge Pipes": they "can't be used in event patterns") is dropped, not even
 *   `exists`. The guard still checks it. For the premium rule this loses nothing: with NEW_AND_OLD_IMAGES only a
 *   MODIFY carries both images, and its other clauses already demand an OldImage and a NewImage attribute;
 * - a `$or` keeps its weakened branches (each still a superset); it is dropped when a branch becomes empty, since an
 *   empty branch would match everything anyway.
 */
export function pipeFilterFor(rule: EventPattern): EventPattern {
  return weakenObject(rule, false, true) ?? {};
}

/** Thrown when a rule cannot be expressed as a non-empty pipe filter (the pipe would receive every record). */
export class EmptyPipeFilterError extends Error {
  override readonly name = 'EmptyPipeFilterError';
}

/** `pipeFilterFor`, refusing a result that filters nothing; the message names the pipe. */
export function requirePipeFilter(pipe: string, rule: EventPattern): EventPattern {
  const filter = pipeFilterFor(rule);
  if (Object.keys(filter).length === 0) {
    throw new EmptyPipeFilterError(
      `the rule of pipe '${pipe}' has no constraint EventBridge Pipes can evaluate, so its derived filter is empty and the pipe would invoke its target for every stream record`,
    );
  }
  try {
    validatePattern(filter, 'pipes');
  } catch (error: unknown) {
    if (error instanceof PatternValidationError) {
      throw new EmptyPipeFilterError(`the derived filter of pipe '${pipe}' is not valid for Pipes: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  return filter;
}

/** The `FilterCriteria` value of an `AWS::Pipes::Pipe` source for one pattern. */
export function filterCriteriaFor(filter: EventPattern): { Filters: { Pattern: string }[] } {
  return { Filters: [{ Pattern: JSON.stringify(filter) }] };
}

function weakenObject(pattern: EventPattern, underNumberAttribute = false, atRoot = false): EventPattern | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or') {
      const branches = weakenOr(value, atRoot);
      if (branches) out[key] = branches;
    } else if (atRoot && PIPES_POLLER_FIELDS.has(key.split('.')[0] ?? key)) {
      // Dropped: a poller-added field (see pipeFilterFor).
    } else if (isObject(value)) {
      const inner = weakenObject(value, underNumberAttribute || key === 'N' || key === 'NS');
      if (inner) out[key] = inner;
    } else if (Array.isArray(value)) {
      const leaf = weakenLeaf(value, underNumberAttribute || key === 'N' || key === 'NS');
      if (leaf) out[key] = leaf;
    } else {
      out[key] = value;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function weakenOr(value: unknown, atRoot: boolean): unknown[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const branches: EventPattern[] = [];
  for (const branch of value) {
    const weakened = isObject(branch) ? weakenObject(branch, false, atRoot) : undefined;
    if (!weakened) return undefined;
    branches.push(weakened);
  }
  return branches;
}

const EXISTS = [{ exists: true }] as const;

function weakenLeaf(matchers: unknown[], underNumberAttribute: boolean): unknown[] | undefined {
  // The matchers are judged under a neutral key: the leaf's own key may sit deep in the rule, where a name such as
  // `eventName` is an ordinary attribute, not the poller's root field.
  if (!underNumberAttribute && isPipesSupported({ field: matchers }).ok) return matchers;
  // Presence is implied when the rule's matchers never match an event that lacks the field.
  const matchesMissing = compilePattern({ field: matchers }, 'eventbridge').matches({});
  return matchesMissing ? undefined : [...EXISTS];
}
