import { CLAIM_VISIBILITY_SECONDS, type QueuedMessage } from './dlq-queue.ts';

/** Bounds of how far a job's claim runs ahead of its work, in messages and in seconds of work at the measured pace. */
export const MIN_CLAIM_AHEAD = 10;
export const MAX_CLAIM_AHEAD = 500;
export const CLAIM_AHEAD_SECONDS = 10;
/** A waiting batch is hidden again once it has waited this long (a third of the claim's visibility timeout)... */
export const KEEP_HIDDEN_AFTER_MS = (CLAIM_VISIBILITY_SECONDS * 1000) / 3;
/** ...checked this often. */
const KEEP_HIDDEN_CHECK_MS = 5_000;

/**
 * Messages claimed but not yet started, between a redrive job's claim (producer) and its batches (consumer). The claim
 * may run ahead by what the job works through in {@link CLAIM_AHEAD_SECONDS} at the pace measured so far (until the
 * first batch finishes, at the rate asked for), at most what its `ratePerSecond` allows in that time and
 * {@link MAX_CLAIM_AHEAD}, at least {@link MIN_CLAIM_AHEAD}. So a claimed message normally waits seconds for its turn;
 * should the work slow down (a processor timing out), batches that have waited {@link KEEP_HIDDEN_AFTER_MS} are hidden
 * for another visibility timeout (`keepHidden`), so no claimed message reappears in the DLQ while the job holds it.
 */
export class ClaimAhead {
  private readonly queue: { messages: QueuedMessage[]; hiddenAt: number }[] = [];
  private waiting: (() => void)[] = [];
  private queued = 0;
  private done = 0;
  private ended = false;
  private readonly startedAt = Date.now();
  private readonly keeper: NodeJS.Timeout;
  /** Set when the job stopped taking batches (it failed); the claim stops too. */
  abandoned = false;

  constructor(
    private readonly ratePerSecond: number,
    private readonly keepHidden: (messages: QueuedMessage[]) => Promise<void>,
  ) {
    this.keeper = setInterval(() => this.keepWaitingHidden(), KEEP_HIDDEN_CHECK_MS);
    this.keeper.unref();
  }

  /** Adds a claimed batch; resolves once there is room for more (or `stop()` answers true, or it was abandoned). */
  async put(messages: QueuedMessage[], stop: () => boolean): Promise<void> {
    this.queue.push({ messages, hiddenAt: Date.now() });
    this.queued += messages.length;
    this.notify();
    while (!stop() && !this.abandoned && this.queued >= this.limit()) await this.changed();
  }

  /** The next claimed batch; `undefined` once the claim has ended and every batch was taken. */
  async take(): Promise<QueuedMessage[] | undefined> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        this.queued -= next.messages.length;
        this.notify();
        return next.messages;
      }
      if (this.ended) return undefined;
      await this.changed();
    }
  }

  /** A batch was worked through (the pace that sets how far the claim may run ahead). */
  finished(messages: number): void {
    this.done += messages;
    this.notify();
  }

  /** The claim has ended: no more batches. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Stops the claim: it ends after its current receive. */
  abandon(): void {
    this.abandoned = true;
    this.notify();
  }

  /** The messages claimed and never taken (all of them once the claim has ended). */
  leftover(): QueuedMessage[] {
    const left = this.queue.splice(0).flatMap((entry) => entry.messages);
    this.queued = 0;
    return left;
  }

  close(): void {
    clearInterval(this.keeper);
  }

  /** How many claimed messages may wait. */
  limit(): number {
    const seconds = Math.max(0.001, (Date.now() - this.startedAt) / 1000);
    const measured = this.done > 0 ? (this.done / seconds) * CLAIM_AHEAD_SECONDS : Number.POSITIVE_INFINITY;
    const allowed = Math.min(MAX_CLAIM_AHEAD, this.ratePerSecond * CLAIM_AHEAD_SECONDS, measured);
    return Math.max(MIN_CLAIM_AHEAD, Math.round(allowed));
  }

  private keepWaitingHidden(): void {
    const now = Date.now();
    const due = this.queue.filter((entry) => now - entry.hiddenAt >= KEEP_HIDDEN_AFTER_MS);
    if (due.length === 0) return;
    for (const entry of due) entry.hiddenAt = now;
    // A failed extension is retried at the next check; the visibility timeout still has two thirds to run.
    this.keepHidden(due.flatMap((entry) => entry.messages)).catch(() => {
      for (const entry of due) entry.hiddenAt = now - KEEP_HIDDEN_AFTER_MS;
    });
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private notify(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
