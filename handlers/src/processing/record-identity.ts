import { createHash } from 'node:crypto';
import { BATCH_ITEM_IDENTIFIER, JOURNAL_RECORD_MAX_BYTES } from '@orderflow/pipeline/facts';

/**
 * What can be said about any element of a batch, however malformed: its identifier for the partial batch response
 * (undefined when it has none), a stable event id for the journal, its sequence number and order id when present,
 * and its JSON bounded to the journal's budget.
 */
export interface RecordIdentity {
  readonly itemIdentifier: string | undefined;
  readonly eventId: string;
  readonly sequenceNumber: string;
  readonly orderId: string | undefined;
  readonly json: string;
  readonly jsonTruncated: boolean;
}

export function identifyRecord(raw: unknown): RecordIdentity {
  const record = isObject(raw) ? raw : {};
  const dynamodb = isObject(record.dynamodb) ? record.dynamodb : {};
  const identifier = record[BATCH_ITEM_IDENTIFIER];
  const full = safeJson(raw);
  const itemIdentifier = typeof identifier === 'string' && identifier !== '' ? identifier : undefined;
  const { text, truncated } = truncateUtf8(full, JOURNAL_RECORD_MAX_BYTES);
  return {
    itemIdentifier,
    // Deterministic, so a retried unidentified record updates the same journal entry (attempts count up).
    eventId: itemIdentifier ?? `unidentified-${createHash('sha256').update(full).digest('hex').slice(0, 32)}`,
    sequenceNumber: typeof dynamodb.SequenceNumber === 'string' ? dynamodb.SequenceNumber : '',
    orderId: orderKeyOf(raw)?.slice(0, 256),
    json: text,
    jsonTruncated: truncated,
  };
}

/**
 * The order key (`dynamodb.Keys.orderId.S`) of any element, however malformed. Pipeline's `orderIdOf` expects a
 * parsed stream record (it throws on a key that is not an object); the batch needs the key before parsing, to order
 * the records of one order, and for elements that never parse, to journal them.
 */
export function orderKeyOf(raw: unknown): string | undefined {
  const dynamodb = isObject(raw) && isObject(raw.dynamodb) ? raw.dynamodb : undefined;
  const keys = isObject(dynamodb?.Keys) ? dynamodb.Keys : undefined;
  const value = isObject(keys?.orderId) ? keys.orderId.S : undefined;
  return typeof value === 'string' ? value : undefined;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
