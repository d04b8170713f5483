import { compilePattern, PatternValidationError } from '@orderflow/pipeline/engine';
import {
  type EventPattern,
  failedIdentifiers,
  LOCAL_PIPE_METRICS,
  METRICS_NAMESPACE,
  PIPES_METRICS,
  PIPES_NAMESPACE,
  type PipeSourceSettings,
  STREAM_ESTIMATE,
} from '@orderflow/pipeline/facts';
import type { PipeDlqMessage, StreamRecord } from '@orderflow/pipeline/schemas';
import type { PutMetric } from '../cloudwatch/metric-store.ts';
import type { CheckpointStore } from './checkpoints.ts';
import { GET_RECORDS_LIMIT, type ShardDescription, type StreamsApi, StreamsApiError } from './streams-api.ts';

/** GetRecords errors after which a fresh iterator continues the read. */
const RENEW_ITERATOR = new Set(['ExpiredIteratorException', 'TrimmedDataAccessException']);

/** What invoking the target produced; the emulator interprets it as Pipes does. */
export type TargetOutcome =
  | { readonly kind: 'response'; readonly payload: unknown }
  | { readonly kind: 'error'; readonly message: string; readonly timedOut?: boolean }
  | { readonly kind: 'throttled' };

export interface PipeEmulatorOptions {
  /** The pipe's name (its ARN ends in `pipe/<name>`). */
  readonly name: string;
  /** The project's pipe key (`standard`/`premium`), the `Pipe` dimension of the local funnel metrics. */
  readonly metricsPipe?: string;
  /**
   * The pipe's source as AWS names it (the runtime's region, docs/ARCHITECTURE.md): the records' `eventSourceARN`, the
   * DLQ messages' `streamArn` and the checkpoints' key. `streams` must find the stream by it (the runtime's gateway
   * translates it for DynamoDB Local).
   */
  readonly streamArn: string;
  readonly streams: StreamsApi;
  readonly settings: PipeSourceSettings;
  /** FilterCriteria patterns; a record passes when any matches (none: every record passes). */
  readonly filters: readonly EventPattern[];
  /** Invoked with the bare JSON array of records (docs/AWS-FACTS.md, fact 4). */
  readonly target: (batch: StreamRecord[]) => Promise<TargetOutcome>;
  /** Sends one DLQ message body; absent when the pipe has no DeadLetterConfig (records are then dropped). */
  readonly deadLetter?: (body: string) => Promise<void>;
  readonly checkpoints: CheckpointStore;
  readonly publish: (metrics: PutMetric[]) => void;
  readonly region: string;
  readonly account: string;
  /** Pause between polls of an idle shard. Default AWS_POLL_INTERVAL_MS. */
  readonly pollIntervalMs?: number;
  /**
   * Pause after the first empty poll of a shard that just returned records, doubled per further empty poll up to
   * `pollIntervalMs`: a busy shard's next record is picked up within milliseconds, a quiet one is back at the idle
   * cadence within about 0.3 s. Default DEFAULT_ACTIVE_POLL_MS; `pollIntervalMs` gives AWS's fixed cadence
   * (`--poll aws`).
   */
  readonly activePollMs?: number;
  /** First retry delay of a failing batch, doubled per retry up to 10 s (Pipes backs off gradually). */
  readonly retryBaseDelayMs?: number;
  /** How often DescribeStream looks for new shards. */
  readonly shardDiscoveryMs?: number;
  /** Called with unexpected errors (stream API failures); the emulator keeps going. */
  readonly onError?: (error: unknown) => void;
}

interface PendingRecord {
  readonly record: StreamRecord;
  readonly entry: { readonly sequenceNumber: string; done: boolean };
  /** When the record entered the stream (ms), for MaximumRecordAgeInSeconds. */
  readonly arrivedAt: number;
}

interface Lane {
  queue: PendingRecord[];
  busy: boolean;
  timer?: NodeJS.Timeout;
}

/** A pipe filter EventBridge Pipes would refuse; the message names the pipe, the filter and the reason. */
export class PipeFilterError extends Error {
  override readonly name = 'PipeFilterError';
}

/**
 * A pipe's `CurrentState`, the Pipes API's `PipeState` enum
 * (https://docs.aws.amazon.com/eventbridge/latest/pipes-reference/API_DescribePipe.html#API_DescribePipe_ResponseSyntax).
 * The emulator goes through CREATING, STARTING, RUNNING, STOPPING, STOPPED, START_FAILED and STOP_FAILED; the others
 * belong to updates, deletes and CloudFormation rollbacks, which the local runtime does not do.
 */
export type PipeState =
  | 'RUNNING'
  | 'STOPPED'
  | 'CREATING'
  | 'UPDATING'
  | 'DELETING'
  | 'STARTING'
  | 'STOPPING'
  | 'CREATE_FAILED'
  | 'UPDATE_FAILED'
  | 'START_FAILED'
  | 'STOP_FAILED'
  | 'DELETE_FAILED'
  | 'CREATE_ROLLBACK_FAILED'
  | 'DELETE_ROLLBACK_FAILED'
  | 'UPDATE_ROLLBACK_FAILED';

/** A pipe's `DesiredState` (`RequestedPipeState`). */
export type RequestedPipeState = 'RUNNING' | 'STOPPED';

/** What DescribePipe answers about a pipe's state (field names as in the Pipes API). */
export interface PipeStatus {
  readonly Name: string;
  readonly Arn: string;
  readonly DesiredState: RequestedPipeState;
  readonly CurrentState: PipeState;
  readonly StateReason?: string;
  readonly CreationTime: Date;
  readonly LastModifiedTime: Date;
}

/**
 * A start or stop the pipe's state does not allow (StartPipe on a STOPPING pipe): what the Pipes API answers with
 * `ConflictException` (HTTP 409).
 */
export class PipeStateConflictError extends Error {
  override readonly name = 'ConflictException';
  constructor(
    readonly pipe: string,
    readonly state: PipeState,
    action: string,
  ) {
    super(
      `Pipe ${pipe} is ${state}: cannot ${action} it now; try again once it is ${state === 'STOPPING' ? 'STOPPED' : 'RUNNING'}.`,
    );
  }
}

/** AWS polls a shard "at a base rate of 4 times per second" (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html). */
export const AWS_POLL_INTERVAL_MS = 250;
/** The default `activePollMs`. */
export const DEFAULT_ACTIVE_POLL_MS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** FNV-1a: records with the same item key always land in the same lane. */
function laneOf(keys: unknown, lanes: number): number {
  if (lanes === 1) return 0;
  const text = JSON.stringify(keys);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % lanes;
}

/**
 * Emulates an `AWS::Pipes::Pipe` with a DynamoDB stream source and a Lambda target, following AWS's documentation
 * (docs/AWS-FACTS.md, facts 4-7; https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-dynamodb.html and
 * eb-pipes-batching-concurrency.html):
 * - shards are discovered with DescribeStream and a child shard is read only after its parent is drained;
 * - the filter is evaluated in the `pipes` dialect on the raw record, so `numeric` never matches an `N` string;
 *   filtered-out records are checkpointed past;
 * - ParallelizationFactor lanes per shard, records of one item key always in the same lane, so in order;
 * - a batch is sent when BatchSize records are buffered or MaximumBatchingWindowInSeconds has passed;
 * - the target's partial batch response is read with `failedIdentifiers` (an unknown identifier fails the batch);
 *   a function error or timeout fails the whole batch;
 * - AUTOMATIC_BISECT halves a failing batch until one failing record is left; that record is retried up to
 *   MaximumRetryAttempts (-1: forever), and records older than MaximumRecordAgeInSeconds are given up on; given-up
 *   records are described by a metadata-only DLQ message;
 * - the checkpoint advances only past records whose batch fully succeeded (or went to the DLQ), and is persisted.
 */
export class PipeEmulator {
  private readonly matchers: { matches(event: unknown): boolean }[];
  private readonly readers = new Map<string, ShardReader>();
  private readonly finished = new Set<string>();
  private running = false;
  private state: PipeState = 'CREATING';
  private desired: RequestedPipeState = 'RUNNING';
  private reason: string | undefined;
  private readonly createdAt = new Date();
  private modifiedAt = this.createdAt;
  /** The start or stop under way (STARTING, STOPPING). */
  private transition: Promise<void> | undefined;
  private readonly stateListeners = new Set<(status: PipeStatus) => void>();
  private discoveryTimer: NodeJS.Timeout | undefined;
  private discovering: Promise<void> | undefined;
  /** Shards that existed when the pipe first read this stream (StartingPosition applies to them only). */
  private initialShards: Set<string> | undefined;

  constructor(readonly options: PipeEmulatorOptions) {
    for (const name of ['pollIntervalMs', 'activePollMs', 'retryBaseDelayMs', 'shardDiscoveryMs'] as const) {
      const value = options[name];
      if (value !== undefined && !(Number.isFinite(value) && value > 0))
        throw new RangeError(`pipe ${options.name}: ${name} must be a positive number of milliseconds, got ${value}`);
    }
    // A filter CreatePipe would refuse (an operator Pipes lacks, a poller-added field such as eventName) stops the
    // pipe here; the engine's error names the field and why, this one also the pipe and the filter.
    this.matchers = options.filters.map((pattern, i) => {
      try {
        return compilePattern(pattern, 'pipes');
      } catch (error: unknown) {
        if (!(error instanceof PatternValidationError)) throw error;
        const message = `pipe ${options.name}: filter ${i} cannot run on EventBridge Pipes: ${error.message}`;
        throw new PipeFilterError(message, { cause: error });
      }
    });
  }

  get arn(): string {
    return `arn:aws:pipes:${this.options.region}:${this.options.account}:pipe/${this.options.name}`;
  }

  matches(record: StreamRecord): boolean {
    return this.matchers.length === 0 || this.matchers.some((matcher) => matcher.matches(record));
  }

  /** The pipe's state as DescribePipe reports it. */
  describe(): PipeStatus {
    return {
      Name: this.options.name,
      Arn: this.arn,
      DesiredState: this.desired,
      CurrentState: this.state,
      ...(this.reason === undefined ? {} : { StateReason: this.reason }),
      CreationTime: this.createdAt,
      LastModifiedTime: this.modifiedAt,
    };
  }

  get currentState(): PipeState {
    return this.state;
  }

  get desiredState(): RequestedPipeState {
    return this.desired;
  }

  get stateReason(): string | undefined {
    return this.reason;
  }

  /** Calls `listener` with the pipe's status after every state change; returns the unsubscribe function. */
  onStateChange(listener: (status: PipeStatus) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private setState(state: PipeState, reason?: string): void {
    this.state = state;
    this.reason = reason;
    this.modifiedAt = new Date();
    const status = this.describe();
    for (const listener of this.stateListeners) {
      try {
        listener(status);
      } catch (error: unknown) {
        this.options.onError?.(error);
      }
    }
  }

  /**
   * StartPipe: STARTING while the shards are discovered, then RUNNING, polling each shard from its checkpoint (a pipe
   * stopped and started again delivers what was written meanwhile, once). Starting a RUNNING or STARTING pipe does
   * nothing; a STOPPING one is a {@link PipeStateConflictError}. A start that fails leaves the pipe START_FAILED with
   * the error as StateReason.
   */
  start(reason?: string): Promise<void> {
    if (this.state === 'RUNNING') return Promise.resolve();
    if (this.state === 'STARTING') return this.transition ?? Promise.resolve();
    if (this.state === 'STOPPING')
      return Promise.reject(new PipeStateConflictError(this.options.name, this.state, 'start'));
    this.desired = 'RUNNING';
    this.setState('STARTING', reason);
    const starting = this.begin();
    this.transition = starting;
    return starting;
  }

  private async begin(): Promise<void> {
    try {
      this.running = true;
      await this.discover();
      const tick = () => {
        if (!this.running) return;
        this.discovering = this.discover().finally(() => {
          if (this.running) this.discoveryTimer = setTimeout(tick, this.options.shardDiscoveryMs ?? 5000);
        });
      };
      this.discoveryTimer = setTimeout(tick, this.options.shardDiscoveryMs ?? 5000);
      if (this.state === 'STARTING') this.setState('RUNNING');
    } catch (error: unknown) {
      this.running = false;
      clearTimeout(this.discoveryTimer);
      this.setState('START_FAILED', (error as Error).message ?? String(error));
      throw error;
    }
  }

  /**
   * StopPipe: STOPPING while polling ends and the invocations in flight finish (up to 3 s each: what they acknowledge
   * is checkpointed, the rest is not retried and a start or restart delivers it again, at-least-once), then STOPPED,
   * with the checkpoints flushed. Nothing is published while not RUNNING. Stopping a STOPPED or STOPPING pipe does
   * nothing more; a pipe not started yet (CREATING) or failed becomes STOPPED at once; a STARTING one is stopped once
   * its start has settled.
   */
  async stop(reason?: string): Promise<void> {
    if (this.state === 'STOPPED') return;
    if (this.state === 'STOPPING') return this.transition;
    this.desired = 'STOPPED';
    if (this.state === 'STARTING') {
      await this.transition?.catch(() => undefined);
      return this.stop(reason);
    }
    if (this.state !== 'RUNNING') {
      this.setState('STOPPED', reason);
      return;
    }
    this.setState('STOPPING', reason);
    const stopping = this.halt(reason);
    this.transition = stopping;
    return stopping;
  }

  private async halt(reason: string | undefined): Promise<void> {
    try {
      this.running = false;
      clearTimeout(this.discoveryTimer);
      await this.discovering;
      await Promise.all([...this.readers.values()].map((reader) => reader.stop()));
      this.options.checkpoints.flush();
      this.setState('STOPPED', reason);
    } catch (error: unknown) {
      this.setState('STOP_FAILED', (error as Error).message ?? String(error));
      throw error;
    }
  }

  private async discover(): Promise<void> {
    let shards: ShardDescription[];
    try {
      shards = await this.options.streams.listShards(this.options.streamArn);
    } catch (error: unknown) {
      this.options.onError?.(error);
      return;
    }
    const { checkpoints, streamArn } = this.options;
    if (!this.initialShards) {
      this.initialShards = new Set(checkpoints.hasStream(streamArn) ? [] : shards.map((s) => s.ShardId));
      // Record that this pipe has started on the stream, so that later shards are read from their beginning.
      for (const shard of shards)
        if (!checkpoints.get(streamArn, shard.ShardId)) checkpoints.set(streamArn, shard.ShardId, {});
    }
    const present = new Set(shards.map((s) => s.ShardId));
    for (const shard of shards) {
      if (!this.running || this.readers.has(shard.ShardId) || this.finished.has(shard.ShardId)) continue;
      if (checkpoints.get(streamArn, shard.ShardId)?.finished) {
        this.finished.add(shard.ShardId);
        continue;
      }
      // Lineage: a child shard's records follow its parent's, so the parent is drained first.
      const parent = shard.ParentShardId;
      if (parent && present.has(parent) && !this.finished.has(parent) && !checkpoints.get(streamArn, parent)?.finished)
        continue;
      const reader = new ShardReader(this, shard.ShardId, this.initialShards.has(shard.ShardId));
      this.readers.set(shard.ShardId, reader);
      void reader.run().then((drained) => {
        if (this.readers.get(shard.ShardId) === reader) this.readers.delete(shard.ShardId);
        if (drained) {
          this.finished.add(shard.ShardId);
          if (this.running) void this.discover();
        }
      });
    }
  }

  /**
   * Publishes into the local CloudWatch: AWS/EventBridge/Pipes by PipeName, and the exact local funnel by Pipe. A pipe
   * that is not RUNNING publishes nothing (a batch that finishes while the pipe is STOPPING included): a stopped or
   * failed pipe has no executions, so AWS has no Pipes metrics for it, which is what the `pipe-stalled` alarm watches.
   */
  metric(kind: 'pipes' | 'funnel', metricName: string, value: number, unit = 'Count'): void {
    if (this.state !== 'RUNNING') return;
    const timestamp = Date.now();
    if (kind === 'pipes') {
      this.options.publish([
        { namespace: PIPES_NAMESPACE, metricName, dimensions: { PipeName: this.options.name }, value, unit, timestamp },
      ]);
    } else if (this.options.metricsPipe) {
      this.options.publish([
        {
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensions: { Pipe: this.options.metricsPipe },
          value,
          unit,
          timestamp,
        },
      ]);
    }
  }

  /**
   * DynamoDB's ReturnedRecordsCount for one GetRecords the pipe made: AWS/DynamoDB, dimensions Operation, StreamLabel
   * and TableName ("The number of stream records returned by GetRecords operations (Amazon DynamoDB Streams) during
   * the specified time period", DynamoDB metrics and dimensions,
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html). AWS counts every
   * reader's calls; locally the pipes are the stream's steady readers, so theirs are the calls counted.
   */
  streamRead(records: number): void {
    const match = /:table\/([^/]+)\/stream\/(.+)$/.exec(this.options.streamArn);
    if (!match) return;
    this.options.publish([
      {
        namespace: STREAM_ESTIMATE.namespace,
        metricName: STREAM_ESTIMATE.metricName,
        dimensions: { Operation: STREAM_ESTIMATE.operation, StreamLabel: match[2] ?? '', TableName: match[1] ?? '' },
        value: records,
        unit: 'Count',
        timestamp: Date.now(),
      },
    ]);
  }

  deadLetterBody(shardId: string, records: readonly PendingRecord[], condition: string): PipeDlqMessage {
    const first = records[0] as PendingRecord;
    const last = records[records.length - 1] as PendingRecord;
    const arrival = (r: PendingRecord) =>
      new Date((r.record.dynamodb.ApproximateCreationDateTime ?? r.arrivedAt / 1000) * 1000).toISOString();
    return {
      context: { partnerResourceArn: this.arn, condition },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first.record.dynamodb.SequenceNumber,
        endSequenceNumber: last.record.dynamodb.SequenceNumber,
        approximateArrivalOfFirstRecord: arrival(first),
        approximateArrivalOfLastRecord: arrival(last),
        batchSize: records.length,
        streamArn: this.options.streamArn,
      },
    };
  }

  /** Polling: RUNNING, or STARTING. */
  get isRunning(): boolean {
    return this.running;
  }
}

class ShardReader {
  private readonly lanes: Lane[];
  /** Records in stream order with their completion flag; the checkpoint is the last of the done prefix. */
  private readonly entries: { sequenceNumber: string; done: boolean }[] = [];
  private head = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private loop: Promise<boolean> | undefined;

  constructor(
    private readonly pipe: PipeEmulator,
    private readonly shardId: string,
    private readonly useStartingPosition: boolean,
  ) {
    this.lanes = Array.from({ length: pipe.options.settings.parallelizationFactor }, () => ({
      queue: [],
      busy: false,
    }));
  }

  run(): Promise<boolean> {
    this.loop = this.poll();
    return this.loop;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const lane of this.lanes) clearTimeout(lane.timer);
    await this.loop;
    // An invocation in flight may run up to the function's timeout; wait a little for its outcome, then leave it.
    await Promise.race([Promise.all(this.inFlight), sleep(3000)]);
  }

  private get options() {
    return this.pipe.options;
  }

  private buffered(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.queue.length, 0);
  }

  /** Reads the shard until it is closed and drained (true) or the pipe stops (false). */
  private async poll(): Promise<boolean> {
    const { streams, streamArn, settings, checkpoints } = this.options;
    const pollInterval = this.options.pollIntervalMs ?? AWS_POLL_INTERVAL_MS;
    const activePoll = Math.min(pollInterval, this.options.activePollMs ?? DEFAULT_ACTIVE_POLL_MS);
    // Empty polls since the shard last returned records; a shard nothing has been read from yet counts as idle.
    let emptyPolls = Number.POSITIVE_INFINITY;
    const checkpoint = checkpoints.get(streamArn, this.shardId)?.sequenceNumber;
    let iterator: string | undefined;
    while (!iterator && !this.stopped) {
      try {
        iterator = checkpoint
          ? await streams.shardIterator(streamArn, this.shardId, 'AFTER_SEQUENCE_NUMBER', checkpoint)
          : await streams.shardIterator(
              streamArn,
              this.shardId,
              this.useStartingPosition ? settings.startingPosition : 'TRIM_HORIZON',
            );
        if (!iterator) return true;
      } catch (error: unknown) {
        this.options.onError?.(error);
        await sleep(1000);
      }
    }
    // Keep at most a few batches per lane buffered: the stream, not memory, is the backlog.
    const maxBuffered = Math.max(1000, settings.batchSize * settings.parallelizationFactor * 4);
    while (!this.stopped && iterator) {
      if (this.buffered() >= maxBuffered) {
        await sleep(pollInterval / 5);
        continue;
      }
      const polledAt = performance.now();
      let page: Awaited<ReturnType<StreamsApi['records']>>;
      try {
        page = await streams.records(iterator);
      } catch (error: unknown) {
        if (error instanceof StreamsApiError && RENEW_ITERATOR.has(error.code)) {
          const current = iterator;
          iterator = await this.renewIterator().catch((renewError: unknown) => {
            this.options.onError?.(renewError);
            return current;
          });
          continue;
        }
        this.options.onError?.(error);
        await sleep(1000);
        continue;
      }
      // A page that arrives once the pipe is stopping is not taken: its records are read again after the checkpoint.
      if (this.stopped) break;
      iterator = page.next;
      this.pipe.streamRead(page.records.length);
      if (page.records.length > 0) {
        emptyPolls = 0;
        this.accept(page.records);
        // A full page: there is a backlog, read on at once. Fewer: the shard is read to its end, and an immediate poll
        // would find only what arrived during this one. Under steady traffic that is a GetRecords call (about 0.5 ms of
        // DynamoDB Local's CPU) per handful of records, so the next poll waits the active interval, counted from the
        // start of this one (docs/ARCHITECTURE.md, "Poll cadence").
        if (page.records.length < GET_RECORDS_LIMIT && iterator)
          await sleep(activePoll - (performance.now() - polledAt));
        continue;
      }
      // Nothing new: an idle shard is polled once per interval, counted from the start of this poll; a shard that just
      // returned records is polled again sooner, backing off to that interval (docs/ARCHITECTURE.md, "Poll cadence").
      if (iterator)
        await sleep(Math.min(pollInterval, activePoll * 2 ** emptyPolls++) - (performance.now() - polledAt));
    }
    if (this.stopped) return false;
    // Closed shard: wait for what is buffered and in flight, then mark it finished.
    for (const lane of this.lanes) this.dispatch(lane, true);
    while (!this.stopped && (this.head < this.entries.length || this.inFlight.size > 0)) await sleep(50);
    if (this.stopped) return false;
    checkpoints.set(streamArn, this.shardId, { ...checkpoints.get(streamArn, this.shardId), finished: true });
    return true;
  }

  /**
   * A new iterator after the last record read, when the old one expired or points at trimmed data; if that record is
   * itself trimmed, from the oldest record left (what was trimmed is gone, as in AWS).
   */
  private async renewIterator(): Promise<string | undefined> {
    const { streams, streamArn } = this.options;
    const last =
      this.entries[this.entries.length - 1]?.sequenceNumber ??
      this.options.checkpoints.get(streamArn, this.shardId)?.sequenceNumber;
    try {
      if (last) return await streams.shardIterator(streamArn, this.shardId, 'AFTER_SEQUENCE_NUMBER', last);
    } catch (error: unknown) {
      if (!(error instanceof StreamsApiError && RENEW_ITERATOR.has(error.code))) throw error;
    }
    return streams.shardIterator(streamArn, this.shardId, 'TRIM_HORIZON');
  }

  private accept(wireRecords: readonly Omit<StreamRecord, 'eventSourceARN'>[]): void {
    const now = Date.now();
    let matched = 0;
    for (const wire of wireRecords) {
      // The record names the table's region as AWS's do (DynamoDB Local writes `ddblocal`), and the stream as the
      // pipe's source names it (AWS-shaped in the runtime, docs/ARCHITECTURE.md).
      const record = {
        ...wire,
        awsRegion: this.options.region,
        eventSourceARN: this.options.streamArn,
      } as StreamRecord;
      const entry = { sequenceNumber: record.dynamodb.SequenceNumber, done: false };
      this.entries.push(entry);
      if (!this.pipe.matches(record)) {
        entry.done = true;
        continue;
      }
      matched++;
      // DynamoDB Local rounds ApproximateCreationDateTime down to the minute, so a record arrived at most a minute
      // after it says, and not after it was read: the later of the two bounds keeps MaximumRecordAgeInSeconds honest.
      const created = (record.dynamodb.ApproximateCreationDateTime ?? now / 1000) * 1000;
      const lane = this.lanes[laneOf(record.dynamodb.Keys, this.lanes.length)] as Lane;
      lane.queue.push({ record, entry, arrivedAt: Math.min(now, created + 60_000) });
    }
    this.pipe.metric('funnel', LOCAL_PIPE_METRICS.recordsPolled.name, wireRecords.length);
    this.pipe.metric('funnel', LOCAL_PIPE_METRICS.recordsMatched.name, matched);
    this.pipe.metric('funnel', LOCAL_PIPE_METRICS.recordsFilteredOut.name, wireRecords.length - matched);
    this.advanceCheckpoint();
    for (const lane of this.lanes) this.dispatch(lane, false);
  }

  /** Sends the lane's next batch when it is full or its batching window has passed. */
  private dispatch(lane: Lane, flush: boolean): void {
    if (lane.busy || lane.queue.length === 0 || this.stopped) return;
    const { batchSize, maximumBatchingWindowInSeconds } = this.options.settings;
    const first = lane.queue[0] as PendingRecord;
    const waited = Date.now() - first.arrivedAt;
    const windowMs = maximumBatchingWindowInSeconds * 1000;
    if (!flush && lane.queue.length < batchSize && waited < windowMs) {
      if (!lane.timer)
        lane.timer = setTimeout(() => {
          lane.timer = undefined;
          this.dispatch(lane, true);
        }, windowMs - waited);
      return;
    }
    clearTimeout(lane.timer);
    lane.timer = undefined;
    const batch = lane.queue.splice(0, batchSize);
    lane.busy = true;
    const work = this.deliver(batch).finally(() => {
      this.inFlight.delete(work);
      lane.busy = false;
      this.advanceCheckpoint();
      this.dispatch(lane, false);
    });
    this.inFlight.add(work);
  }

  private complete(records: readonly PendingRecord[]): void {
    for (const r of records) r.entry.done = true;
  }

  private advanceCheckpoint(): void {
    let last: string | undefined;
    while (this.head < this.entries.length && this.entries[this.head]?.done) {
      last = this.entries[this.head]?.sequenceNumber;
      this.head++;
    }
    if (this.head > 4096) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    if (last !== undefined) {
      const { checkpoints, streamArn } = this.options;
      checkpoints.set(streamArn, this.shardId, { sequenceNumber: last });
    }
  }

  /** One batch through invocation, partial failures, bisection, retries and the DLQ. */
  private async deliver(batch: PendingRecord[]): Promise<void> {
    const { settings } = this.options;
    const segments: { records: PendingRecord[]; retries: number }[] = [{ records: batch, retries: 0 }];
    while (segments.length > 0 && !this.stopped) {
      const segment = segments[0] as { records: PendingRecord[]; retries: number };
      const maxAgeMs = settings.maximumRecordAgeInSeconds * 1000;
      if (
        settings.maximumRecordAgeInSeconds !== -1 &&
        segment.records.some((r) => Date.now() - r.arrivedAt > maxAgeMs)
      ) {
        await this.giveUp(segment.records, 'RecordAgeExceeded');
        segments.shift();
        continue;
      }
      const outcome = await this.invoke(segment.records);
      // Once the pipe is stopping, what succeeded is still acknowledged (a clean stop redelivers nothing that was
      // handled), but nothing is retried.
      if (outcome.kind === 'throttled') {
        if (this.stopped) return;
        // Throttling is retried without using up retry attempts, after a back-off.
        await sleep(this.backoff(segment.retries));
        continue;
      }
      const failed =
        outcome.kind === 'error'
          ? 'all'
          : failedIdentifiers(
              outcome.payload,
              segment.records.map((r) => r.record),
            );
      if (failed !== 'all' && failed.size === 0) {
        this.complete(segment.records);
        segments.shift();
        continue;
      }
      // Records before the first reported failure succeeded; the rest is retried.
      let remainder = segment.records;
      if (failed !== 'all') {
        const firstFailed = segment.records.findIndex((r) => failed.has(r.record.eventID));
        this.complete(segment.records.slice(0, firstFailed));
        remainder = segment.records.slice(firstFailed);
      }
      if (this.stopped) return;
      if (settings.onPartialBatchItemFailure === 'AUTOMATIC_BISECT' && remainder.length > 1) {
        const half = Math.ceil(remainder.length / 2);
        segments.splice(
          0,
          1,
          { records: remainder.slice(0, half), retries: segment.retries },
          { records: remainder.slice(half), retries: segment.retries },
        );
        continue;
      }
      if (settings.maximumRetryAttempts !== -1 && segment.retries >= settings.maximumRetryAttempts) {
        await this.giveUp(remainder, 'RetryAttemptsExhausted');
        segments.shift();
        continue;
      }
      segments[0] = { records: remainder, retries: segment.retries + 1 };
      await sleep(this.backoff(segment.retries));
    }
  }

  private backoff(retries: number): number {
    return Math.min(10_000, (this.options.retryBaseDelayMs ?? 500) * 2 ** retries);
  }

  /**
   * One execution: the batch through the target stage (the pipes have no enrichment). Its AWS/EventBridge/Pipes
   * metrics, as the EventBridge user guide's table defines them ("Logging and monitoring Amazon EventBridge Pipes
   * using Amazon CloudWatch Logs", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-monitoring.html;
   * docs/AWS-FACTS.md, fact 8), dimension PipeName, unit None for counts and Milliseconds for times: Invocations,
   * EventCount, Duration (the execution) and TargetStageDuration (the target invocation), and each outcome counter,
   * 0 when the execution did not end that way ("This value will be 0 if no executions failed"): ExecutionThrottled,
   * ExecutionTimeout, ExecutionFailed and TargetStageFailed (a function error, or a timeout, which counts as
   * ExecutionTimeout instead of ExecutionFailed), ExecutionPartiallyFailed and TargetStagePartiallyFailed (a partial
   * batch response naming failures). TargetStageSkipped (the target skipped after an enrichment returned nothing) and
   * the enrichment metrics are not published: there is no enrichment stage.
   */
  private async invoke(records: PendingRecord[]): Promise<TargetOutcome> {
    const started = performance.now();
    const batch = records.map((r) => r.record);
    const targetStarted = performance.now();
    let outcome: TargetOutcome;
    try {
      outcome = await this.options.target(batch);
    } catch (error: unknown) {
      outcome = { kind: 'error', message: (error as Error).message };
    }
    const finished = performance.now();
    const throttled = outcome.kind === 'throttled';
    const timedOut = outcome.kind === 'error' && outcome.timedOut === true;
    const failed = outcome.kind === 'error' && !timedOut;
    const partial =
      outcome.kind === 'response' &&
      ((outcome.payload as { batchItemFailures?: unknown[] } | null)?.batchItemFailures?.length ?? 0) > 0;
    const count = (metricName: string, value: number | boolean) =>
      this.pipe.metric('pipes', metricName, Number(value), 'None');
    count(PIPES_METRICS.invocations, 1);
    count(PIPES_METRICS.eventCount, records.length);
    this.pipe.metric('pipes', PIPES_METRICS.duration, finished - started, 'Milliseconds');
    this.pipe.metric('pipes', PIPES_METRICS.targetStageDuration, finished - targetStarted, 'Milliseconds');
    count(PIPES_METRICS.executionThrottled, throttled);
    count(PIPES_METRICS.executionTimeout, timedOut);
    count(PIPES_METRICS.executionFailed, failed);
    count(PIPES_METRICS.targetStageFailed, outcome.kind === 'error');
    count(PIPES_METRICS.executionPartiallyFailed, partial);
    count(PIPES_METRICS.targetStagePartiallyFailed, partial);
    return outcome;
  }

  /** Describes the records in a DLQ message (retried until the queue accepts it), then checkpoints past them. */
  private async giveUp(records: PendingRecord[], condition: string): Promise<void> {
    const { deadLetter } = this.options;
    if (deadLetter) {
      const body = JSON.stringify(this.pipe.deadLetterBody(this.shardId, records, condition));
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          await deadLetter(body);
          break;
        } catch (error: unknown) {
          this.options.onError?.(error);
          await sleep(this.backoff(attempt));
        }
      }
      if (this.stopped) return;
      this.pipe.metric('funnel', LOCAL_PIPE_METRICS.recordsSentToDlq.name, records.length);
    }
    this.complete(records);
  }
}
