import { createHash } from 'node:crypto';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import {
  causePartition,
  counterPartition,
  DEAD_LETTER_BODY_PREFIX,
  DEAD_LETTER_COUNTER_SHARDS,
  DEAD_LETTER_INDEX_SHARDS,
  DEAD_LETTER_INDEXES,
  DEAD_LETTER_KEYS,
  DEAD_LETTER_RECORD_PREFIX,
  DEAD_LETTER_STATES,
  type DeadLetterState,
  deadLetterKey,
  PIPE_KEYS,
  type PipeKey,
  pipeStatePartition,
} from '@orderflow/pipeline/facts';
import {
  assembleDeadLetterRecords,
  type DeadLetter,
  deadLetterCauseKey,
  parseDeadLetter,
} from '@orderflow/pipeline/schemas';
import { BadRequestError, NotFoundError } from '../errors.ts';

/**
 * Reads of the dead-letter store (docs/ARCHITECTURE.md, "Dead-letter store", "Reads"): list, search, count and group
 * dead letters from the table and its indexes only, never from the DLQs (no ReceiveMessage). The calls are Query (the
 * table and both indexes) and BatchGetItem (the page's dead letters); the stack grants exactly these.
 *
 * Index reads are eventually consistent (a global secondary index supports no other: DynamoDB developer guide, "Read
 * consistency", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html):
 * a dead letter captured a moment ago can be missing from a list for that moment. Reads of the table itself (a dead
 * letter, an order's links, the counters, a page's items) are strongly consistent.
 */

export interface DeadLetterFilters {
  readonly pipe?: PipeKey | undefined;
  readonly state?: DeadLetterState | undefined;
  readonly orderId?: string | undefined;
  /** Substring, case-insensitive, of an order id, a customer email, the cause's message or signature. */
  readonly q?: string | undefined;
  /** A cause key (32 hex digits) or a cause signature. */
  readonly cause?: string | undefined;
  /** ISO 8601 bounds on `failedAt`, inclusive. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

export interface ListDeadLettersQuery extends DeadLetterFilters {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** A list row: the dead letter item without its per-record JSON (in record items) and its body parts. */
export interface DeadLetterRow {
  readonly id: string;
  readonly kind: DeadLetter['kind'];
  readonly pipe: PipeKey;
  readonly state: DeadLetterState;
  readonly failedAt: string;
  readonly capturedAt: string;
  readonly firstFailureAt: string;
  readonly lastFailureAt: string;
  readonly orderIds: string[];
  readonly cause: DeadLetter['cause'];
  readonly expectedRecords: number;
  readonly recordCount: number;
  readonly missingRecords: number;
  readonly records: DeadLetter['records'];
  /** The DLQ body as sent; null when it was over 32 KB and is kept in body parts (`GET /api/dead-letters/{id}`). */
  readonly dlqBody: string | null;
  readonly dlqBodyParts: number;
}

export interface DeadLetterPage {
  readonly deadLetters: DeadLetterRow[];
  readonly cursor: string | null;
  readonly total: number;
  /** How `total` was obtained: the counters, or a count over what the query reads. */
  readonly totalFrom: 'counters' | 'query';
}

export interface DeadLetterDetail extends Omit<DeadLetter, 'dlqBody'> {
  /** The DLQ body exactly as it was sent, joined from its body parts when it was split. */
  readonly dlqBody: string;
  /** Each record's stream record JSON as the pipe delivered it (joined from its parts), in sequence order. */
  readonly streamRecords: { eventId: string; json: string }[];
}

export interface CauseGroup {
  readonly signature: string;
  readonly key: string;
  readonly message: string;
  readonly count: number;
  readonly firstAt: string | null;
  readonly lastAt: string | null;
  readonly pipes: PipeKey[];
}

/** An index row: the projected attributes (`DEAD_LETTER_INDEX_PROJECTION`) and the index keys. */
interface IndexRow {
  readonly id: string;
  readonly pipe: PipeKey;
  readonly state: DeadLetterState;
  readonly failedAt: string;
  readonly orderIds?: string[];
  readonly emails?: string[];
  readonly cause?: { signature?: string; message?: string; key?: string };
}

/**
 * One sorted source of rows, newest first: a Query of one index partition (or one order's links) between two sort
 * keys. `prefix` is what the sort key holds before `<failedAt>#<id>` (the state, in `byCause`).
 */
interface Stream {
  readonly input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'Limit' | 'ScanIndexForward' | 'Select'>;
  readonly sortKey: string;
  readonly prefix: string;
  readonly lower: string;
  readonly upper: string;
}

const CAUSE_KEY = /^[0-9a-f]{32}$/;
/** Sorts after every `<failedAt>#<id>` sort key of the same `failedAt` prefix (ids are ASCII). */
const HIGHEST = '~';
/**
 * Sorts before every `failedAt` (ISO 8601, a 4-digit year): a key condition's bound may not be an empty string (a key
 * attribute value cannot be empty, DynamoDB developer guide, "Supported data types").
 */
const LOWEST = '0';
/** BatchGetItem takes at most 100 keys a call (DynamoDB API reference, BatchGetItem). */
const KEYS_PER_BATCH_GET = 100;
const MAX_BATCH_GET_ROUNDS = 6;
const CURSOR_VERSION = 1;
/** The least a stream reads first (a share of the page below this costs a round trip more than it saves). */
const MIN_FIRST_READ = 4;

export class DeadLetterReader {
  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** A page of dead letters matching the filters, newest first, with the exact number matching. */
  async list(query: ListDeadLettersQuery): Promise<DeadLetterPage> {
    const filters = normalizeFilters(query);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, filters);
    const [rows, counted] = await Promise.all([this.page(filters, query.limit, after), this.total(filters)]);
    const items = await this.batchGet(rows.rows.map((row) => row.id));
    const deadLetters = rows.rows.flatMap((row) => {
      const item = items.get(row.id);
      return item ? [toRow(parseDeadLetter(item))] : [];
    });
    const last = rows.rows.at(-1);
    return {
      deadLetters,
      cursor: rows.more && last ? encodeCursor(mergeKey(last), filters) : null,
      total: counted.total,
      totalFrom: counted.from,
    };
  }

  /** One dead letter whole: the item, its records' JSON and its DLQ body (joined from its parts when split). */
  async get(id: string): Promise<DeadLetterDetail> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const answer: QueryCommandOutput = await this.dynamodb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': DEAD_LETTER_KEYS.partitionKey },
          ExpressionAttributeValues: { ':pk': deadLetterKey(id).pk },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(answer.Items ?? []));
      start = answer.LastEvaluatedKey;
    } while (start);
    const sortKeyOf = (item: Record<string, unknown>) => String(item[DEAD_LETTER_KEYS.sortKey] ?? '');
    const main = items.find((item) => sortKeyOf(item) === deadLetterKey(id).sk);
    if (!main) throw new NotFoundError(`no dead letter with id ${JSON.stringify(id)}`);
    const deadLetter = parseDeadLetter(main);
    const streamRecords = assembleDeadLetterRecords(
      items.filter((item) => sortKeyOf(item).startsWith(DEAD_LETTER_RECORD_PREFIX)),
    );
    const bodyParts = items
      .filter((item) => sortKeyOf(item).startsWith(DEAD_LETTER_BODY_PREFIX))
      .sort((a, b) => Number(a.part) - Number(b.part));
    if (bodyParts.length !== deadLetter.dlqBodyParts) {
      throw new Error(
        `dead letter ${id}: ${bodyParts.length} of ${deadLetter.dlqBodyParts} body parts stored; the store is inconsistent`,
      );
    }
    const dlqBody =
      deadLetter.dlqBodyParts > 0 ? bodyParts.map((part) => String(part.text)).join('') : deadLetter.dlqBody;
    return { ...deadLetter, dlqBody, streamRecords };
  }

  /**
   * Dead letters grouped by cause, largest first: counts from the counters (a sum over the counter shards), first and
   * last failure from the `byCause` index (per state, per index shard: the first entry forward and backward).
   */
  async causes(filters: { pipe?: PipeKey | undefined; state?: DeadLetterState | undefined }): Promise<CauseGroup[]> {
    const counters = await this.counters(filters.pipe ? [filters.pipe] : PIPE_KEYS, filters.state);
    const groups = new Map<
      string,
      { signature: string; message: string; count: number; pipes: Set<PipeKey>; states: Set<DeadLetterState> }
    >();
    for (const counter of counters) {
      if (counter.count <= 0) continue;
      const group = groups.get(counter.causeKey) ?? {
        signature: counter.signature,
        message: counter.message,
        count: 0,
        pipes: new Set<PipeKey>(),
        states: new Set<DeadLetterState>(),
      };
      group.count += counter.count;
      group.pipes.add(counter.pipe);
      group.states.add(counter.state);
      groups.set(counter.causeKey, group);
    }
    const answered = await Promise.all(
      [...groups.entries()].map(async ([key, group]): Promise<CauseGroup> => {
        const bounds = await Promise.all([...group.states].map((state) => this.causeBounds(key, state, filters.pipe)));
        const firsts = bounds.flatMap((bound) => (bound.first ? [bound.first] : [])).sort();
        const lasts = bounds.flatMap((bound) => (bound.last ? [bound.last] : [])).sort();
        return {
          signature: group.signature,
          key,
          message: group.message,
          count: group.count,
          firstAt: firsts[0] ?? null,
          lastAt: lasts.at(-1) ?? null,
          pipes: PIPE_KEYS.filter((pipe) => group.pipes.has(pipe)),
        };
      }),
    );
    return answered.sort((a, b) => b.count - a.count || (a.signature < b.signature ? -1 : 1));
  }

  /** The first and last `failedAt` of a cause's dead letters in one state (of one pipe), over the index shards. */
  private async causeBounds(
    causeKey: string,
    state: DeadLetterState,
    pipe: PipeKey | undefined,
  ): Promise<{ first?: string; last?: string }> {
    const index = DEAD_LETTER_INDEXES.byCause;
    const edge = async (shard: number, forward: boolean): Promise<string | undefined> => {
      let start: Record<string, unknown> | undefined;
      do {
        // With a pipe, the index holds both pipes' dead letters of the cause: the filter applies after `Limit`, so
        // read on until one of the pipe's appears (DynamoDB developer guide, "Filter expressions for the Query
        // operation", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.FilterExpression.html).
        const answer: QueryCommandOutput = await this.dynamodb.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: index.name,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :state)',
            ExpressionAttributeNames: {
              '#pk': index.partitionKey,
              '#sk': index.sortKey,
              '#failedAt': 'failedAt',
              ...(pipe ? { '#pipe': 'pipe' } : {}),
            },
            ExpressionAttributeValues: {
              ':pk': causePartition(causeKey, shard),
              ':state': `${state}#`,
              ...(pipe ? { ':pipe': pipe } : {}),
            },
            ...(pipe ? { FilterExpression: '#pipe = :pipe' } : {}),
            ProjectionExpression: '#failedAt',
            ScanIndexForward: forward,
            Limit: pipe ? 100 : 1,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        const found = answer.Items?.[0]?.failedAt;
        if (typeof found === 'string') return found;
        start = answer.LastEvaluatedKey;
      } while (start);
      return undefined;
    };
    const shards = Array.from({ length: DEAD_LETTER_INDEX_SHARDS }, (_, shard) => shard);
    const [firsts, lasts] = await Promise.all([
      Promise.all(shards.map((shard) => edge(shard, true))),
      Promise.all(shards.map((shard) => edge(shard, false))),
    ]);
    const first = firsts.flatMap((value) => (value ? [value] : [])).sort()[0];
    const last = lasts
      .flatMap((value) => (value ? [value] : []))
      .sort()
      .at(-1);
    return { ...(first ? { first } : {}), ...(last ? { last } : {}) };
  }

  /** Every counter item of these pipes (16 counter shards each), optionally of one state. */
  private async counters(
    pipes: readonly PipeKey[],
    state: DeadLetterState | undefined,
  ): Promise<
    { pipe: PipeKey; state: DeadLetterState; causeKey: string; signature: string; message: string; count: number }[]
  > {
    const partitions = pipes.flatMap((pipe) =>
      Array.from({ length: DEAD_LETTER_COUNTER_SHARDS }, (_, shard) => counterPartition(pipe, shard)),
    );
    const pages = await Promise.all(
      partitions.map((partition) =>
        this.queryAll({
          TableName: this.table,
          KeyConditionExpression: state ? '#pk = :pk AND begins_with(#sk, :state)' : '#pk = :pk',
          ExpressionAttributeNames: {
            '#pk': DEAD_LETTER_KEYS.partitionKey,
            ...(state ? { '#sk': DEAD_LETTER_KEYS.sortKey } : {}),
          },
          ExpressionAttributeValues: { ':pk': partition, ...(state ? { ':state': `${state}#` } : {}) },
        }),
      ),
    );
    return pages.flat().map((item) => ({
      pipe: item.pipe as PipeKey,
      state: item.state as DeadLetterState,
      causeKey: String(item.causeKey),
      signature: String(item.signature ?? ''),
      message: String(item.message ?? ''),
      count: Number(item.count ?? 0),
    }));
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const answer: QueryCommandOutput = await this.dynamodb.send(
        new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      items.push(...(answer.Items ?? []));
      start = answer.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /**
   * The exact number of dead letters matching: from the counters when the filters are only pipe, state and cause
   * (each counter is exact: it moves in the transaction that writes the dead letter); otherwise a count over the rows
   * the list's queries read (`Select: COUNT` when no filter applies in memory).
   */
  private async total(filters: NormalizedFilters): Promise<{ total: number; from: 'counters' | 'query' }> {
    if (filters.orderId === undefined && filters.q === undefined && !filters.from && !filters.to) {
      const counters = await this.counters(filters.pipe ? [filters.pipe] : PIPE_KEYS, filters.state);
      const total = counters
        .filter((counter) => filters.causeKey === undefined || counter.causeKey === filters.causeKey)
        .reduce((sum, counter) => sum + counter.count, 0);
      return { total, from: 'counters' };
    }
    if (filters.orderId !== undefined) {
      return { total: (await this.orderRows(filters)).length, from: 'query' };
    }
    const streams = this.streams(filters);
    const inMemory = needsRowFilter(filters);
    const counts = await Promise.all(
      streams.map(async (stream) => {
        let count = 0;
        let start: Record<string, unknown> | undefined;
        do {
          const answer: QueryCommandOutput = await this.dynamodb.send(
            new QueryCommand({
              ...stream.input,
              // Rows filtered here need only what the filters read (index reads are charged by size).
              ...(inMemory
                ? {
                    ProjectionExpression: '#id, #pipe, #state, #failedAt, #orderIds, #emails, #cause',
                    ExpressionAttributeNames: {
                      ...stream.input.ExpressionAttributeNames,
                      '#id': 'id',
                      '#pipe': 'pipe',
                      '#state': 'state',
                      '#failedAt': 'failedAt',
                      '#orderIds': 'orderIds',
                      '#emails': 'emails',
                      '#cause': 'cause',
                    },
                  }
                : { Select: 'COUNT' }),
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          );
          count += inMemory
            ? (answer.Items ?? []).filter((row) => matches(row as unknown as IndexRow, filters)).length
            : (answer.Count ?? 0);
          start = answer.LastEvaluatedKey;
        } while (start);
        return count;
      }),
    );
    return { total: counts.reduce((sum, count) => sum + count, 0), from: 'query' };
  }

  /** The index queries a filter set reads: one per index shard (and pipe and state, or state for a cause). */
  private streams(filters: NormalizedFilters): Stream[] {
    const lower = filters.from ?? LOWEST;
    const upper = `${filters.to ?? ''}${HIGHEST}`;
    const states = filters.state ? [filters.state] : DEAD_LETTER_STATES;
    const shards = Array.from({ length: DEAD_LETTER_INDEX_SHARDS }, (_, shard) => shard);
    const stream = (
      index: (typeof DEAD_LETTER_INDEXES)[keyof typeof DEAD_LETTER_INDEXES],
      partition: string,
      prefix: string,
    ): Stream => ({
      input: {
        TableName: this.table,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lower AND :upper',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: { ':pk': partition, ':lower': `${prefix}${lower}`, ':upper': `${prefix}${upper}` },
      },
      sortKey: index.sortKey,
      prefix,
      lower: `${prefix}${lower}`,
      upper: `${prefix}${upper}`,
    });
    if (filters.causeKey !== undefined) {
      const causeKey = filters.causeKey;
      return states.flatMap((state) =>
        shards.map((shard) => stream(DEAD_LETTER_INDEXES.byCause, causePartition(causeKey, shard), `${state}#`)),
      );
    }
    const pipes = filters.pipe ? [filters.pipe] : PIPE_KEYS;
    return pipes.flatMap((pipe) =>
      states.flatMap((state) =>
        shards.map((shard) => stream(DEAD_LETTER_INDEXES.byPipeState, pipeStatePartition(pipe, state, shard), '')),
      ),
    );
  }

  /**
   * The page's rows in order: a k-way merge of the streams by `<failedAt>#<id>`, newest first, each stream read
   * lazily in pages from just below the cursor (its sort key `<= after`; the row equal to it was the last one given).
   */
  private async page(
    filters: NormalizedFilters,
    limit: number,
    after: string | undefined,
  ): Promise<{ rows: IndexRow[]; more: boolean }> {
    if (filters.orderId !== undefined) {
      const rows = (await this.orderRows(filters)).filter((row) => after === undefined || mergeKey(row) < after);
      return { rows: rows.slice(0, limit), more: rows.length > limit };
    }
    const streams = this.streams(filters);
    // Rows spread over the streams (a write shard is a hash of the id), so each starts with a share of the page and
    // reads a full page only when the merge empties it: 40 streams of a 50-row page read ~200 rows, not 40 pages.
    const first = Math.min(limit + 1, Math.max(MIN_FIRST_READ, Math.ceil((2 * (limit + 1)) / streams.length)));
    const cursors = streams.map((stream) => new StreamCursor(this.dynamodb, stream, after, first, limit + 1));
    const rows: IndexRow[] = [];
    const heads = await Promise.all(cursors.map((cursor) => cursor.peek(filters)));
    while (rows.length <= limit) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const head = heads[i];
        if (head && (best < 0 || mergeKey(head) > mergeKey(heads[best] as IndexRow))) best = i;
      }
      if (best < 0) break;
      rows.push(heads[best] as IndexRow);
      const cursor = cursors[best] as StreamCursor;
      cursor.take();
      heads[best] = await cursor.peek(filters);
    }
    return { rows: rows.slice(0, limit), more: rows.length > limit };
  }

  /** An order's dead letters (its links, then the dead letters' projected attributes), filtered, newest first. */
  private async orderRows(filters: NormalizedFilters): Promise<IndexRow[]> {
    const links = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lower AND :upper',
      ExpressionAttributeNames: { '#pk': DEAD_LETTER_KEYS.partitionKey, '#sk': DEAD_LETTER_KEYS.sortKey },
      ExpressionAttributeValues: {
        ':pk': `order#${filters.orderId}`,
        ':lower': filters.from ?? LOWEST,
        ':upper': `${filters.to ?? ''}${HIGHEST}`,
      },
      ConsistentRead: true,
    });
    const items = await this.batchGet(links.map((link) => String(link.id)));
    return [...items.values()]
      .map((item) => item as unknown as IndexRow)
      .filter((row) => matches(row, filters))
      .sort((a, b) => (mergeKey(a) < mergeKey(b) ? 1 : -1));
  }

  /** Dead letter items by id (strongly consistent), unprocessed keys retried. */
  private async batchGet(ids: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    const unique = [...new Set(ids)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += KEYS_PER_BATCH_GET) chunks.push(unique.slice(i, i + KEYS_PER_BATCH_GET));
    await Promise.all(
      chunks.map(async (chunk) => {
        let pending: Record<string, unknown>[] | undefined = chunk.map((id) => deadLetterKey(id));
        for (let round = 0; pending?.length; round++) {
          if (round >= MAX_BATCH_GET_ROUNDS) {
            throw new Error(`dead-letter store: ${pending.length} keys still unprocessed after ${round} rounds`);
          }
          const answer: BatchGetCommandOutput = await this.dynamodb.send(
            new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }),
          );
          for (const item of answer.Responses?.[this.table] ?? []) found.set(String(item.id), item);
          pending = answer.UnprocessedKeys?.[this.table]?.Keys;
        }
      }),
    );
    return found;
  }
}

/** One stream read in pages, newest first, rows not matching the in-memory filters skipped. */
class StreamCursor {
  private buffer: IndexRow[] = [];
  private start: Record<string, unknown> | undefined;
  private done = false;

  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly stream: Stream,
    private readonly after: string | undefined,
    private firstRead: number,
    private readonly pageSize: number,
  ) {}

  async peek(filters: NormalizedFilters): Promise<IndexRow | undefined> {
    while (this.buffer.length === 0 && !this.done) {
      const upper =
        this.after === undefined || `${this.stream.prefix}${this.after}` > this.stream.upper
          ? this.stream.upper
          : `${this.stream.prefix}${this.after}`;
      if (upper < this.stream.lower) {
        this.done = true;
        break;
      }
      const answer: QueryCommandOutput = await this.dynamodb.send(
        new QueryCommand({
          ...this.stream.input,
          ExpressionAttributeValues: { ...this.stream.input.ExpressionAttributeValues, ':upper': upper },
          ScanIndexForward: false,
          Limit: this.firstRead || this.pageSize,
          ...(this.start ? { ExclusiveStartKey: this.start } : {}),
        }),
      );
      this.buffer = (answer.Items ?? [])
        .map((item) => item as unknown as IndexRow)
        .filter((row) => (this.after === undefined || mergeKey(row) < this.after) && matches(row, filters));
      this.start = answer.LastEvaluatedKey;
      this.firstRead = 0;
      if (!this.start) this.done = true;
    }
    return this.buffer[0];
  }

  take(): void {
    this.buffer.shift();
  }
}

interface NormalizedFilters {
  readonly pipe?: PipeKey | undefined;
  readonly state?: DeadLetterState | undefined;
  readonly orderId?: string | undefined;
  /** Lower-cased. */
  readonly q?: string | undefined;
  readonly causeKey?: string | undefined;
  /** ISO 8601 as `failedAt` is written (`toISOString`), so that they compare as strings. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

function normalizeFilters(filters: DeadLetterFilters): NormalizedFilters {
  const cause = filters.cause?.trim();
  return {
    pipe: filters.pipe,
    state: filters.state,
    orderId: filters.orderId,
    q: filters.q ? filters.q.toLowerCase() : undefined,
    causeKey: cause ? (CAUSE_KEY.test(cause) ? cause : deadLetterCauseKey(cause)) : undefined,
    from: filters.from ? new Date(filters.from).toISOString() : undefined,
    to: filters.to ? new Date(filters.to).toISOString() : undefined,
  };
}

/** Whether a filter applies to the rows in memory (not through the key condition). */
function needsRowFilter(filters: NormalizedFilters): boolean {
  return filters.q !== undefined || (filters.causeKey !== undefined && filters.pipe !== undefined);
}

function matches(row: IndexRow, filters: NormalizedFilters): boolean {
  if (filters.pipe && row.pipe !== filters.pipe) return false;
  if (filters.state && row.state !== filters.state) return false;
  if (filters.causeKey !== undefined && row.cause?.key !== filters.causeKey) return false;
  if (filters.from && row.failedAt < filters.from) return false;
  if (filters.to && row.failedAt > filters.to) return false;
  const q = filters.q;
  if (q !== undefined) {
    const texts = [
      ...(row.orderIds ?? []).map((id) => id.toLowerCase()),
      ...(row.emails ?? []),
      (row.cause?.message ?? '').toLowerCase(),
      (row.cause?.signature ?? '').toLowerCase(),
    ];
    if (!texts.some((text) => text.includes(q))) return false;
  }
  return true;
}

/** The order every stream shares: `<failedAt>#<id>` (the `byPipeState` sort key; `byCause`'s without its state). */
function mergeKey(row: { failedAt: string; id: string }): string {
  return `${row.failedAt}#${row.id}`;
}

function toRow(deadLetter: DeadLetter): DeadLetterRow {
  return {
    id: deadLetter.id,
    kind: deadLetter.kind,
    pipe: deadLetter.pipe,
    state: deadLetter.state,
    failedAt: deadLetter.failedAt,
    capturedAt: deadLetter.capturedAt,
    firstFailureAt: deadLetter.firstFailureAt,
    lastFailureAt: deadLetter.lastFailureAt,
    orderIds: deadLetter.orderIds,
    cause: deadLetter.cause,
    expectedRecords: deadLetter.expectedRecords,
    recordCount: deadLetter.recordCount,
    missingRecords: deadLetter.missingRecords,
    records: deadLetter.records,
    dlqBody: deadLetter.dlqBodyParts > 0 ? null : deadLetter.dlqBody,
    dlqBodyParts: deadLetter.dlqBodyParts,
  };
}

/**
 * A cursor: the last row's `<failedAt>#<id>` and a digest of the filters it was given for, base64url JSON. A cursor
 * of other filters would page a different list from the middle, so it is refused rather than followed.
 */
function filtersDigest(filters: NormalizedFilters): string {
  const { pipe, state, orderId, q, causeKey, from, to } = filters;
  return createHash('sha256')
    .update(JSON.stringify([pipe, state, orderId, q, causeKey, from, to]))
    .digest('base64url')
    .slice(0, 16);
}

function encodeCursor(after: string, filters: NormalizedFilters): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, after, f: filtersDigest(filters) }), 'utf8').toString(
    'base64url',
  );
}

function decodeCursor(cursor: string, filters: NormalizedFilters): string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequestError('cursor is not a cursor this API gave out (pass the cursor of the previous page as is)');
  }
  const { v, after, f } = (value ?? {}) as { v?: unknown; after?: unknown; f?: unknown };
  if (v !== CURSOR_VERSION || typeof after !== 'string' || !/^\d{4}-\d{2}-\d{2}T[^#]+#.+$/.test(after)) {
    throw new BadRequestError('cursor is not a cursor this API gave out (pass the cursor of the previous page as is)');
  }
  if (f !== filtersDigest(filters)) {
    throw new BadRequestError('cursor was given for other filters: pass the same filters as for the previous page');
  }
  return after;
}
