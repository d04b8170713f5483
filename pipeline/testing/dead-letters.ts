/**
 * Dead letters built as the archiver writes them (handlers/src/dead-letters/build.ts and store.ts), for tests and
 * benches that seed the store without the capture (the ops API and the local runtime may not import handlers): the
 * dead letter item with its index keys, record parts, body parts, order links, and the counter updates. Items are
 * built with the store's key and schema functions and parsed with `parseDeadLetter`, so a layout change breaks this
 * first.
 */
import { causeSignature, type ErrorDescription } from '../src/dead-letters/cause-signature.ts';
import { deadLetterCauseKey, parseDeadLetter, splitUtf8 } from '../src/dead-letters/dead-letter.ts';
import {
  counterKey,
  type DeadLetterCounterChange,
  type DeadLetterState,
  deadLetterBodyKey,
  deadLetterCounterUpdate,
  deadLetterIndexKeys,
  deadLetterKey,
  deadLetterRecordKey,
  deadLetterShards,
  orderLinkKey,
} from '../src/dead-letters/dead-letter-store.ts';
import type { PipeKey } from '../src/pipes/definitions.ts';

export interface SeedDeadLetter {
  readonly id: string;
  readonly pipe: PipeKey;
  readonly state?: DeadLetterState;
  readonly failedAt: string;
  readonly orderIds: readonly string[];
  readonly emails?: readonly string[];
  readonly cause: ErrorDescription;
  /** Records as the pipe delivered them; each split into parts of `partBytes` (default: the archiver's 350 KB). */
  readonly records?: readonly { eventId: string; sequenceNumber: string; json: string }[];
  /** The DLQ body; split into body items when over `inlineBodyBytes` (default: the archiver's 32 KB). */
  readonly body?: string;
}

/** A counter moved by `add` (the archiver adds 1 per dead letter in its transaction; seeding sums them per counter). */
/** A counter's update, summed over the seeded dead letters it counts. */
export type SeedCounter = DeadLetterCounterChange;

/** The items of these dead letters and their counters' updates (summed per counter: seeding conflicts with nothing). */
export function deadLetterSeedItems(
  letters: readonly SeedDeadLetter[],
  options: { partBytes?: number; inlineBodyBytes?: number } = {},
): { items: Record<string, unknown>[]; counters: SeedCounter[] } {
  const partBytes = options.partBytes ?? 350 * 1024;
  const inlineBodyBytes = options.inlineBodyBytes ?? 32 * 1024;
  const items: Record<string, unknown>[] = [];
  const counters = new Map<
    string,
    {
      key: { pk: string; sk: string };
      add: number;
      pipe: PipeKey;
      state: DeadLetterState;
      causeKey: string;
      signature: string;
      message: string;
    }
  >();
  for (const letter of letters) {
    const state = letter.state ?? 'open';
    const signature = causeSignature(letter.cause);
    const causeKey = deadLetterCauseKey(signature);
    const body = letter.body ?? JSON.stringify({ seeded: letter.id });
    const bodyParts = Buffer.byteLength(body, 'utf8') > inlineBodyBytes ? splitUtf8(body, partBytes) : [];
    const records = letter.records ?? [];
    const deadLetter = parseDeadLetter({
      id: letter.id,
      kind: 'batch',
      pipe: letter.pipe,
      state,
      version: 1,
      failedAt: letter.failedAt,
      capturedAt: letter.failedAt,
      firstFailureAt: letter.failedAt,
      lastFailureAt: letter.failedAt,
      cause: { signature, message: letter.cause.errorMessage, errorName: letter.cause.errorName, key: causeKey },
      orderIds: [...letter.orderIds],
      emails: [...(letter.emails ?? [])],
      expectedRecords: records.length,
      recordCount: records.length,
      missingRecords: 0,
      sources: { journal: 0, stream: records.length },
      records: records.map((record, index) => ({
        eventId: record.eventId,
        sequenceNumber: record.sequenceNumber,
        ...(letter.orderIds[index] ? { orderId: letter.orderIds[index] } : {}),
        source: 'stream',
        truncated: false,
      })),
      dlqBody: bodyParts.length > 0 ? '' : body,
      dlqBodyParts: bodyParts.length,
      sqs: {
        messageId: letter.id,
        queueArn: `arn:aws:sqs:us-east-1:000000000000:${letter.pipe}-dlq`,
        sentAt: letter.failedAt,
        receiveCount: 1,
      },
    });
    const shards = deadLetterShards(letter.id);
    items.push({
      ...deadLetterKey(letter.id),
      ...deadLetter,
      shard: shards.counter,
      ...deadLetterIndexKeys({ id: letter.id, pipe: letter.pipe, state, failedAt: letter.failedAt, causeKey }),
    });
    for (const record of records) {
      const parts = splitUtf8(record.json, partBytes);
      parts.forEach((text, part) => {
        items.push({
          ...deadLetterRecordKey(letter.id, record, part),
          id: letter.id,
          eventId: record.eventId,
          sequenceNumber: record.sequenceNumber,
          source: 'stream',
          part,
          parts: parts.length,
          record: text,
        });
      });
    }
    bodyParts.forEach((text, part) => {
      items.push({ ...deadLetterBodyKey(letter.id, part), id: letter.id, part, parts: bodyParts.length, text });
    });
    for (const orderId of deadLetter.orderIds) {
      items.push({
        ...orderLinkKey(orderId, letter.failedAt, letter.id),
        id: letter.id,
        pipe: letter.pipe,
        failedAt: letter.failedAt,
      });
    }
    const key = counterKey(letter.pipe, shards.counter, state, causeKey);
    const id = `${key.pk}|${key.sk}`;
    const counter = counters.get(id) ?? {
      key,
      add: 0,
      pipe: letter.pipe,
      state,
      causeKey,
      signature,
      message: deadLetter.cause.message,
    };
    counters.set(id, { ...counter, add: counter.add + 1 });
  }
  return { items, counters: [...counters.values()] };
}

/** The UpdateItem input (document client form) that moves a counter as the archiver's transaction does. */
export function seedCounterUpdate(table: string, counter: SeedCounter) {
  return deadLetterCounterUpdate(table, counter);
}
