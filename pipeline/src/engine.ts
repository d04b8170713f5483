/**
 * `@orderflow/pipeline/engine`: the EventBridge event-pattern engine (validate, match, explain, compile), the pipe
 * filters derived from the rules (`pipeFilterOf`, `pipeFilterFor`, `requirePipeFilter`) and the processors' guards
 * (`guardFor`, over a record's `typedView`). Patterns compile when first used, not when this module loads.
 */
export * from './patterns/index.ts';
export * from './pipes/derived-filters.ts';
export * from './pipes/guard.ts';
export * from './pipes/pipe-filter.ts';
export * from './streams/typed-view.ts';
