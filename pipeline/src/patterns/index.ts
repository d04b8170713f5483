/**
 * The EventBridge event-pattern engine: the public contract.
 * Implementation lives beside this file; everything else in the repo imports from here (via `@orderflow/pipeline`).
 */
export type Dialect = 'eventbridge' | 'pipes';
