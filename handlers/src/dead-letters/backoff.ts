/** Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog): 100 ms doubling. */
export function backoffDelay(attempt: number, baseMs = 100, maxMs = 5000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(Math.random() * ceiling);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
