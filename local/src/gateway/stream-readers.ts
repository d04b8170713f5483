import { randomUUID } from 'node:crypto';
import type { Principal } from '../iam/authorizer.ts';
import type { ErrorResponse } from './errors.ts';
import { describePrincipal } from './principals.ts';
import type { ProxiedRequest } from './proxy.ts';
import { credentialOf } from './sigv4.ts';

/**
 * DynamoDB Streams' limit on readers of a shard, as the local gateway enforces it.
 *
 * What AWS says: "No more than two processes at most should be reading from the same streams shard at the same time.
 * Having more than two readers per shard can result in throttling" (DynamoDB developer guide, "Change data capture for
 * DynamoDB Streams", section "Reading and processing a stream",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html), and GetRecords answers
 * `LimitExceededException`: "More than 2 processes are reading from the same streams shard at the same time. Exceeding
 * this limit may result in request throttling" (DynamoDB Streams API reference, GetRecords and LimitExceededException,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_LimitExceededException.html; Lambda's
 * guide says the same of functions: "up to two Lambda functions" per shard, "Exceeding this limit can result in
 * request throttling", https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html). docs/AWS-FACTS.md, fact 9.
 *
 * AWS does not say how it counts a process, so the local rule is stated here:
 * - A **reader** of a shard is an access key (a role's key locally: each pipe, function and the ops API has its own;
 *   any other key is one administrator reader per key) whose GetRecords on that shard was served within the last
 *   {@link READER_WINDOW_MS}. A pipe polls an idle shard 4 times a second (every 250 ms), so a running pipe stays one
 *   reader; a stopped pipe frees its place two seconds after its last read.
 * - A shard serves its first {@link MAX_READERS} readers. A GetRecords from any other key while two others are readers
 *   is a **third reader** and is throttled with `LimitExceededException` (HTTP 400), like AWS's "can result in
 *   throttling", with one allowance that makes back-off work, as the exception's documentation asks of clients: a
 *   third reader's call that comes at least {@link THIRD_READER_BACKOFF_MS} after its own last throttled call on the
 *   shard is served (and does not make it a reader). A third reader that retries without backing off stays throttled;
 *   one that backs off reads at most every other call.
 * - Only GetRecords counts (DescribeStream and GetShardIterator do not read the shard and have no such error), and
 *   only requests IAM allowed (a denied request read nothing).
 * - The shard is the one the iterator names (DynamoDB Local's iterators are `<stream ARN>|<n>|<base64 of
 *   shardId|sequence|time>`); an iterator it cannot read is counted against its stream as a whole.
 */
export const MAX_READERS = 2;
export const READER_WINDOW_MS = 2000;
export const THIRD_READER_BACKOFF_MS = 500;

const GET_RECORDS = 'DynamoDBStreams_20120810.GetRecords';

/**
 * The error DynamoDB Streams answers, in AWS JSON 1.0: `__type` as the service sends it (the SDKs read the name after
 * `#`, `LimitExceededException`), HTTP 400, `message`.
 */
export function limitExceededResponse(message: string): ErrorResponse {
  return {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#LimitExceededException', message }),
  };
}

/** The shard an iterator reads: `<stream ARN>/<shard id>`, or the stream (or the iterator) when it cannot be read. */
export function shardOfIterator(iterator: string): string {
  const parts = iterator.split('|');
  const stream = parts[0] ?? iterator;
  if (parts.length < 3) return stream;
  const decoded = Buffer.from(parts[2] as string, 'base64').toString('utf8');
  const shardId = decoded.split('|')[0] ?? '';
  return shardId.startsWith('shardId-') ? `${stream}/${shardId}` : stream;
}

interface ShardState {
  /** Access key → when its last GetRecords on the shard was served as one of the shard's readers. */
  readonly readers: Map<string, number>;
  /** Access key → when its last GetRecords on the shard was throttled. */
  readonly throttled: Map<string, number>;
}

export interface StreamReaderDecision {
  readonly throttled: boolean;
  /** The readers of the shard that made this call a third one (when throttled). */
  readonly readers: readonly string[];
}

/** How a reader is named in the throttling message: its role's session ARN, or the administrator and its key. */
export function describeReader(principal: Principal, accessKeyId: string): string {
  return principal.kind === 'admin' ? `the administrator (access key ${accessKeyId})` : describePrincipal(principal);
}

/** Counts the readers of each stream shard and throttles a third one (the rule above). */
export class StreamReaders {
  private readonly shards = new Map<string, ShardState>();
  /** GetRecords calls throttled so far (for tests and `/_local` inspection). */
  throttledCalls = 0;

  constructor(
    /** How an access key is named in the error message (its role's session ARN, ...). */
    private readonly describe: (accessKeyId: string) => string = (key) => `access key ${key}`,
    private readonly now: () => number = Date.now,
    /** How the shard (`<stream ARN>/<shard id>`, DynamoDB Local's form of the ARN) is named in the message. */
    private readonly showShard: (shard: string) => string = (shard) => shard,
  ) {}

  /** One GetRecords by `accessKeyId` on `shard` at `now`: served (and counted) or throttled. */
  admit(accessKeyId: string, shard: string, now = this.now()): StreamReaderDecision {
    let state = this.shards.get(shard);
    if (!state) {
      state = { readers: new Map(), throttled: new Map() };
      this.shards.set(shard, state);
    }
    for (const [key, at] of state.readers) if (now - at > READER_WINDOW_MS) state.readers.delete(key);
    if (state.readers.has(accessKeyId) || state.readers.size < MAX_READERS) {
      state.readers.set(accessKeyId, now);
      state.throttled.delete(accessKeyId);
      return { throttled: false, readers: [] };
    }
    const lastThrottled = state.throttled.get(accessKeyId);
    if (lastThrottled !== undefined && now - lastThrottled >= THIRD_READER_BACKOFF_MS) {
      state.throttled.delete(accessKeyId);
      return { throttled: false, readers: [] };
    }
    state.throttled.set(accessKeyId, now);
    this.throttledCalls++;
    if (state.throttled.size > 1000) this.forgetThrottles(state, now);
    return { throttled: true, readers: [...state.readers.keys()] };
  }

  /**
   * The gateway's check of a request IAM has allowed: the throttling answer for a third reader's GetRecords, or
   * undefined to forward it. Requests of other operations, and unsigned ones, are not counted.
   */
  check(target: string, request: ProxiedRequest): ErrorResponse | undefined {
    if (target !== GET_RECORDS) return undefined;
    const accessKeyId = credentialOf(request.headers.authorization, request.url)?.accessKeyId;
    if (!accessKeyId) return undefined;
    let iterator: unknown;
    try {
      iterator = (JSON.parse(request.body.toString('utf8')) as { ShardIterator?: unknown }).ShardIterator;
    } catch {
      return undefined;
    }
    if (typeof iterator !== 'string' || iterator === '') return undefined;
    const shard = shardOfIterator(iterator);
    const decision = this.admit(accessKeyId, shard);
    if (!decision.throttled) return undefined;
    const readers = decision.readers.map((key) => this.describe(key)).join(' and ');
    return limitExceededResponse(
      `More than ${MAX_READERS} processes are reading from the same streams shard at the same time: ${this.showShard(shard)} is ` +
        `being read by ${readers}, so ${this.describe(accessKeyId)} is a third reader. Back off and retry: a third ` +
        `reader's call at least ${THIRD_READER_BACKOFF_MS} ms after its last throttled one is served ` +
        '(docs/ARCHITECTURE.md, "AWS service rules the local runtime follows").',
    );
  }

  /** The shards' current readers (access keys), for inspection. */
  readersOf(shard: string, now = this.now()): string[] {
    const state = this.shards.get(shard);
    if (!state) return [];
    return [...state.readers].filter(([, at]) => now - at <= READER_WINDOW_MS).map(([key]) => key);
  }

  private forgetThrottles(state: ShardState, now: number): void {
    for (const [key, at] of state.throttled) if (now - at > 60_000) state.throttled.delete(key);
  }
}
