import type { PipeKey } from '@orderflow/pipeline/facts';

/** One stream record of the run, as read back from the table's stream. */
export interface RecordFact {
  readonly eventId: string;
  readonly orderId: string;
  /** Whether each pipe's full rule (the guard) accepts the record. */
  readonly accepted: Readonly<Record<PipeKey, boolean>>;
  /** The order was written with an invalid order date: the processors must reject it permanently. */
  readonly poison: boolean;
}

/** What the run observed, per pipe and record. */
export interface Observations {
  /** Notifications received downstream, per notification id (`pipe:eventID`), duplicates counted. */
  readonly deliveries: ReadonlyMap<string, number>;
  /** Notification ids received exactly once before the kill and exactly once after the restart. */
  readonly redeliveredAcrossKill: ReadonlySet<string>;
  /** The idempotency table has a COMPLETED record for this pipe and event. */
  completed(pipe: PipeKey, eventId: string): boolean;
  /** Event ids the pipe's DLQ messages cover (resolved through the ops API). */
  readonly inDlq: Readonly<Record<PipeKey, ReadonlySet<string>>>;
  /** The failure journal has an entry for this pipe and event. */
  journaled(pipe: PipeKey, eventId: string): boolean;
}

export interface PipeLedger {
  accepted: number;
  rejected: number;
  processedOnce: number;
  /**
   * Delivered once before the kill and once after: the processor was killed after sending the notification and
   * before Powertools recorded the record COMPLETED, so the retry sent it again with the same `notificationId`
   * (at-least-once across a crash; consumers de-duplicate on that id). Processed, and not counted as duplicated.
   */
  redeliveredAcrossKill: number;
  inDlqWithJournal: number;
  /** The processor never ran (an injected invocation fault exhausted the retries), so nothing could journal it. */
  inDlqWithoutJournal: number;
  poisonInDlqWithJournal: number;
  poisonDiscardedWithJournal: number;
  /** Invariant counters: each must be 0. */
  lost: number;
  duplicated: number;
  processedNonMatching: number;
  poisonProcessed: number;
}

export type Phase = 'before-redrive' | 'after-redrive';

function emptyLedger(): PipeLedger {
  return {
    accepted: 0,
    rejected: 0,
    processedOnce: 0,
    redeliveredAcrossKill: 0,
    inDlqWithJournal: 0,
    inDlqWithoutJournal: 0,
    poisonInDlqWithJournal: 0,
    poisonDiscardedWithJournal: 0,
    lost: 0,
    duplicated: 0,
    processedNonMatching: 0,
    poisonProcessed: 0,
  };
}

/**
 * The invariants of the chaos suite, per pipe. Before the redrive, every accepted record is processed exactly once
 * or is in a DLQ (poison records with their journal entry); after it (poison records discarded), every accepted
 * record other than poison is processed exactly once. In both phases, no record the rule rejects is processed.
 */
export function account(phase: Phase, pipe: PipeKey, records: readonly RecordFact[], seen: Observations): PipeLedger {
  const ledger = emptyLedger();
  for (const record of records) {
    const notificationId = `${pipe}:${record.eventId}`;
    const deliveries = seen.deliveries.get(notificationId) ?? 0;
    const acrossKill = deliveries === 2 && seen.redeliveredAcrossKill.has(notificationId);
    const processed = deliveries > 0 || seen.completed(pipe, record.eventId);
    if (!record.accepted[pipe]) {
      if (processed) ledger.processedNonMatching++;
      else ledger.rejected++;
      continue;
    }
    ledger.accepted++;
    if (deliveries > 1 && !acrossKill) ledger.duplicated++;
    const journaled = seen.journaled(pipe, record.eventId);
    const inDlq = seen.inDlq[pipe].has(record.eventId);
    if (record.poison) {
      if (processed) ledger.poisonProcessed++;
      else if (!journaled) ledger.lost++;
      else if (phase === 'after-redrive') ledger.poisonDiscardedWithJournal++;
      else if (inDlq) ledger.poisonInDlqWithJournal++;
      else ledger.lost++;
    } else if (deliveries === 1) ledger.processedOnce++;
    else if (acrossKill) ledger.redeliveredAcrossKill++;
    // Processed (COMPLETED) but never delivered: the effect is lost (SQS keeps acknowledged messages across the kill).
    else if (processed && deliveries === 0) ledger.lost++;
    else if (processed) continue;
    else if (phase === 'before-redrive' && inDlq) {
      if (journaled) ledger.inDlqWithJournal++;
      else ledger.inDlqWithoutJournal++;
    } else ledger.lost++;
  }
  return ledger;
}

export function violations(ledger: PipeLedger): number {
  return ledger.lost + ledger.duplicated + ledger.processedNonMatching + ledger.poisonProcessed;
}
