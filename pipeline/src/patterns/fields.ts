import type { CompiledClause } from './matchers.ts';

/*
 * Finding a clause's values in an event. EventBridge flattens an event into fields named by their keys joined with
 * '.', so the pattern path `detail.state.status` names the leaves of `{"detail":{"state":{"status":…}}}`, of
 * `{"detail":{"state.status":…}}` and of `{"detail.state":{"status":…}}` alike (conformance vectors
 * `ls-dot_joining_*`). Arrays contribute each element; only strings, numbers, booleans and null are leaves.
 *
 * Array consistency (aws/event-ruler `ACFinder`, `ArrayMembership`): when a leaf sits inside an object that is an
 * element of an array, the clauses of one sub-rule must take their leaves from the same element of that array. A leaf
 * reached without passing through such an element is "free": it is consistent with anything. The fast evaluation
 * below only records whether a clause is satisfied by a free leaf, which settles almost every event; the rare rest is
 * settled by `arrayConsistentMatch`.
 */

/** Bits of a clause's summary over one event. */
export const FREE_LEAF = 1;
export const BOUND_LEAF = 2;
export const FREE_MATCH = 4;
export const BOUND_MATCH = 8;

export const NO = 0;
export const YES = 1;
/** Only leaves inside array elements decide it: array consistency must be checked. */
export const UNSURE = 2;
export type Verdict = typeof NO | typeof YES | typeof UNSURE;

export type LeafTest = (value: unknown) => boolean;

/** The verdict for one clause from its summary bits. */
export function verdictOf(flags: number, allowsAbsence: boolean): Verdict {
  if (flags & FREE_MATCH) return YES;
  if ((flags & (FREE_LEAF | BOUND_LEAF)) === 0) return allowsAbsence ? YES : NO;
  if (flags & BOUND_MATCH) return UNSURE;
  // Leaves exist, none matches: only absence could hold, and a free leaf is never absent.
  return allowsAbsence && (flags & FREE_LEAF) === 0 ? UNSURE : NO;
}

interface Step {
  readonly key: string;
  /** Index of the level after this key; equal to the number of segments at the end of the path. */
  readonly next: number;
  /** The key is also a property of Object.prototype, so a lookup must confirm it is the event's own. */
  readonly inherited: boolean;
}

/** The keys that can continue a path at each segment boundary: `a.b.c` at level 0 is `a`, `a.b` or `a.b.c`. */
export class FieldPath {
  readonly levels: readonly (readonly Step[])[];
  readonly end: number;

  constructor(readonly path: string) {
    const segments = path.split('.');
    this.end = segments.length;
    this.levels = segments.map((_, level) =>
      segments.slice(level).map((_, n) => {
        const key = segments.slice(level, level + n + 1).join('.');
        return { key, next: level + n + 1, inherited: key in Object.prototype };
      }),
    );
  }
}

/** An event's own property, as JSON would see it (undefined when absent or not serialisable). */
function own(node: object, step: Step): unknown {
  const value = (node as Record<string, unknown>)[step.key];
  if (value === undefined || (step.inherited && !Object.hasOwn(node, step.key))) return undefined;
  return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
}

/** In arrays, JSON.stringify writes undefined, functions and symbols as null. */
function element(value: unknown): unknown {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol' ? null : value;
}

function isRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Summary bits of one clause over an event object; stops early once a free leaf matches. Written as plain functions
 * with explicit arguments so that a match allocates nothing.
 */
export function summarise(event: object, path: FieldPath, test: (value: unknown) => boolean): number {
  return visit(event, 0, false, path, test);
}

function visit(node: object, level: number, bound: boolean, path: FieldPath, test: LeafTest): number {
  const steps = path.levels[level] as readonly Step[];
  let flags = 0;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as Step;
    const value = own(node, step);
    if (value === undefined) continue;
    flags |= step.next === path.end ? leaves(value, bound, test) : descend(value, step.next, bound, path, test);
    if (flags & FREE_MATCH) break;
  }
  return flags;
}

function descend(value: unknown, level: number, bound: boolean, path: FieldPath, test: LeafTest): number {
  if (isRecord(value)) return visit(value, level, bound, path, test);
  if (!Array.isArray(value)) return 0;
  let flags = 0;
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (Array.isArray(item) || isRecord(item)) flags |= descend(item, level, true, path, test);
    if (flags & FREE_MATCH) break;
  }
  return flags;
}

function leaves(value: unknown, bound: boolean, test: LeafTest): number {
  if (!Array.isArray(value)) return leaf(value, bound, test);
  let flags = 0;
  for (let i = 0; i < value.length; i++) {
    const e = element(value[i]);
    // An array nested in an array is an element: its leaves are bound to it.
    flags |= Array.isArray(e) ? leaves(e, true, test) : leaf(e, bound, test);
    if (flags & FREE_MATCH) break;
  }
  return flags;
}

function leaf(value: unknown, bound: boolean, test: LeafTest): number {
  if (typeof value === 'object' && value !== null) return 0;
  if (bound) return test(value) ? BOUND_LEAF | BOUND_MATCH : BOUND_LEAF;
  return test(value) ? FREE_LEAF | FREE_MATCH : FREE_LEAF;
}

/** A leaf with the array elements it lies in: pairs of (array, index), outermost first. */
export interface Leaf {
  readonly value: unknown;
  readonly membership: readonly (readonly [readonly unknown[], number])[];
}

/** Every leaf of a path, with its array membership. */
export function leavesAt(event: object, path: FieldPath): Leaf[] {
  const found: Leaf[] = [];
  const membership: [readonly unknown[], number][] = [];
  const leaves = (value: unknown): void => {
    if (!Array.isArray(value)) {
      if (typeof value !== 'object' || value === null) found.push({ value, membership: [...membership] });
      return;
    }
    value.forEach((item, index) => {
      const e = element(item);
      if (Array.isArray(e)) membership.push([value, index]);
      leaves(e);
      if (Array.isArray(e)) membership.pop();
    });
  };
  const descend = (value: unknown, level: number): void => {
    if (isRecord(value)) visit(value, level);
    if (!Array.isArray(value)) return;
    value.forEach((item, index) => {
      if (!Array.isArray(item) && !isRecord(item)) return;
      membership.push([value, index]);
      descend(item, level);
      membership.pop();
    });
  };
  const visit = (node: object, level: number): void => {
    for (const step of path.levels[level] ?? []) {
      const value = own(node, step);
      if (value === undefined) continue;
      if (step.next === path.end) leaves(value);
      else descend(value, step.next);
    }
  };
  visit(event, 0);
  return found;
}

/**
 * Array-consistent evaluation of one sub-rule, as aws/event-ruler's `ACFinder` does it: clauses are taken in the
 * order of their paths; each picks a matching leaf whose array elements agree with those picked so far, and an
 * `{"exists": false}` holds when no leaf of its path agrees with them.
 */
export function arrayConsistentMatch(event: object, clauses: readonly { path: FieldPath; compiled: CompiledClause }[]) {
  const candidates = clauses.map(({ path, compiled }) => ({ compiled, leaves: leavesAt(event, path) }));
  const chosen = new Map<readonly unknown[], number>();
  const agrees = (leaf: Leaf) => leaf.membership.every(([array, index]) => (chosen.get(array) ?? index) === index);
  const search = (i: number): boolean => {
    const candidate = candidates[i];
    if (!candidate) return true;
    for (const leaf of candidate.leaves) {
      if (!candidate.compiled.test(leaf.value) || !agrees(leaf)) continue;
      const added = leaf.membership.filter(([array]) => !chosen.has(array));
      for (const [array, index] of added) chosen.set(array, index);
      if (search(i + 1)) return true;
      for (const [array] of added) chosen.delete(array);
    }
    return candidate.compiled.allowsAbsence && !candidate.leaves.some(agrees) && search(i + 1);
  };
  return search(0);
}
