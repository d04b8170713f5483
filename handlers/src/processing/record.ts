import type { Guard, GuardVerdict } from '@orderflow/pipeline/engine';
import type { PipeKey } from '@orderflow/pipeline/facts';
import { parseOrder, parseStreamRecord, type StreamRecord, unmarshallImage } from '@orderflow/pipeline/schemas';
import type { EffectsResult, GuardedOrder } from './effects.ts';

/** The effects of a pipe made idempotent: `replayed` is true when a previous attempt already applied them. */
export type ApplyEffects = (input: GuardedOrder) => Promise<EffectsResult & { replayed?: boolean }>;

export interface ProcessedRecord {
  readonly outcome: 'processed';
  readonly eventId: string;
  readonly orderId: string;
  readonly customerEmail: string;
  readonly orderAmount: number;
  readonly notified: boolean;
  readonly replayed: boolean;
}

export interface RejectedRecord {
  readonly outcome: 'rejected';
  readonly eventId: string;
  readonly clause: string;
  readonly explanation: string;
}

export type RecordOutcome = ProcessedRecord | RejectedRecord;

/**
 * First stage: the envelope must be a stream record (else it fails: no rule can be evaluated on it), then the guard
 * evaluates the full business rule. A rejection is acknowledged by the caller, never failed
 * (docs/AWS-FACTS.md, fact 3).
 */
export function screenRecord(raw: unknown, guard: Guard): { record: StreamRecord; verdict: GuardVerdict } {
  const record = parseStreamRecord(raw);
  return { record, verdict: guard.check(record) };
}

export function rejection(record: StreamRecord, verdict: GuardVerdict & { verdict: 'reject' }): RejectedRecord {
  return { outcome: 'rejected', eventId: record.eventID, clause: verdict.clause, explanation: verdict.explanation };
}

/**
 * Second stage, for a record the guard passed: validate the order (the `NewImage`) against the order schema, then
 * apply the pipe's effects once per event. Throws on failure; the batch turns the throw into a reported failure.
 */
export async function applyRecord(
  record: StreamRecord,
  deps: { readonly pipe: PipeKey; readonly applyEffects: ApplyEffects },
): Promise<ProcessedRecord> {
  const order = parseOrder(unmarshallImage(record.dynamodb.NewImage));
  const result = await deps.applyEffects({ pipe: deps.pipe, eventId: record.eventID, record, order });
  return {
    outcome: 'processed',
    eventId: record.eventID,
    orderId: order.orderId,
    customerEmail: order.customerEmail,
    orderAmount: order.orderAmount,
    notified: result.notified,
    replayed: result.replayed === true,
  };
}
