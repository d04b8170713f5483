/**
 * The "typed view" of a record: same shape, but every `N` value (and `NS` member) is a JSON number, so that the
 * full business rule's `numeric` matchers can be evaluated. The raw record keeps numbers as strings, which is why a
 * `numeric` pipe filter on `N` never matches in AWS (docs/AWS-FACTS.md, fact 1; Lambda developer guide, "Filtering
 * DynamoDB events": "DynamoDB event filtering doesn't support the use of numeric operators").
 * A value that is not a finite decimal stays a string, so numeric matchers reject it rather than guess.
 */
export function typedView<T>(record: T): T {
  return convertNumbers(record) as T;
}

function convertNumbers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convertNumbers);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'N' && typeof inner === 'string') out[key] = toNumber(inner);
    else if (key === 'NS' && Array.isArray(inner))
      out[key] = inner.map((n) => (typeof n === 'string' ? toNumber(n) : n));
    else out[key] = convertNumbers(inner);
  }
  return out;
}

function toNumber(text: string): number | string {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}
