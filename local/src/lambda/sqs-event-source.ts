import { createHash } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type CompiledPattern, compilePattern } from '@orderflow/pipeline/engine';
import type { LocalIam } from '../gateway/index.ts';
import type { PrincipalEntry } from '../gateway/principals.ts';
import type { SqsEventSourceMappingSpec } from '../template/local-plan.ts';
import type { InvokeResult, LambdaService } from './lambda-service.ts';

/**
 * Lambda's event source mapping for an Amazon SQS standard queue, as the Lambda developer guide describes it:
 * - "Using Lambda with Amazon SQS" (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html): Lambda long-polls the
 *   queue, invokes the function synchronously with `{ Records: [...] }`, and deletes a batch's messages when the
 *   function succeeds; a failed batch's messages become visible again after the queue's visibility timeout, and the
 *   queue's own redrive policy moves a message received more than `maxReceiveCount` times to its dead-letter queue
 *   (SQS does the move: fauxqs implements RedrivePolicy on receive, so the poller does nothing of its own for it).
 *   BatchSize (default 10, at most 10,000 on a standard queue) and MaximumBatchingWindowInSeconds (0..300; needed from
 *   a BatchSize above 10): Lambda keeps polling until the window runs out, the batch is full or the 6 MB synchronous
 *   payload is reached. "If your batch window is greater than 0, and (batch window) + (function timeout) > (queue
 *   visibility timeout), then your effective queue visibility timeout is (batch window) + (function timeout) + 30s."
 * - "Configuring scaling behavior for SQS event source mappings"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html): Lambda "starts processing five batches at
 *   a time with five concurrent invocations"; ScalingConfig.MaximumConcurrency (2..1000) limits the concurrent
 *   invocations of one mapping, and the mapping reads nothing while that many are in flight. Reserved concurrency is
 *   independent: below the mapping's concurrency Lambda throttles.
 * - "Handling errors for an SQS event source in Lambda"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html): after a function error Lambda
 *   stops retrying the batch and backs off (its messages reappear after the visibility timeout); a throttled
 *   invocation is retried, backing off, "until the message's timestamp exceeds your queue's visibility timeout, at
 *   which point Lambda drops the message" (it reappears in the queue). With FunctionResponseTypes
 *   `ReportBatchItemFailures`, `batchItemFailures[].itemIdentifier` (a messageId) names the failed messages; a null or
 *   empty list or response is a complete success; an invalid response, an empty or null itemIdentifier, a bad key
 *   name, or an id that is not in the batch fails the whole batch (`failedMessageIds`).
 * - "Using event filtering with an Amazon SQS event source" and "Control which events Lambda sends to your function"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs-filtering.html,
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html): up to five filters, ORed; a message
 *   that matches none is deleted; SQS mappings filter on `body` only, whose format must match the pattern's (a JSON
 *   body for an object pattern, a plain string for a list of rules; a mismatch drops the message).
 *
 * Locally the mapping runs one receiver (long polls of 20 s) that builds a batch at a time and hands it to one of its
 * concurrency slots; it receives only while a slot is free, so at most `maximumConcurrency` (default 5, AWS's initial
 * five; AWS's scaling beyond five is not emulated) batches are ever in flight. It acts with the function's execution
 * role: its SQS client signs with the role's keys and goes through the IAM gateway like any other caller.
 */

/** Lambda's defaults and limits for an SQS event source mapping (CreateEventSourceMapping, AWS::Lambda::EventSourceMapping). */
export const SQS_EVENT_SOURCE_LIMITS = {
  defaultBatchSize: 10,
  /** "For standard queues the max is 10,000. For FIFO queues the max is 10." */
  maxBatchSize: 10_000,
  /** Above this BatchSize, MaximumBatchingWindowInSeconds must be at least 1. */
  batchSizeWithoutWindow: 10,
  maxBatchingWindowSeconds: 300,
  /** ScalingConfig.MaximumConcurrency: "Minimum: 2, Maximum: 1000". */
  minMaximumConcurrency: 2,
  maxMaximumConcurrency: 1000,
  /** "When messages are available, Lambda starts processing five batches at a time." */
  initialConcurrency: 5,
  /** "By default, you can define up to five different filters for a single event source mapping." */
  maxFilters: 5,
  /** Filter.Pattern: length 0..4096 (Lambda API reference, Filter). */
  maxPatternLength: 4096,
  /** The synchronous invocation payload quota. */
  maxPayloadBytes: 6 * 1024 * 1024,
} as const;

/** What the execution role must allow on the queue; CreateEventSourceMapping checks each. */
export const SQS_EXECUTION_ROLE_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
] as const;

/** SQS's own limits on one ReceiveMessage call. */
const RECEIVE_MAX_MESSAGES = 10;
const LONG_POLL_SECONDS = 20;
const DELETE_BATCH_MAX = 10;

/**
 * The mapping's UUID: the same stable value the Lambda API's ListEventSourceMappings reports for the template's
 * mapping (its stack and logical id, hashed), so a mapping is named alike everywhere.
 */
export function eventSourceMappingUuid(stackName: string, logicalId: string): string {
  return createHash('sha256')
    .update(`${stackName}/${logicalId}`)
    .digest('hex')
    .slice(0, 32)
    .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
}

/** An SQS record of the event Lambda sends the function (`event.Records[i]`). */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, SqsRecordMessageAttribute>>;
  readonly md5OfBody: string;
  readonly md5OfMessageAttributes?: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/** A message attribute as the event carries it: camel-cased, binary values in base64, the list members reserved. */
export interface SqsRecordMessageAttribute {
  readonly stringValue?: string;
  readonly binaryValue?: string;
  readonly stringListValues: string[];
  readonly binaryListValues: string[];
  readonly dataType: string;
}

const base64 = (value: Uint8Array) => Buffer.from(value).toString('base64');

/** The event record of a received message (ReceiveMessage with all system and message attributes). */
export function sqsRecordOf(message: Message, queueArn: string, region: string): SqsRecord {
  const messageAttributes: Record<string, SqsRecordMessageAttribute> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {}))
    messageAttributes[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map(base64),
      dataType: value.DataType ?? 'String',
    };
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...(message.Attributes ?? {}) } as Record<string, string>,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The mapping's FilterCriteria as one predicate over a record: true when any pattern matches (no patterns: all).
 * Patterns are EventBridge patterns (Lambda "supports the same set of syntax and rules as Amazon EventBridge") over the
 * record, evaluated by the project's engine in the `eventbridge` dialect. A pattern whose `body` is an object applies to
 * a body that is valid JSON, parsed; one whose `body` is a list of rules applies to a body that is not JSON, as the
 * string it is; any other pairing drops the message ("Properly filtering Amazon SQS messages").
 */
export function sqsFilter(patterns: readonly Record<string, unknown>[]): (record: SqsRecord) => boolean {
  if (patterns.length === 0) return () => true;
  const compiled = patterns.map((pattern) => ({
    body: pattern.body === undefined ? 'none' : Array.isArray(pattern.body) ? 'string' : 'json',
    matcher: compilePattern(pattern, 'eventbridge') as CompiledPattern,
  }));
  return (record) => {
    let parsed: { json: true; value: unknown } | { json: false } | undefined;
    const body = () => {
      if (!parsed) {
        try {
          parsed = { json: true, value: JSON.parse(record.body) };
        } catch {
          parsed = { json: false };
        }
      }
      return parsed;
    };
    return compiled.some(({ body: kind, matcher }) => {
      if (kind === 'none') return matcher.matches(record);
      const content = body();
      if (kind === 'json') return content.json && matcher.matches({ ...record, body: content.value });
      return !content.json && matcher.matches(record);
    });
  };
}

/**
 * The messages a partial batch response names as failed, or `'all'` when Lambda treats the response as a complete
 * failure. Success: no response, a response without `batchItemFailures`, or a null or empty list. Complete failure: a
 * response that is not a JSON object (a string, a number, a list), `batchItemFailures` that is not a list, an entry
 * without `itemIdentifier` (a bad key name), a null or empty `itemIdentifier`, or one that is no messageId of the batch.
 */
export function failedMessageIds(response: unknown, batch: readonly { messageId: string }[]): Set<string> | 'all' {
  if (response === null || response === undefined) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return 'all';
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const known = new Set(batch.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !known.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

/** The settings of one mapping, from the template (checked against AWS's limits by the template reader). */
export interface SqsEventSourceSettings {
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  /** ScalingConfig.MaximumConcurrency; undefined: Lambda's initial five concurrent batches. */
  readonly maximumConcurrency?: number;
  readonly reportBatchItemFailures: boolean;
  /** FilterCriteria patterns, parsed. */
  readonly filters: readonly Record<string, unknown>[];
  readonly enabled: boolean;
}

/**
 * The mapping's `State` as GetEventSourceMapping reports it, plus `CreateFailed`: a mapping CreateEventSourceMapping
 * refused (CloudFormation's CREATE_FAILED for the resource; the Lambda API would not list it). Its
 * `StateTransitionReason` is Lambda's error message.
 */
export type EventSourceMappingState = 'Creating' | 'Enabling' | 'Enabled' | 'Disabling' | 'Disabled' | 'CreateFailed';

/** What GetEventSourceMapping answers about the mapping, in its field names. */
export interface EventSourceMappingStatus {
  readonly UUID: string;
  readonly EventSourceArn: string;
  readonly FunctionArn: string;
  readonly BatchSize: number;
  readonly MaximumBatchingWindowInSeconds: number;
  readonly ScalingConfig?: { readonly MaximumConcurrency: number };
  readonly FunctionResponseTypes: string[];
  readonly FilterCriteria?: { readonly Filters: { readonly Pattern: string }[] };
  readonly State: EventSourceMappingState;
  readonly StateTransitionReason: string;
  /** Seconds since the epoch, as the API's `LastModified`. */
  readonly LastModified: number;
}

/** Local pacing; AWS documents that it backs off, not by how much. */
export interface SqsEventSourceTiming {
  /** Pause of the receiver after a failed batch (without ReportBatchItemFailures), doubling up to 10 s. Default 1 s. */
  readonly failureBackoffMs?: number;
  /** First wait before a throttled invocation is tried again, doubling up to 1 s. Default 100 ms. */
  readonly throttleRetryMs?: number;
  /** First wait after a failed SQS call (ReceiveMessage refused or unreachable), doubling up to 30 s. Default 1 s. */
  readonly pollErrorBackoffMs?: number;
}

export interface SqsEventSourceOptions {
  /** The mapping's logical id in the template. */
  readonly logicalId: string;
  readonly uuid: string;
  readonly queueArn: string;
  /** The queue's URL as the SQS client reaches it (the IAM gateway's). */
  readonly queueUrl: string;
  readonly functionName: string;
  readonly functionArn: string;
  /** The function's timeout, for the effective visibility timeout under a batching window. */
  readonly functionTimeoutSeconds: number;
  readonly settings: SqsEventSourceSettings;
  /** Signs with the function's execution role (the administrator's keys with `--iam off`). */
  readonly sqs: SQSClient;
  /** A synchronous invocation of the function (the local Lambda service's, which publishes AWS/Lambda metrics). */
  readonly invoke: (event: { Records: SqsRecord[] }) => Promise<InvokeResult>;
  readonly region: string;
  /** Set when CreateEventSourceMapping would refuse the mapping: it is CreateFailed and never polls. */
  readonly creationError?: string;
  readonly timing?: SqsEventSourceTiming;
  /** Failed SQS calls the mapping survives (it backs off and polls again). */
  readonly onError?: (error: unknown) => void;
}

interface Pending {
  readonly record: SqsRecord;
  /** When the message was received (ms), from which its visibility timeout runs. */
  readonly receivedAt: number;
  readonly bytes: number;
}

/** An SQS event source mapping of the template, polling its queue for its function (see the module comment). */
export class SqsEventSource {
  private state: EventSourceMappingState = 'Creating';
  private reason: string;
  private modifiedAt = Date.now();
  private readonly matches: (record: SqsRecord) => boolean;
  private running = false;
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly slotWaiters: (() => void)[] = [];
  private readonly sleepers = new Set<() => void>();
  /** Received, not yet handed to the function (a batch cut short by the payload limit leaves the rest here). */
  private carried: Pending[] = [];
  private visibilityTimeoutSeconds = 30;

  constructor(readonly options: SqsEventSourceOptions) {
    this.matches = sqsFilter(options.settings.filters);
    this.reason = options.creationError ?? 'USER_INITIATED';
    if (options.creationError) this.state = 'CreateFailed';
  }

  get concurrency(): number {
    return this.options.settings.maximumConcurrency ?? SQS_EVENT_SOURCE_LIMITS.initialConcurrency;
  }

  get currentState(): EventSourceMappingState {
    return this.state;
  }

  describe(): EventSourceMappingStatus {
    const { settings } = this.options;
    return {
      UUID: this.options.uuid,
      EventSourceArn: this.options.queueArn,
      FunctionArn: this.options.functionArn,
      BatchSize: settings.batchSize,
      MaximumBatchingWindowInSeconds: settings.maximumBatchingWindowInSeconds,
      ...(settings.maximumConcurrency === undefined
        ? {}
        : { ScalingConfig: { MaximumConcurrency: settings.maximumConcurrency } }),
      FunctionResponseTypes: settings.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
      ...(settings.filters.length > 0
        ? { FilterCriteria: { Filters: settings.filters.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) } }
        : {}),
      State: this.state,
      StateTransitionReason: this.reason,
      LastModified: this.modifiedAt / 1000,
    };
  }

  /** Creation as CloudFormation does it: Enabled (polling) or Disabled, per the template's `Enabled`. */
  async start(): Promise<void> {
    if (this.state !== 'Creating') return;
    if (this.options.settings.enabled) await this.enable();
    else this.setState('Disabled');
  }

  /** UpdateEventSourceMapping with `Enabled: true`: Enabling, then Enabled, polling. */
  async enable(): Promise<void> {
    if (this.state === 'CreateFailed' || this.state === 'Enabled' || this.state === 'Enabling') return;
    if (this.state === 'Disabling') await this.loop;
    this.setState('Enabling');
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.receive();
    this.setState('Enabled');
  }

  /**
   * UpdateEventSourceMapping with `Enabled: false`: Disabling while the receive under way is abandoned and the
   * invocations in flight finish (up to 3 s; their messages are deleted as usual), then Disabled. Messages received
   * and not yet handed to the function reappear after their visibility timeout.
   */
  async disable(): Promise<void> {
    if (this.state !== 'Enabled' && this.state !== 'Enabling') return;
    this.setState('Disabling');
    await this.halt();
    this.setState('Disabled');
  }

  /** Stops polling with the runtime (the state is left as it was). */
  async close(): Promise<void> {
    await this.halt();
  }

  private setState(state: EventSourceMappingState): void {
    this.state = state;
    this.reason = 'USER_INITIATED';
    this.modifiedAt = Date.now();
  }

  private async halt(): Promise<void> {
    this.running = false;
    this.abort?.abort();
    for (const wake of [...this.sleepers]) wake();
    for (const waiter of this.slotWaiters.splice(0)) waiter();
    await this.loop;
    // An invocation in flight may run up to the function's timeout; wait a little for its outcome, then leave it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.inFlight),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 3000);
      }),
    ]);
    clearTimeout(timer);
    this.carried = [];
  }

  /** Resolves after `ms`, or at once when the mapping stops. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async freeSlot(): Promise<void> {
    while (this.running && this.inFlight.size >= this.concurrency)
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  /** The receiver: a batch at a time, each handed to a free concurrency slot. */
  private async receive(): Promise<void> {
    const timing = this.options.timing ?? {};
    let errorDelay = timing.pollErrorBackoffMs ?? 1000;
    let attributesRead = false;
    while (this.running) {
      try {
        if (!attributesRead) {
          await this.readQueueAttributes();
          attributesRead = true;
        }
        await this.freeSlot();
        if (!this.running) break;
        const batch = await this.collect();
        errorDelay = timing.pollErrorBackoffMs ?? 1000;
        if (batch.length === 0 || !this.running) continue;
        const work = this.process(batch).finally(() => {
          this.inFlight.delete(work);
          this.slotWaiters.shift()?.();
        });
        this.inFlight.add(work);
      } catch (error: unknown) {
        if (!this.running) break;
        this.options.onError?.(
          new Error(
            `event source mapping ${this.options.logicalId} (${this.options.queueArn}): ${(error as Error).message ?? error}`,
            { cause: error },
          ),
        );
        await this.sleep(errorDelay);
        errorDelay = Math.min(errorDelay * 2, 30_000);
      }
    }
  }

  /** Lambda reads the queue's attributes (GetQueueAttributes) to learn its visibility timeout. */
  private async readQueueAttributes(): Promise<void> {
    const answer = await this.options.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ['VisibilityTimeout'] }),
      { abortSignal: this.abort?.signal },
    );
    const value = Number(answer.Attributes?.VisibilityTimeout);
    if (Number.isFinite(value)) this.visibilityTimeoutSeconds = value;
  }

  /** The visibility timeout the mapping's receives get, and so how long a received message stays hidden. */
  private get effectiveVisibilitySeconds(): number {
    const window = this.options.settings.maximumBatchingWindowInSeconds;
    const needed = window + this.options.functionTimeoutSeconds;
    return window > 0 && needed > this.visibilityTimeoutSeconds ? needed + 30 : this.visibilityTimeoutSeconds;
  }

  /**
   * Receives until the batch is full, the batching window (from the first message kept) has passed, or the payload
   * limit is reached; with no window, the first receive that keeps a message ends the batch. Messages no filter
   * matches are deleted as they arrive.
   */
  private async collect(): Promise<Pending[]> {
    const { batchSize, maximumBatchingWindowInSeconds } = this.options.settings;
    const windowMs = maximumBatchingWindowInSeconds * 1000;
    const batch: Pending[] = [];
    let bytes = 0;
    let windowEnds: number | undefined;
    const take = (pending: Pending): boolean => {
      if (batch.length > 0 && bytes + pending.bytes > SQS_EVENT_SOURCE_LIMITS.maxPayloadBytes) return false;
      batch.push(pending);
      bytes += pending.bytes;
      windowEnds ??= pending.receivedAt + windowMs;
      return true;
    };
    const carried = this.carried;
    this.carried = [];
    for (const [i, pending] of carried.entries())
      if (batch.length >= batchSize || !take(pending)) {
        this.carried = carried.slice(i);
        return batch;
      }
    while (this.running && batch.length < batchSize) {
      let wait = LONG_POLL_SECONDS;
      if (windowEnds !== undefined) {
        const left = windowEnds - Date.now();
        if (windowMs === 0 || left <= 0) break;
        wait = Math.min(LONG_POLL_SECONDS, Math.ceil(left / 1000));
      }
      const answer = await this.options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.options.queueUrl,
          MaxNumberOfMessages: Math.min(RECEIVE_MAX_MESSAGES, batchSize - batch.length),
          WaitTimeSeconds: wait,
          VisibilityTimeout: this.effectiveVisibilitySeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: this.abort?.signal },
      );
      const receivedAt = Date.now();
      const filteredOut: SqsRecord[] = [];
      const records = (answer.Messages ?? []).map((message) =>
        sqsRecordOf(message, this.options.queueArn, this.options.region),
      );
      for (const [i, record] of records.entries()) {
        if (!this.matches(record)) {
          filteredOut.push(record);
          continue;
        }
        const pending = { record, receivedAt, bytes: Buffer.byteLength(JSON.stringify(record)) + 1 };
        if (!take(pending)) {
          this.carried.push(pending, ...this.keepRest(records.slice(i + 1), receivedAt, filteredOut));
          break;
        }
      }
      if (filteredOut.length > 0) await this.delete(filteredOut);
      if (this.carried.length > 0) break;
    }
    return batch;
  }

  /** Messages after one that did not fit the payload: kept for the next batch (those no filter matches deleted). */
  private keepRest(records: SqsRecord[], receivedAt: number, filteredOut: SqsRecord[]): Pending[] {
    const kept: Pending[] = [];
    for (const record of records)
      if (this.matches(record)) kept.push({ record, receivedAt, bytes: Buffer.byteLength(JSON.stringify(record)) + 1 });
      else filteredOut.push(record);
    return kept;
  }

  /** One batch through the function: invoke (retrying throttles), then delete what succeeded. */
  private async process(batch: Pending[]): Promise<void> {
    const records = batch.map((pending) => pending.record);
    const timing = this.options.timing ?? {};
    const visibleAgainAt = Math.min(...batch.map((p) => p.receivedAt)) + this.effectiveVisibilitySeconds * 1000;
    let throttleDelay = timing.throttleRetryMs ?? 100;
    let result: InvokeResult;
    for (;;) {
      try {
        result = await this.options.invoke({ Records: records });
      } catch (error: unknown) {
        result = {
          kind: 'error',
          timedOut: false,
          error: { errorType: (error as Error).name ?? 'Error', errorMessage: (error as Error).message ?? '' },
        };
      }
      if (result.kind !== 'throttled') break;
      // Throttled: retried until the messages would be visible again; then they are left to reappear in the queue.
      if (!this.running || Date.now() + throttleDelay >= visibleAgainAt) return;
      await this.sleep(throttleDelay);
      throttleDelay = Math.min(throttleDelay * 2, 1000);
    }
    if (result.kind === 'error') {
      await this.backOffAfterFailure();
      return;
    }
    const failed = this.options.settings.reportBatchItemFailures
      ? failedMessageIds(result.kind === 'success' ? result.payload : undefined, records)
      : new Set<string>();
    if (failed === 'all') {
      await this.backOffAfterFailure();
      return;
    }
    await this.delete(records.filter((record) => !failed.has(record.messageId)));
  }

  /**
   * After a failed batch Lambda "gradually backs off, reducing the amount of concurrency allocated" to the mapping; with
   * ReportBatchItemFailures it "doesn't scale down message polling when function invocations fail". Locally the slot
   * of the failed batch stays taken for the back-off.
   */
  private backOffAfterFailure(): Promise<void> {
    if (this.options.settings.reportBatchItemFailures) return Promise.resolve();
    return this.sleep(this.options.timing?.failureBackoffMs ?? 1000);
  }

  /** DeleteMessageBatch, ten at a time; a message whose delete fails reappears after its visibility timeout. */
  private async delete(records: readonly SqsRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += DELETE_BATCH_MAX) {
      const chunk = records.slice(start, start + DELETE_BATCH_MAX);
      try {
        const answer = await this.options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: chunk.map((record, i) => ({ Id: String(i), ReceiptHandle: record.receiptHandle })),
          }),
        );
        if (answer.Failed && answer.Failed.length > 0)
          this.options.onError?.(
            new Error(
              `event source mapping ${this.options.logicalId}: ${answer.Failed.length} of ${chunk.length} deletes failed (${answer.Failed[0]?.Code}: ${answer.Failed[0]?.Message}); those messages will be received again`,
            ),
          );
      } catch (error: unknown) {
        this.options.onError?.(
          new Error(
            `event source mapping ${this.options.logicalId}: DeleteMessageBatch failed (${(error as Error).message}); those messages will be received again`,
            { cause: error },
          ),
        );
      }
    }
  }
}

/**
 * CreateEventSourceMapping's check of the execution role: the first of ReceiveMessage, DeleteMessage and
 * GetQueueAttributes on the queue it does not allow, as Lambda's error message (InvalidParameterValueException), or
 * undefined when all are allowed. `authorize` is the local IAM evaluator (denials are recorded by it).
 */
export function executionRoleError(
  queueArn: string,
  authorize: (permission: { action: string; resource: string }) => { allowed: boolean },
): string | undefined {
  for (const action of SQS_EXECUTION_ROLE_ACTIONS)
    if (!authorize({ action, resource: queueArn }).allowed)
      return `The function execution role does not have permissions to call ${action.slice('sqs:'.length)} on SQS`;
  return undefined;
}

/**
 * Creates the template's SQS event source mappings as CloudFormation would, and starts those that are enabled. Each
 * acts with its function's execution role: CreateEventSourceMapping's permission check is made with the local IAM
 * evaluator (a refusal is recorded in the denials log, and the mapping is CreateFailed, polling nothing), and its SQS
 * calls are signed with the role's keys and authorized by the gateway like any other request. A mapping whose function
 * does not run locally is reported through `onError` and not created.
 */
export async function startSqsEventSourceMappings(input: {
  readonly specs: readonly SqsEventSourceMappingSpec[];
  readonly lambda: LambdaService;
  readonly iam: LocalIam;
  /** The function's execution role as a local principal with its keys; undefined: not a role of the template. */
  readonly roleOf: (functionLogicalId: string) => PrincipalEntry | undefined;
  readonly queueUrlOf: (queueLogicalId: string) => string | undefined;
  /** The SQS endpoint callers use (the IAM gateway's). */
  readonly endpoint: string;
  /** The keys that act as the administrator, for a function without a template role (and with `--iam off`). */
  readonly adminCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  readonly stackName: string;
  readonly timing?: SqsEventSourceTiming;
  readonly onError: (error: unknown) => void;
}): Promise<{ readonly mappings: ReadonlyMap<string, SqsEventSource>; close(): Promise<void> }> {
  const mappings = new Map<string, SqsEventSource>();
  const clients: SQSClient[] = [];
  const close = async () => {
    await Promise.all([...mappings.values()].map((mapping) => mapping.close()));
    for (const client of clients) client.destroy();
  };
  try {
    for (const spec of input.specs) {
      if (!input.lambda.names.includes(spec.functionName)) {
        input.onError(
          new Error(
            `event source mapping ${spec.logicalId}: its function ${spec.functionName} does not run locally, so ${spec.queueArn} is not polled`,
          ),
        );
        continue;
      }
      const queueUrl = input.queueUrlOf(spec.queueLogicalId);
      if (!queueUrl)
        throw new Error(`event source mapping ${spec.logicalId}: queue ${spec.queueLogicalId} was not created`);
      const role = input.roleOf(spec.functionLogicalId);
      const creationError = role
        ? executionRoleError(spec.queueArn, (permission) => input.iam.authorize(role.principal, permission, 'lambda'))
        : undefined;
      if (creationError)
        input.onError(
          new Error(`event source mapping ${spec.logicalId}: CreateEventSourceMapping would fail: ${creationError}`),
        );
      const sqs = new SQSClient({
        region: input.region,
        endpoint: input.endpoint,
        credentials: role ? role.credentials : input.adminCredentials,
      });
      clients.push(sqs);
      const mapping = new SqsEventSource({
        logicalId: spec.logicalId,
        uuid: eventSourceMappingUuid(input.stackName, spec.logicalId),
        queueArn: spec.queueArn,
        queueUrl,
        functionName: spec.functionName,
        functionArn: input.lambda.arnOf(spec.functionName),
        functionTimeoutSeconds: spec.functionTimeoutSeconds,
        settings: spec.settings,
        sqs,
        invoke: (event) => input.lambda.invoke(spec.functionName, event),
        region: input.region,
        ...(creationError ? { creationError } : {}),
        ...(input.timing ? { timing: input.timing } : {}),
        onError: input.onError,
      });
      mappings.set(spec.logicalId, mapping);
      await mapping.start();
    }
  } catch (error: unknown) {
    await close();
    throw error;
  }
  return { mappings, close };
}
