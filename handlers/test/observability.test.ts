import { describe, expect, it } from 'vitest';
import { tracer, tracingPossible } from '../src/observability.ts';

describe('tracingPossible', () => {
  it('is true in the Lambda execution environment unless POWERTOOLS_TRACE_ENABLED is false', () => {
    expect(tracingPossible({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe(true);
    expect(tracingPossible({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(
      true,
    );
    expect(tracingPossible({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: ' FALSE ' })).toBe(
      false,
    );
  });

  it('is false outside Lambda, where Powertools keeps the Tracer off', () => {
    expect(tracingPossible({})).toBe(false);
    expect(tracingPossible({ AWS_EXECUTION_ENV: '' })).toBe(false);
  });

  it('leaves the Tracer unloaded in this (non-Lambda) test process', () => {
    expect(process.env.AWS_EXECUTION_ENV).toBeUndefined();
    expect(tracer).toBeUndefined();
  });
});
