import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** One refused request, as `<stateDir>/denials.ndjson` and `GET <lambda>/_local/denials` list it. */
export interface Denial {
  /** ISO 8601. */
  readonly time: string;
  /** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, a service principal (`cloudwatch.amazonaws.com`), or `anonymous`. */
  readonly principal: string;
  /** The role's logical id in the template, when a role acted. */
  readonly role?: string;
  readonly action: string;
  readonly resource: string;
  /** The evaluator's reason (`no-identity-allow`, `explicit-deny-resource`, ...) or `unsigned`. */
  readonly reason: string;
  /** The message the caller received, AWS's wording. */
  readonly message: string;
  /** The statement that denied, when an explicit Deny did (the evaluator's `policy`). */
  readonly policy?: string;
  /** Where the request came in: `dynamodb`, `sqs`, `lambda`, `cloudwatch`, or `pipe` for a pipe's own invocation. */
  readonly endpoint: string;
}

export interface DenialQuery {
  /** Most recent first, at most this many (default 100, at most the kept 1,000). */
  readonly limit?: number;
  /** Only denials at or after this time (ms since epoch). */
  readonly since?: number;
  readonly role?: string;
}

/** Recent denials kept in memory for the endpoint and the ops API; the file keeps them all. */
const KEPT = 1000;

/**
 * Every denial of the run: appended to an NDJSON file (one `write(2)` per line, so a killed runtime loses none; the
 * file starts empty with each run, whose keys are new) and kept in memory, most recent 1,000, for `list()`.
 */
export class DenialLog {
  private readonly recent: Denial[] = [];
  private fd: number | undefined;
  private total = 0;
  private readonly listeners = new Set<(denial: Denial) => void>();

  constructor(readonly file: string | undefined) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      this.fd = openSync(file, 'w');
    }
  }

  record(denial: Denial): void {
    this.total++;
    this.recent.push(denial);
    if (this.recent.length > KEPT) this.recent.splice(0, this.recent.length - KEPT);
    if (this.fd !== undefined) writeSync(this.fd, `${JSON.stringify(denial)}\n`);
    for (const listener of this.listeners) listener(denial);
  }

  /** Denials recorded since the start, including those no longer kept in memory. */
  get count(): number {
    return this.total;
  }

  list(query: DenialQuery = {}): Denial[] {
    const limit = Math.min(Math.max(0, query.limit ?? 100), KEPT);
    const out: Denial[] = [];
    for (let i = this.recent.length - 1; i >= 0 && out.length < limit; i--) {
      const denial = this.recent[i] as Denial;
      if (query.since !== undefined && Date.parse(denial.time) < query.since) break;
      if (query.role !== undefined && denial.role !== query.role) continue;
      out.push(denial);
    }
    return out;
  }

  /** Called with each denial as it is recorded; returns the unsubscribe function. */
  subscribe(listener: (denial: Denial) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
