import type { DlqMessage } from '@orderflow/ops-api/schemas';

/**
 * Filters of the dead-letter table, carried in the URL (`orderId`, `email`, `error`, `stale`, `from`, `to`).
 * The relative `window` of alarm deep links is deliberately not a filter here: a queue is a backlog, not a time series,
 * and `dlq-not-drained` fires precisely for messages held longer than its window, so hiding them would hide the cause.
 * Filtering runs in the browser over the whole loaded queue, so every filter combines with every other one exactly.
 */
export interface DlqFilters {
  orderId: string;
  email: string;
  error: string;
  stale: 'all' | 'stale' | 'fresh';
  from: string;
  to: string;
}

export const DLQ_FILTER_PARAMS = ['orderId', 'email', 'error', 'stale', 'from', 'to'] as const;

export function dlqFiltersFrom(params: URLSearchParams): DlqFilters {
  const stale = params.get('stale');
  return {
    orderId: params.get('orderId') ?? '',
    email: params.get('email') ?? '',
    error: params.get('error') ?? '',
    stale: stale === 'stale' || stale === 'fresh' ? stale : 'all',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
  };
}

export function hasActiveFilters(filters: DlqFilters): boolean {
  return Boolean(
    filters.orderId || filters.email || filters.error || filters.from || filters.to || filters.stale !== 'all',
  );
}

function includes(haystack: unknown, needle: string): boolean {
  return typeof haystack === 'string' && haystack.toLowerCase().includes(needle);
}

function emailsOf(message: DlqMessage): unknown[] {
  return message.records.flatMap((record) => [
    record.newImage?.customerEmail,
    record.oldImage?.customerEmail,
    record.currentItem?.customerEmail,
  ]);
}

/** Every filter must hold; text filters are case-insensitive substrings, over every record of the message. */
export function matchesFilters(message: DlqMessage, filters: DlqFilters): boolean {
  const orderId = filters.orderId.trim().toLowerCase();
  if (orderId && !message.records.some((record) => includes(record.orderId, orderId))) return false;
  const email = filters.email.trim().toLowerCase();
  if (email && !emailsOf(message).some((value) => includes(value, email))) return false;
  const error = filters.error.trim().toLowerCase();
  if (
    error &&
    !includes(message.condition, error) &&
    !includes(message.malformed, error) &&
    !message.records.some((r) => includes(r.error?.message, error) || includes(r.error?.name, error))
  ) {
    return false;
  }
  if (filters.stale === 'stale' && !message.stale) return false;
  if (filters.stale === 'fresh' && message.stale) return false;
  const sent = Date.parse(message.sentAt);
  if (filters.from && sent < Date.parse(filters.from)) return false;
  if (filters.to && sent > Date.parse(filters.to)) return false;
  return true;
}

export function filterMessages(messages: readonly DlqMessage[], filters: DlqFilters): DlqMessage[] {
  return hasActiveFilters(filters) ? messages.filter((message) => matchesFilters(message, filters)) : [...messages];
}

/**
 * Records a message stands for: the batch size the pipe wrote in the DLQ metadata (docs/AWS-FACTS.md, fact 7), or the
 * records resolved when the body is not pipe metadata.
 */
export function recordsIn(message: Pick<DlqMessage, 'batch' | 'records'>): number {
  return message.batch?.batchSize ?? message.records.length;
}

export function recordCount(messages: readonly Pick<DlqMessage, 'batch' | 'records'>[]): number {
  return messages.reduce((sum, message) => sum + recordsIn(message), 0);
}

/**
 * The table's error column: the first journal error of the message. Without one, the pipe's DLQ condition (e.g.
 * `RetryAttemptsExhausted`) is shown as such, `condition: true`: it says why the pipe gave up on the batch, and read
 * bare in an "Error" column it passed for what the processor threw.
 */
export function errorColumn(message: DlqMessage): { text: string; condition: boolean } {
  if (message.malformed) return { text: `malformed: ${message.malformed}`, condition: false };
  const record = message.records.find((r) => r.error);
  if (record?.error) return { text: `${record.error.name}: ${record.error.message}`, condition: false };
  if (message.condition) return { text: `no journal error (DLQ condition: ${message.condition})`, condition: true };
  return { text: '—', condition: false };
}
