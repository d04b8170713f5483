import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NotificationEnvelope } from './envelope.ts';

/**
 * Where email deliveries land locally: one file per delivered message, `<stateDir>/outbox/<time>_<messageId>_<to>.json`,
 * holding the notification as an `email-json` subscriber receives it. Nothing is sent anywhere. Files stay across
 * starts (a mailbox keeps its mail); `list()` reads the directory, newest first.
 */
export interface OutboxMessage {
  /** The file's name in the outbox directory. */
  readonly file: string;
  /** The subscription's endpoint (the email address). */
  readonly to: string;
  /** ISO 8601, when the runtime delivered it. */
  readonly deliveredAt: string;
  readonly notification: NotificationEnvelope;
}

export interface OutboxQuery {
  /** Only messages to this address. */
  readonly to?: string;
  /** Only messages delivered at or after this time (epoch ms). */
  readonly since?: number;
  /** At most this many, newest first (default 100). */
  readonly limit?: number;
}

const NAME = /^(\d{8}T\d{9}Z)_([0-9a-f-]{36})_(.+)\.json$/;

/** `2026-12-07T10:15:00.123Z` → `20261207T101500123Z`: sortable, and safe in a file name. */
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:.]/g, '');
const unstamp = (text: string) =>
  `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(9, 11)}:${text.slice(11, 13)}:${text.slice(13, 15)}.${text.slice(15, 18)}Z`;

export class Outbox {
  private readonly listeners = new Set<(message: OutboxMessage) => void>();

  constructor(readonly dir: string) {}

  /** Writes one delivered message; returns what `list()` will show for it. */
  deliver(to: string, notification: NotificationEnvelope, at = Date.now()): OutboxMessage {
    mkdirSync(this.dir, { recursive: true });
    const file = `${stamp(at)}_${notification.MessageId}_${encodeURIComponent(to)}.json`;
    writeFileSync(join(this.dir, file), `${JSON.stringify(notification, null, 2)}\n`);
    const message: OutboxMessage = { file, to, deliveredAt: new Date(at).toISOString(), notification };
    for (const listener of this.listeners) listener(message);
    return message;
  }

  list(query: OutboxQuery = {}): OutboxMessage[] {
    if (!existsSync(this.dir)) return [];
    const limit = query.limit ?? 100;
    const out: OutboxMessage[] = [];
    const files = readdirSync(this.dir)
      .filter((file) => NAME.test(file))
      .sort()
      .reverse();
    for (const file of files) {
      if (out.length >= limit) break;
      const [, time = '', , encodedTo = ''] = NAME.exec(file) ?? [];
      const deliveredAt = unstamp(time);
      if (query.since !== undefined && Date.parse(deliveredAt) < query.since) break;
      const to = decodeURIComponent(encodedTo);
      if (query.to !== undefined && to !== query.to) continue;
      let notification: NotificationEnvelope;
      try {
        notification = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as NotificationEnvelope;
      } catch {
        continue; // a file being written, or edited by hand
      }
      out.push({ file, to, deliveredAt, notification });
    }
    return out;
  }

  /** Called with each message as it is delivered; returns the unsubscribe function. */
  subscribe(listener: (message: OutboxMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
