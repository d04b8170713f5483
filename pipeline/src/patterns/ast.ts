import type { CaseFolded } from './ignore-case.ts';
import type { CidrRange } from './ip.ts';
import type { Wildcard } from './wildcard.ts';

/** One entry of a field's matcher list, validated and normalised. `source` is the entry as written. */
export type Matcher =
  | { readonly kind: 'exact'; readonly source: unknown; readonly value: string | number | boolean | null }
  /** A string that is an IP literal matches any spelling of the same address (event-ruler `ipToRangeIfPossible`). */
  | { readonly kind: 'exact-ip'; readonly source: unknown; readonly value: string; readonly hex: string }
  | { readonly kind: 'prefix' | 'suffix'; readonly source: unknown; readonly value: string }
  | {
      readonly kind: 'prefix-ignore-case' | 'suffix-ignore-case' | 'equals-ignore-case';
      readonly source: unknown;
      readonly folded: CaseFolded;
    }
  | { readonly kind: 'wildcard'; readonly source: unknown; readonly wildcard: Wildcard }
  | { readonly kind: 'numeric'; readonly source: unknown; readonly range: NumericRange }
  | { readonly kind: 'cidr'; readonly source: unknown; readonly text: string; readonly range: CidrRange }
  | { readonly kind: 'exists'; readonly source: unknown; readonly exists: boolean }
  | { readonly kind: 'anything-but'; readonly source: unknown; readonly exclude: Exclusion };

/** Unbounded sides are +/-Infinity (inclusive), so every comparable number passes them. */
export interface NumericRange {
  readonly lower: number;
  readonly lowerOpen: boolean;
  readonly upper: number;
  readonly upperOpen: boolean;
}

/** What an `anything-but` excludes; any leaf not excluded (a number against strings, null, ...) matches. */
export type Exclusion =
  | { readonly mode: 'strings'; readonly values: readonly string[] }
  | { readonly mode: 'numbers'; readonly values: readonly number[] }
  | { readonly mode: 'prefix' | 'suffix'; readonly values: readonly string[] }
  | { readonly mode: 'equals-ignore-case'; readonly values: readonly CaseFolded[] }
  | { readonly mode: 'wildcard'; readonly values: readonly Wildcard[] };

/** A field constraint: the dotted path (keys joined with '.', as EventBridge flattens), and its matcher list. */
export interface Clause {
  readonly path: string;
  readonly matchers: readonly Matcher[];
  /** The matcher list as written. */
  readonly source: readonly unknown[];
  /** Order of appearance in the pattern, counting clauses and `$or`s, for reporting in pattern key order. */
  readonly position: number;
  /** Where it is in the pattern, e.g. `$.dynamodb.NewImage.orderStatus.S`. */
  readonly jsonPath: string;
}

export interface OrNode {
  /** Dotted path of the object holding the `$or`, plus `$or`: `detail.$or`, or `$or` at the root. */
  readonly path: string;
  readonly position: number;
  readonly source: unknown;
}

/**
 * A validated pattern as EventBridge evaluates it (aws/event-ruler `JsonRuleCompiler`): `$or` expands into
 * alternative sub-rules, each a set of clauses that must all hold, one clause per path (a later clause on the same
 * path replaces an earlier one, as AWS's compiler does). The pattern matches when any sub-rule does.
 */
export interface ParsedPattern {
  readonly subRules: readonly (readonly Clause[])[];
  readonly ors: readonly OrNode[];
}
