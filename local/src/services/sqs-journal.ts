import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** The part of a fauxqs message that the journal keeps (all of it, as fauxqs 1.9.2 stores it). */
export interface JournaledMessage {
  readonly messageId: string;
  readonly sentTimestamp: number;
  approximateReceiveCount: number;
  readonly [field: string]: unknown;
}

type Entry = { sent: JournaledMessage } | { deleted: string } | { purged: true };

export class QueueJournalError extends Error {
  override readonly name = 'QueueJournalError';
}

/** Dead entries (sent, then deleted) tolerated before the file is rewritten with the live messages only. */
const COMPACT_AFTER_DEAD = 10_000;

/**
 * One queue's messages on disk, so that `--data-dir` keeps SQS state across a restart or a crash, as SQS outlives
 * any compute in AWS. An append-only NDJSON file: a line per message sent, deleted or purge. Each line is written
 * with one `write(2)` before the SQS call answers, so a killed process loses nothing it acknowledged (a power cut may
 * lose the tail the OS had not flushed; this is a development emulator, not a database).
 *
 * What comes back: every message sent and not deleted, in send order, visible (a receive in flight when the process
 * died is forgotten; its visibility timeout would have expired anyway), with its id, body, attributes, sent time and
 * receive count as of its last journal write. FIFO ordering state and deduplication windows are not kept.
 */
export class QueueJournal {
  private readonly live = new Map<string, JournaledMessage>();
  private fd: number | undefined;
  private dead = 0;

  private constructor(readonly file: string) {}

  /** Reads the journal (if any) and rewrites it compacted; the messages to put back in the queue, oldest first. */
  static open(file: string): { journal: QueueJournal; messages: JournaledMessage[] } {
    const journal = new QueueJournal(file);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      if (line === '') return;
      let entry: Entry;
      try {
        entry = JSON.parse(line) as Entry;
      } catch (error: unknown) {
        // A process killed mid-write leaves at most a torn last line; anything else is damage worth stopping for.
        if (index === lines.length - 1) return;
        throw new QueueJournalError(
          `SQS journal ${file} line ${index + 1} is not JSON; move the file away to start that queue empty`,
          { cause: error },
        );
      }
      journal.apply(entry);
    });
    mkdirSync(dirname(file), { recursive: true });
    journal.compact();
    return { journal, messages: [...journal.live.values()] };
  }

  /** The queue accepted a message (a send, or a move from another queue by its RedrivePolicy). */
  sent(message: JournaledMessage): void {
    this.live.set(message.messageId, message);
    this.append({ sent: message });
  }

  /** A consumer deleted a message. */
  deleted(messageId: string): void {
    if (!this.live.delete(messageId)) return;
    this.append({ deleted: messageId });
    if (++this.dead > COMPACT_AFTER_DEAD && this.dead > this.live.size) this.compact();
  }

  purged(): void {
    this.live.clear();
    this.append({ purged: true });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private apply(entry: Entry): void {
    if ('sent' in entry) this.live.set(entry.sent.messageId, entry.sent);
    else if ('deleted' in entry) this.live.delete(entry.deleted);
    else if ('purged' in entry) this.live.clear();
  }

  private append(entry: Entry): void {
    if (this.fd === undefined) throw new QueueJournalError(`SQS journal ${this.file} is closed`);
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }

  /** Rewrites the file with one `sent` line per live message (written aside, then renamed over the old one). */
  private compact(): void {
    this.close();
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, [...this.live.values()].map((sent) => `${JSON.stringify({ sent })}\n`).join(''));
    renameSync(temporary, this.file);
    this.fd = openSync(this.file, 'a');
    this.dead = 0;
  }
}
