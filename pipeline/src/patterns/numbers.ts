/**
 * EventBridge numbers. "Numeric matching works with values that are JSON numbers. It is limited to values between
 * -5.0e9 and +5.0e9 inclusive, with 15 digits of precision, or six digits to the right of the decimal point."
 * (EventBridge user guide, "Content filtering in Amazon EventBridge event patterns", Numeric matching.)
 * aws/event-ruler's `ComparableNumber` implements this: a number is comparable when it lies in that range and has at
 * most six decimals; anything else never matches `numeric` (and never equals an `anything-but` number).
 */
export const NUMERIC_LIMIT = 5e9;

/**
 * True when `x` is comparable: finite, within +/-5e9, and its shortest decimal spelling has at most six decimals.
 * Allocation-free: a number with at most six decimals is the double nearest to k/1e6 for an integer k, and
 * `Math.round(x * 1e6)` is within one of that k because |x| <= 5e9 keeps both rounding errors below 1/2.
 */
export function isComparable(x: number): boolean {
  if (!(x >= -NUMERIC_LIMIT && x <= NUMERIC_LIMIT)) return false;
  if (Number.isInteger(x)) return true;
  const k = Math.round(x * 1e6);
  return (k - 1) / 1e6 === x || k / 1e6 === x || (k + 1) / 1e6 === x;
}

/** AWS's reason for refusing `x` as a numeric operand, or undefined when it is comparable. */
export function comparableNumberError(x: number): string | undefined {
  if (!Number.isFinite(x)) return 'Numbers must be finite';
  if (decimalPlaces(x) > 6) return 'Only values upto 6 decimals are supported';
  if (x < -NUMERIC_LIMIT || x > NUMERIC_LIMIT) return 'Value must be between -5.0E9 and 5.0E9, inclusive';
  return undefined;
}

/** Digits right of the decimal point in the shortest spelling of `x` (the scale of Java's stripped BigDecimal). */
export function decimalPlaces(x: number): number {
  const match = /^-?(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!match) return Number.POSITIVE_INFINITY;
  const fraction = match[2] ?? '';
  return Math.max(0, fraction.length - Number(match[3] ?? 0));
}
