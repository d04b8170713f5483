import { randomBytes } from 'node:crypto';
import { localLogGroupName } from '../template/described-resources.ts';
import type { LoadedTemplate } from '../template/local-plan.ts';

/**
 * The functions' log events as CloudWatch Logs would hold them, for the local Logs API (`api.ts`): one log group per
 * function, as its `LoggingConfig.LogGroup` names it (the template's own log group, or `/aws/lambda/<name>`), and the
 * template's other `AWS::Logs::LogGroup`s, which stay empty (nothing local writes the pipes' execution logs). Each
 * group keeps its most recent events in memory, up to {@link LOG_BYTES_KEPT_PER_GROUP} of messages (the runtime's
 * memory stays bounded however long it runs: at most a few groups of 4 MiB); when a group passes it, its oldest
 * quarter goes at once (one splice, not one per event). The functions' log files (`<state dir>/logs/`) keep more,
 * without timestamps.
 */
export const LOG_BYTES_KEPT_PER_GROUP = 4 * 1024 * 1024;

/** The local names of the template's log groups. */
export function templateLogGroupNames(loaded: LoadedTemplate): string[] {
  return Object.entries(loaded.template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Logs::LogGroup')
    .map(([id, resource]) => localLogGroupName(id, resource.Properties));
}

export interface LogEvent {
  readonly logStreamName: string;
  readonly timestamp: number;
  readonly ingestionTime: number;
  readonly message: string;
  readonly eventId: string;
  /** Position in its group, counting from the group's first event (a page token resumes after it). */
  readonly sequence: number;
}

interface LogGroup {
  readonly name: string;
  readonly creationTime: number;
  readonly events: LogEvent[];
  /** Bytes of the messages kept. */
  bytes: number;
  /** Sequence of the next event. */
  next: number;
  /** Stream of each writer (a function's runtime instance), named as Lambda names them. */
  readonly streams: Map<string, string>;
}

export class LogFilterPatternError extends Error {
  override readonly name = 'LogFilterPatternError';
}

/**
 * A filter pattern of the term syntax (CloudWatch Logs user guide, "Filter pattern syntax for metric filters,
 * subscription filters, filter log events, and Live Tail", matching terms in unstructured log events): terms and
 * "quoted phrases" must all appear (case-sensitive); `?term` matches an event with any of the `?` terms; `-term`
 * excludes. JSON (`{ ... }`) and space-delimited (`[ ... ]`) patterns and regular expressions (`%...%`) are not
 * emulated: refused with a message saying so, never treated as matching everything.
 */
export function parseFilterPattern(pattern: string | undefined): (message: string) => boolean {
  const text = (pattern ?? '').trim();
  if (text === '' || text === '""') return () => true;
  if (/^[{[%]/.test(text))
    throw new LogFilterPatternError(
      `filter pattern '${text}': the local runtime matches terms, "quoted phrases", ?any and -excluded terms only; JSON, space-delimited and regular-expression patterns are not emulated`,
    );
  const all: string[] = [];
  const any: string[] = [];
  const none: string[] = [];
  for (const match of text.matchAll(/([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)) {
    const term = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '');
    if (term === '') continue;
    (match[1] === '?' ? any : match[1] === '-' ? none : all).push(term);
  }
  return (message) =>
    all.every((term) => message.includes(term)) &&
    (any.length === 0 || any.some((term) => message.includes(term))) &&
    !none.some((term) => message.includes(term));
}

export interface FilterQuery {
  readonly group: string;
  readonly streams?: readonly string[];
  readonly streamPrefix?: string;
  readonly startTime?: number;
  readonly endTime?: number;
  readonly matches: (message: string) => boolean;
  readonly limit: number;
  /** Sequence to resume at (from a page token). */
  readonly from?: number;
}

export class LogEventStore {
  private readonly groups = new Map<string, LogGroup>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly bytesPerGroup = LOG_BYTES_KEPT_PER_GROUP,
  ) {}

  /** A log group of the template (created with the stack, empty until something writes to it). */
  declare(name: string): void {
    if (!this.groups.has(name))
      this.groups.set(name, { name, creationTime: this.now(), events: [], bytes: 0, next: 0, streams: new Map() });
  }

  has(name: string): boolean {
    return this.groups.has(name);
  }

  /** Group names with their creation time and stored bytes, sorted by name (DescribeLogGroups' order). */
  describe(): { name: string; creationTime: number; storedBytes: number }[] {
    return [...this.groups.values()]
      .map((group) => ({
        name: group.name,
        creationTime: group.creationTime,
        storedBytes: group.bytes,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** One event written by `writer` (a function name) to `groupName` now. */
  append(groupName: string, writer: string, message: string): void {
    this.declare(groupName);
    const group = this.groups.get(groupName) as LogGroup;
    const timestamp = this.now();
    let stream = group.streams.get(writer);
    if (!stream) {
      // Lambda's stream name: date, version, an instance id (Lambda developer guide, "Log stream").
      const day = new Date(timestamp).toISOString().slice(0, 10).replaceAll('-', '/');
      stream = `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
      group.streams.set(writer, stream);
    }
    const sequence = group.next++;
    group.events.push({
      logStreamName: stream,
      timestamp,
      ingestionTime: timestamp,
      message,
      eventId: `${String(timestamp).padStart(20, '0')}${String(sequence).padStart(36, '0')}`.slice(0, 56),
      sequence,
    });
    group.bytes += Buffer.byteLength(message);
    if (group.bytes > this.bytesPerGroup) {
      let drop = 0;
      let dropped = 0;
      while (drop < group.events.length - 1 && group.bytes - dropped > this.bytesPerGroup * 0.75)
        dropped += Buffer.byteLength((group.events[drop++] as LogEvent).message);
      group.events.splice(0, drop);
      group.bytes -= dropped;
    }
  }

  /** Events of a group in time order, from `from`, at most `limit`; `next` when more may follow. */
  filter(query: FilterQuery): { events: LogEvent[]; next?: number } | undefined {
    const group = this.groups.get(query.group);
    if (!group) return undefined;
    const events: LogEvent[] = [];
    for (const event of group.events) {
      if (query.from !== undefined && event.sequence < query.from) continue;
      if (query.startTime !== undefined && event.timestamp < query.startTime) continue;
      if (query.endTime !== undefined && event.timestamp > query.endTime) continue;
      if (query.streams && !query.streams.includes(event.logStreamName)) continue;
      if (query.streamPrefix !== undefined && !event.logStreamName.startsWith(query.streamPrefix)) continue;
      if (!query.matches(event.message)) continue;
      if (events.length === query.limit) return { events, next: event.sequence };
      events.push(event);
    }
    return { events };
  }
}
