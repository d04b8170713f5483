import { PatternValidationError, validatePattern } from '../../src/patterns/index.ts';

/** Whether a generated pattern is valid EventBridge (property tests skip the invalid ones with `fc.pre`). */
export function isValidPattern(pattern: unknown): boolean {
  try {
    validatePattern(pattern);
    return true;
  } catch (error: unknown) {
    if (error instanceof PatternValidationError) return false;
    throw error;
  }
}
