import { PIPES, type PipeKey } from './definitions.ts';
import { pipeFilterFor } from './pipe-filter.ts';
import type { EventPattern } from './rule.ts';

const derived = new Map<PipeKey, EventPattern>();

/**
 * The pipe filter of a pipe: what the pipe itself evaluates on the raw record, derived from its rule
 * (`pipeFilterFor`) on first use and kept, so that importing the pipe definitions compiles nothing.
 */
export function pipeFilterOf(pipe: PipeKey): EventPattern {
  let filter = derived.get(pipe);
  if (!filter) {
    filter = pipeFilterFor(PIPES[pipe].rule.pattern);
    derived.set(pipe, filter);
  }
  return filter;
}
