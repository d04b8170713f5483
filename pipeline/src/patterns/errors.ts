import type { Dialect } from './index.ts';

/**
 * A pattern AWS would refuse (`InvalidEventPatternException` from PutRule/TestEventPattern, or a Pipes filter that
 * CreatePipe rejects). `reason` follows the wording of AWS's own messages (those of aws/event-ruler's
 * `JsonRuleCompiler`, which EventBridge reports verbatim after "Event pattern is not valid. Reason: ").
 */
export class PatternValidationError extends Error {
  override readonly name = 'PatternValidationError';

  constructor(
    /** Where the problem is, as a JSON path from the pattern root, e.g. `$.detail.state[0].numeric`. */
    readonly path: string,
    /** What is wrong, in AWS's words where AWS has words for it, e.g. `Empty arrays are not allowed`. */
    readonly reason: string,
    readonly dialect: Dialect,
  ) {
    super(`Event pattern is not valid. Reason: ${reason} at ${path}`);
  }
}
