import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapLimited } from './dlq-browser.ts';
import { STREAM_READ_INTERVAL_MS, type StreamReadGate } from './stream-gate.ts';
import { MAX_ATTEMPTS, MAX_BACKOFF_MS, THROTTLED } from './stream-reader.ts';

/** GetRecords answers at most 1,000 records (DynamoDB Streams API reference, GetRecords `Limit`). */
const PAGE_RECORDS = 1000;
/**
 * Empty pages in a row after which an open shard counts as read to its end. "If there are no stream records available
 * in the portion of the shard that the iterator points to, GetRecords returns an empty list. Note that it might take
 * multiple calls to get to a portion of the shard that contains stream records" (DynamoDB Streams API reference,
 * GetRecords): one empty page is not proof of the end, and each costs a second of the shard's read slot.
 */
const EMPTY_PAGES_AT_END = 2;
/** A closed shard is read until GetRecords gives no next iterator; this many empty pages in a row give up on it. */
const EMPTY_PAGES_CLOSED = 10;
/** Shards read at once: each at most one GetRecords a second (the gate), so this bounds the scan's rate and memory. */
const SHARD_CONCURRENCY = 4;
/** Errors meaning the shard (or the stream) no longer holds what was asked for: the shard is skipped. */
const GONE = new Set(['TrimmedDataAccessException', 'ResourceNotFoundException', 'ExpiredIteratorException']);

/** How a scan went: what it read, and whether it reached the end of every shard (the stream's retained history). */
export interface StreamScanOutcome {
  readonly streamArn: string;
  readonly shards: number;
  /** Shards read to their end (or to the records written after the scan started). */
  readonly shardsDone: number;
  /** Every shard was read to its end: nothing retained was left out. */
  readonly complete: boolean;
  /** Why not complete, in words (empty when complete). */
  readonly gaps: readonly string[];
  readonly getRecords: number;
  readonly throttled: number;
}

export interface StreamScanOptions {
  /** Records to hand to `onRecords` at most, across all shards. */
  readonly limit: number;
  /** Stop between pages (a cancel, the run's deadline). */
  readonly stopped: () => boolean;
  /**
   * Each page's records as JSON texts, shaped as Pipes delivers a record (with `eventSourceARN`): the text GetRecords
   * answered, cut per record, never parsed into objects for the match (see {@link recordTexts}).
   */
  readonly onRecords: (texts: readonly string[]) => void;
  /** A shard was read to its end (progress). */
  readonly onShardDone?: (done: number, total: number) => void;
}

/**
 * Reads the Orders stream's retained records for a rule impact preview, once, on an operator's request. The two
 * pipes are the two readers DynamoDB Streams allows per shard ("Having more than two readers per shard can result in
 * throttling", DynamoDB developer guide, "Change data capture for DynamoDB Streams"; docs/AWS-FACTS.md, fact 9), so
 * this is a third reader and keeps to the ops API's rule for one: every GetRecords goes through the shared read gate
 * (at most one a second per shard for the whole API, stream-gate.ts), a throttled call backs the shard off for every
 * caller of the gate, and the scan ends, never standing: each shard is read from TRIM_HORIZON to its end, to the
 * records written after the scan started, or until `limit` records were read.
 *
 * The stream's ARN comes from DescribeTable on the Orders table (LatestStreamArn, the stream the pipes read), its
 * shards from DescribeStream: both only here, once per scan.
 */
export class StreamScanner {
  constructor(
    private readonly streams: DynamoDBStreamsClient,
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly ordersTable: string,
    private readonly gate: StreamReadGate,
  ) {}

  async scan(options: StreamScanOptions): Promise<StreamScanOutcome> {
    const startedAt = Date.now();
    const streamArn = await this.streamArn();
    const shards = await this.shards(streamArn);
    const stats = { getRecords: 0, throttled: 0, shardsDone: 0 };
    const gaps: string[] = [];
    let budget = options.limit;
    await mapLimited(shards, SHARD_CONCURRENCY, async (shard) => {
      let iterator: string | undefined;
      try {
        iterator = (
          await this.streams.send(
            new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.id, ShardIteratorType: 'TRIM_HORIZON' }),
          )
        ).ShardIterator;
      } catch (error: unknown) {
        const name = (error as { name?: string }).name ?? '';
        if (!GONE.has(name)) throw error;
        // Trimmed or gone since DescribeStream: nothing of it is retained any more.
        stats.shardsDone += 1;
        options.onShardDone?.(stats.shardsDone, shards.length);
        return;
      }
      let empty = 0;
      for (;;) {
        if (options.stopped()) return;
        if (!iterator) break;
        // Taken before the call, so that shards read at once never hand on more than `limit` records together.
        const want = Math.min(PAGE_RECORDS, budget);
        if (want === 0) return;
        budget -= want;
        const page = await this.getRecords(`${streamArn} ${shard.id}`, iterator, want, stats);
        const records = page.output.Records ?? [];
        // Records written after the scan started are not history: the shard is read to there.
        const before = records.findIndex(
          (record) => (record.dynamodb?.ApproximateCreationDateTime?.getTime() ?? 0) > startedAt,
        );
        const kept = before < 0 ? records.length : before;
        budget += want - kept;
        if (kept > 0) options.onRecords(withSourceArn(page.texts.slice(0, kept), streamArn));
        if (before >= 0) break;
        empty = records.length === 0 ? empty + 1 : 0;
        if (shard.open && empty >= EMPTY_PAGES_AT_END) break;
        if (!shard.open && empty >= EMPTY_PAGES_CLOSED) {
          gaps.push(`shard ${shard.id} answered ${empty} empty pages in a row before its end; the rest was not read`);
          return;
        }
        iterator = page.output.NextShardIterator;
      }
      stats.shardsDone += 1;
      options.onShardDone?.(stats.shardsDone, shards.length);
    });
    if (budget === 0 && stats.shardsDone < shards.length) {
      gaps.push(`the limit of ${options.limit} records was reached before every shard was read to its end`);
    }
    return {
      streamArn,
      shards: shards.length,
      shardsDone: stats.shardsDone,
      complete: stats.shardsDone === shards.length && gaps.length === 0,
      gaps,
      getRecords: stats.getRecords,
      throttled: stats.throttled,
    };
  }

  /** The stream the pipes read: the Orders table's latest stream. */
  private async streamArn(): Promise<string> {
    const answer = await this.dynamodb.send(new DescribeTableCommand({ TableName: this.ordersTable }));
    const arn = answer.Table?.LatestStreamArn;
    if (!arn || answer.Table?.StreamSpecification?.StreamEnabled === false) {
      throw new Error(`the ${this.ordersTable} table has no enabled stream: there is no history to preview a rule on`);
    }
    return arn;
  }

  /** Every shard of the stream (DescribeStream pages of up to 100), open ones without an ending sequence number. */
  private async shards(streamArn: string): Promise<{ id: string; open: boolean }[]> {
    const shards: { id: string; open: boolean }[] = [];
    let start: string | undefined;
    do {
      const answer = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
      );
      for (const shard of answer.StreamDescription?.Shards ?? []) {
        if (shard.ShardId) {
          shards.push({ id: shard.ShardId, open: !shard.SequenceNumberRange?.EndingSequenceNumber });
        }
      }
      start = answer.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  /**
   * One GetRecords call through the gate, as StreamReader sends them (throttling backs the shard off for every caller
   * of the gate, doubling from a second; the SDK's own retries are off for this client, `clients.ts`), answering both
   * the SDK's output (iterators, timestamps) and the records' JSON texts as they came over the wire.
   */
  private async getRecords(
    shard: string,
    iterator: string,
    limit: number,
    stats: { getRecords: number; throttled: number },
  ): Promise<{ output: GetRecordsCommandOutput; texts: string[] }> {
    for (let attempt = 1; ; attempt++) {
      await this.gate.acquire(shard);
      const command = new GetRecordsCommand({ ShardIterator: iterator, Limit: limit });
      const body = keepBody(command);
      try {
        stats.getRecords++;
        const output = await this.streams.send(command);
        const texts = recordTexts(body.text());
        if (texts.length !== (output.Records ?? []).length) {
          throw new Error(
            `GetRecords answered ${output.Records?.length ?? 0} records, but ${texts.length} in its JSON text`,
          );
        }
        return { output, texts };
      } catch (error: unknown) {
        const name = (error as { name?: string }).name ?? '';
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
        const retryable = THROTTLED.has(name) || status >= 500;
        if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
        if (THROTTLED.has(name)) stats.throttled++;
        await this.gate.backOff(shard, Math.min(MAX_BACKOFF_MS, STREAM_READ_INTERVAL_MS * 2 ** (attempt - 1)));
      }
    }
  }
}

/**
 * Keeps the raw body of the command's answer: a middleware between the SDK's deserializer and the network reads the
 * body once into bytes, which the deserializer then reads as usual (`collectBody` takes bytes as they are).
 */
function keepBody(command: GetRecordsCommand): { text(): string } {
  let bytes: Uint8Array | undefined;
  const add = command.middlewareStack.add as unknown as (
    middleware: (next: (args: unknown) => Promise<{ response: { body?: unknown } }>) => (args: unknown) => unknown,
    options: { step: 'deserialize'; priority: 'low'; name: string },
  ) => void;
  add(
    (next) => async (args) => {
      const result = await next(args);
      const body = result.response.body;
      if (body instanceof Uint8Array) bytes = body;
      else if (body && typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
        const chunks: Uint8Array[] = [];
        for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
        bytes = Buffer.concat(chunks);
        result.response.body = bytes;
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'impactKeepRecordsText' },
  );
  return { text: () => (bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : '') };
}

/** Each record text with the stream's ARN as its first member, as Pipes adds it to the records it delivers. */
function withSourceArn(texts: readonly string[], streamArn: string): string[] {
  const member = `"eventSourceARN":${JSON.stringify(streamArn)}`;
  return texts.map((text) => {
    const rest = text.slice(1);
    return /^\s*\}/.test(rest) ? `{${member}${rest}` : `{${member},${rest}`;
  });
}

/**
 * The JSON text of each element of the `Records` array of a GetRecords answer (`{"NextShardIterator": ...,
 * "Records": [...]}`, members in any order), cut out of the body without building objects: a walk that skips strings
 * (with their escapes) and counts brackets. Malformed text throws.
 */
export function recordTexts(body: string): string[] {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`GetRecords answer is not the expected JSON: ${what} at ${i}`);
  };
  const space = () => {
    while (i < body.length && ' \t\r\n'.includes(body[i] as string)) i++;
  };
  const skipString = () => {
    // At the opening quote; ends after the closing one.
    i++;
    for (;;) {
      const quote = body.indexOf('"', i);
      if (quote < 0) fail('an unterminated string');
      let slashes = 0;
      for (let j = quote - 1; body.charCodeAt(j) === 0x5c; j--) slashes++;
      i = quote + 1;
      if (slashes % 2 === 0) return;
    }
  };
  const skipValue = () => {
    const c = body[i];
    if (c === '"') return skipString();
    if (c !== '{' && c !== '[') {
      while (i < body.length && !',}] \t\r\n'.includes(body[i] as string)) i++;
      return;
    }
    let depth = 0;
    while (i < body.length) {
      const d = body[i];
      if (d === '"') {
        skipString();
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') depth--;
      i++;
      if (depth === 0) return;
    }
    fail('an unbalanced value');
  };
  const texts: string[] = [];
  space();
  if (body[i] !== '{') fail('no object');
  i++;
  for (;;) {
    space();
    if (body[i] === '}') return texts;
    if (body[i] !== '"') fail('no member name');
    const keyStart = i;
    skipString();
    const key = JSON.parse(body.slice(keyStart, i)) as string;
    space();
    if (body[i] !== ':') fail('no colon');
    i++;
    space();
    if (key === 'Records') {
      if (body[i] !== '[') fail('Records is not an array');
      i++;
      space();
      while (body[i] !== ']') {
        const start = i;
        skipValue();
        texts.push(body.slice(start, i));
        space();
        if (body[i] === ',') {
          i++;
          space();
        } else if (body[i] !== ']') fail('no comma between records');
      }
      i++;
    } else {
      skipValue();
    }
    space();
    if (body[i] === ',') i++;
    else if (body[i] !== '}') fail('no comma between members');
  }
}
