import type { PipeKey } from '@orderflow/pipeline/facts';
import type { JournalEntry, PipeDlqMessage, StreamRecord } from '@orderflow/pipeline/schemas';
import type { CapturedRecord } from './build.ts';
import { compareSequence, type JournalLookup } from './journal-lookup.ts';
import type { RangeRead } from './stream-range-reader.ts';

export interface RecordSources {
  readonly journal: JournalLookup;
  readonly readStream: (info: PipeDlqMessage['DDBStreamBatchInfo']) => Promise<RangeRead>;
  /** Whether the pipe would deliver this record (its filter): records of the range it filtered out are no batch's. */
  readonly pipeDelivers: (record: StreamRecord) => boolean;
}

export interface ResolvedRecords {
  /** In sequence order. */
  readonly records: readonly CapturedRecord[];
  readonly missing: { readonly count: number; readonly reason?: string };
  /** Whether the stream was read. */
  readonly streamRead: boolean;
}

/**
 * The records of a DLQ message, whose body holds only the batch's shard, sequence range and size (docs/AWS-FACTS.md,
 * fact 7):
 * 1. the journal's entries in the range (each failed record, with its error, classification and attempts);
 * 2. when those are fewer complete records than the batch had (an invocation-level failure journals nothing; a record
 *    blocked behind a failed one of its order is not journaled; a journal copy can be truncated), the stream's range,
 *    read once: each record the pipe would deliver and the journal lacks is taken from it, after a look-up of the
 *    journal by its event id (an index lags a write; the table does not);
 * 3. records of the batch found in neither are counted as missing, with the reason, and never invented.
 * A range holds every record of its shard between the two sequence numbers; with ParallelizationFactor > 1 another
 * lane's records can lie in it too, and are kept (replaying them is an idempotent replay; docs/ARCHITECTURE.md).
 */
export async function resolveRecords(
  pipe: PipeKey,
  message: PipeDlqMessage,
  sources: RecordSources,
): Promise<ResolvedRecords> {
  const info = message.DDBStreamBatchInfo;
  const entries = await sources.journal.entriesInRange(pipe, info.startSequenceNumber, info.endSequenceNumber);
  const byEvent = new Map<string, CapturedRecord>(entries.map((entry) => [entry.eventId, fromJournal(entry)]));
  const complete = entries.filter((entry) => !entry.recordTruncated).length;
  if (complete >= info.batchSize) return { records: ordered(byEvent), missing: { count: 0 }, streamRead: false };

  const read = await sources.readStream(info);
  if (read.status === 'gone') {
    const count = Math.max(0, info.batchSize - byEvent.size);
    return {
      records: ordered(byEvent),
      missing: count > 0 ? { count, reason: read.reason } : { count: 0 },
      streamRead: true,
    };
  }
  const delivered = read.records.filter((record) => sources.pipeDelivers(record));
  const unknown = delivered.filter((record) => !byEvent.has(record.eventID)).map((record) => record.eventID);
  const late = unknown.length > 0 ? await sources.journal.entriesFor(pipe, unknown) : new Map<string, JournalEntry>();
  for (const record of delivered) {
    const known = byEvent.get(record.eventID);
    const entry = known?.journal ?? late.get(record.eventID);
    if (known && !known.truncated) continue;
    if (entry && !entry.recordTruncated) {
      byEvent.set(record.eventID, fromJournal(entry));
      continue;
    }
    // From the stream: the journal has no entry, or only a truncated copy (whose error is kept with the record).
    byEvent.set(record.eventID, {
      eventId: record.eventID,
      sequenceNumber: record.dynamodb.SequenceNumber,
      json: JSON.stringify(record),
      source: 'stream',
      truncated: false,
      ...(entry ? { journal: entry } : {}),
    });
  }
  const count = Math.max(0, info.batchSize - byEvent.size);
  return {
    records: ordered(byEvent),
    missing:
      count > 0
        ? {
            count,
            reason: `the batch had ${info.batchSize} records; ${byEvent.size} were found in the journal and the stream's range`,
          }
        : { count: 0 },
    streamRead: true,
  };
}

function fromJournal(entry: JournalEntry): CapturedRecord {
  return {
    eventId: entry.eventId,
    sequenceNumber: entry.sequenceNumber,
    json: entry.record,
    source: 'journal',
    truncated: entry.recordTruncated,
    journal: entry,
  };
}

function ordered(records: Map<string, CapturedRecord>): CapturedRecord[] {
  return [...records.values()].sort((a, b) => compareSequence(a.sequenceNumber, b.sequenceNumber));
}
