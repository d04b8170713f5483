import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type CompiledPattern,
  compilePattern,
  EmptyPipeFilterError,
  type Guard,
  guardFor,
  PatternValidationError,
  PIPES_POLLER_FIELDS,
  pipeFilterFor,
  requirePipeFilter,
  typedView,
} from '@orderflow/pipeline/engine';
import { PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { orderIdOf, type StreamRecord, unmarshallImage } from '@orderflow/pipeline/schemas';
import { BadRequestError, NotFoundError, OpsApiError } from '../errors.ts';
import type { ImpactJob, ImpactSample, ImpactSource } from '../schemas/index.ts';
import type { DlqBrowser } from './dlq-browser.ts';
import type { StreamScanner } from './impact-stream.ts';
import { JOB_HEARTBEAT_TIMEOUT_MS, JOB_START_TIMEOUT_MS, type JobKind, JobStore } from './job-store.ts';
import type { JournalReader } from './journal.ts';
import { type Actor, type JobLauncher, RUN_STOP_MARGIN_MS, type RunOptions } from './redrive.ts';
import { ShardRecordCache } from './stream-reader.ts';

/** Records whose verdict changes kept as samples at most, and their size as JSON: the job is one DynamoDB item. */
export const MAX_SAMPLES = 25;
const MAX_SAMPLE_BYTES = 200_000;
const HEARTBEAT_MS = 1000;
/**
 * Previews one principal may start a minute. A preview changes nothing, so viewers may run one too, but a stream scan
 * is a third reader of every shard for as long as it runs (at most one GetRecords a second per shard, shared by all
 * previews through the read gate): a few a minute is what an operator trying rules needs.
 */
export const IMPACT_RUNS_PER_MINUTE = 6;

export interface ImpactRequest {
  readonly pipe: PipeKey;
  readonly rule: unknown;
  readonly source: ImpactSource;
  readonly limit: number;
}

/** The request as stored with the job; the rule as JSON text (a pattern's numbers need not fit DynamoDB's). */
interface StoredImpactRequest {
  readonly pipe: PipeKey;
  readonly ruleJson: string;
  readonly source: ImpactSource;
  readonly limit: number;
}

/**
 * Impact jobs in the jobs table (`impact#<id>`). The rule, its pipe filter and the samples are stored as JSON text:
 * they are the operator's pattern and records' values, whose numbers DynamoDB's document marshalling may refuse
 * (beyond 2^53, or a value the typed view read as a number).
 */
const IMPACT_JOBS: JobKind<ImpactJob> = {
  prefix: 'impact#',
  stored(job) {
    return {
      ...job,
      rule: JSON.stringify(job.rule),
      pipeFilter: JSON.stringify(job.pipeFilter),
      changed: JSON.stringify(job.changed),
    };
  },
};

/** Where impact previews are kept: the ops jobs table, beside redrive jobs. */
export function impactJobStore(
  dynamodb: DynamoDBDocumentClient,
  table: string,
): JobStore<ImpactJob, StoredImpactRequest> {
  return new JobStore<ImpactJob, StoredImpactRequest>(dynamodb, table, IMPACT_JOBS);
}

function revive(stored: ImpactJob): ImpactJob {
  const parse = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
  return {
    ...stored,
    rule: parse(stored.rule),
    pipeFilter: parse(stored.pipeFilter) as ImpactJob['pipeFilter'],
    changed: parse(stored.changed) as ImpactSample[],
  };
}

/**
 * The candidate rule checked as the pipes' own rules are: valid in the full event-pattern language, and with a pipe
 * filter derived from it (`pipeFilterFor`) that EventBridge Pipes accepts and that filters something. Answers that
 * filter; a 400 naming what is wrong otherwise.
 */
export function candidatePipeFilter(pipe: PipeKey, rule: unknown): Record<string, unknown> {
  try {
    compilePattern(rule, 'eventbridge');
  } catch (error: unknown) {
    if (error instanceof PatternValidationError) throw new BadRequestError(`rule: ${error.message}`, { cause: error });
    throw error;
  }
  try {
    return requirePipeFilter(pipe, rule as Record<string, unknown>) as Record<string, unknown>;
  } catch (error: unknown) {
    if (!(error instanceof EmptyPipeFilterError)) throw error;
    const pollerFields = Object.keys(rule as object).filter((key) => PIPES_POLLER_FIELDS.has(key.split('.')[0] ?? key));
    const dropped =
      pollerFields.length > 0 && Object.keys(pipeFilterFor(rule as Record<string, unknown>)).length === 0
        ? ` (${pollerFields.join(', ')} ${pollerFields.length === 1 ? 'is a field' : 'are fields'} the Pipes poller adds, which a pipe filter cannot use; the rule needs a constraint on the record's images or keys)`
        : '';
    throw new BadRequestError(`rule: ${error.message}${dropped}`, { cause: error });
  }
}

/**
 * Counts, over records, how many the pipe's current rule and a candidate accept, keeping samples of the records whose
 * verdict changes with the engine's explanation of both verdicts. Records come as JSON text (the stream's GetRecords
 * answer, the failure journal) and are matched on the engine's JSON-text path in the typed view (`typedNumbers`: `N`
 * values as numbers, the view the business rules are written for), without being parsed unless their verdict
 * changes; records the ops API already holds as objects (read from the stream for a DLQ message) are matched on
 * their typed view. Both paths give the same verdict (pipeline/test/patterns/json-text-typed.test.ts).
 */
export class ImpactEvaluator {
  evaluated = 0;
  current = 0;
  candidate = 0;
  changedCount = 0;
  /** Records that could not be read (malformed JSON text): not evaluated. */
  unreadable = 0;
  readonly changed: ImpactSample[] = [];
  private sampleBytes = 0;
  private readonly currentRule: CompiledPattern;
  private readonly candidateRule: CompiledPattern;
  private readonly guard: Guard;

  constructor(pipe: PipeKey, candidate: unknown) {
    this.currentRule = compilePattern(PIPES[pipe].rule.pattern, 'eventbridge', { typedNumbers: true });
    this.candidateRule = compilePattern(candidate, 'eventbridge', { typedNumbers: true });
    this.guard = guardFor(PIPES[pipe].rule);
  }

  /** A record's JSON text, shaped as Pipes delivers it. */
  text(json: string): void {
    let current: boolean;
    let candidate: boolean;
    try {
      current = this.currentRule.matchesJson(json);
      candidate = this.candidateRule.matchesJson(json);
    } catch {
      this.unreadable += 1;
      return;
    }
    this.count(current, candidate);
    if (current !== candidate) this.keep(() => JSON.parse(json) as StreamRecord, current, candidate);
  }

  /** A record the ops API holds as an object (as Pipes delivers it). */
  record(record: StreamRecord): void {
    const view = typedView(record);
    const current = this.currentRule.matches(view);
    const candidate = this.candidateRule.matches(view);
    this.count(current, candidate);
    if (current !== candidate) this.keep(() => record, current, candidate);
  }

  private count(current: boolean, candidate: boolean): void {
    this.evaluated += 1;
    if (current) this.current += 1;
    if (candidate) this.candidate += 1;
    if (current !== candidate) this.changedCount += 1;
  }

  private keep(recordOf: () => StreamRecord, current: boolean, candidate: boolean): void {
    if (this.changed.length >= MAX_SAMPLES || this.sampleBytes >= MAX_SAMPLE_BYTES) return;
    const sample = this.sample(recordOf(), current, candidate);
    const bytes = Buffer.byteLength(JSON.stringify(sample));
    if (this.sampleBytes + bytes > MAX_SAMPLE_BYTES) {
      this.sampleBytes = MAX_SAMPLE_BYTES;
      return;
    }
    this.sampleBytes += bytes;
    this.changed.push(sample);
  }

  private sample(record: StreamRecord, current: boolean, candidate: boolean): ImpactSample {
    const view = typedView(record);
    const currentFailures = this.currentRule.explain(view).failures;
    const candidateFailures = this.candidateRule.explain(view).failures;
    const verdict = this.guard.check(record);
    const failingClause =
      verdict.verdict === 'reject' ? { id: verdict.clause, description: verdict.clauseDescription } : null;
    const words = (failures: readonly { message: string }[]) => failures.map((failure) => failure.message).join('; ');
    const explanation = current
      ? `The current rule accepts the record and the candidate rejects it: ${words(candidateFailures)}.`
      : `The candidate accepts the record and the current rule rejects it${
          verdict.verdict === 'reject' ? ` at clause '${verdict.clause}' (${verdict.clauseDescription})` : ''
        }: ${words(currentFailures)}.`;
    const image = (which: 'NewImage' | 'OldImage') => {
      try {
        return unmarshallImage(record.dynamodb?.[which]) ?? null;
      } catch {
        return null;
      }
    };
    return {
      eventId: String(record.eventID ?? ''),
      eventName: String(record.eventName ?? ''),
      sequenceNumber: String(record.dynamodb?.SequenceNumber ?? ''),
      orderId: (record.dynamodb ? orderIdOf(record) : undefined) ?? null,
      newImage: image('NewImage'),
      oldImage: image('OldImage'),
      current: { accepted: current, failingClause, failures: currentFailures },
      candidate: { accepted: candidate, failures: candidateFailures },
      explanation,
    };
  }
}

export interface ImpactDeps {
  readonly jobs: JobStore<ImpactJob, StoredImpactRequest>;
  readonly scanner: StreamScanner;
  readonly browser: DlqBrowser;
  readonly journal: JournalReader;
  /** Where jobs run; default: in the background of this process. */
  readonly launcher?: JobLauncher;
}

interface RunningImpact {
  job: ImpactJob;
  cancel: boolean;
  outOfTime: boolean;
  lost: boolean;
  done: Promise<void>;
}

/** What a run found beyond the counts: why it is not complete. */
interface RunGaps {
  readonly notes: string[];
  complete: boolean;
}

/**
 * Rule impact previews (`POST /api/filters/impact`): how many records of real history the pipe's current rule and a
 * candidate accept, and samples of those whose verdict changes, explained. A preview changes nothing; it reads the
 * Orders stream's retained records (a third reader: only on request, through the shared read gate, ending) or the
 * pipe's dead letters as the DLQ browser resolves them (the kept view of the queue, so no message is received again
 * for it; the journal's records, and the stream's for those the journal lacks). A stream scan can outlast an HTTP
 * API's 30 seconds, so every preview is a job like a redrive: stored in the jobs table, run in the background of this
 * process or, in AWS, in an asynchronous invocation of the ops API's own function, polled and cancelled by id.
 */
export class ImpactService {
  private readonly running = new Map<string, RunningImpact>();
  private readonly finished = new Map<string, ImpactJob>();

  constructor(private readonly deps: ImpactDeps) {}

  /** Checks the candidate (400s), stores the job and starts it; answers its id and the derived pipe filter at once. */
  async start(request: ImpactRequest, actor: Actor): Promise<{ jobId: string; pipeFilter: Record<string, unknown> }> {
    const pipeFilter = candidatePipeFilter(request.pipe, request.rule);
    const jobId = randomUUID();
    const job: ImpactJob = {
      jobId,
      pipe: request.pipe,
      source: request.source,
      limit: request.limit,
      actor: actor.name,
      status: 'running',
      createdAt: new Date().toISOString(),
      finishedAt: null,
      rule: request.rule,
      pipeFilter,
      progress: { done: 0, total: null, unit: request.source === 'stream' ? 'shards' : 'messages' },
      complete: false,
      note: null,
      evaluated: 0,
      current: 0,
      candidate: 0,
      changedCount: 0,
      changed: [],
    };
    const stored: StoredImpactRequest = {
      pipe: request.pipe,
      ruleJson: JSON.stringify(request.rule),
      source: request.source,
      limit: request.limit,
    };
    await this.deps.jobs.create(job, stored, { name: actor.name, role: actor.role });
    try {
      if (this.deps.launcher) await this.deps.launcher.launch(jobId);
      else void this.runJob(jobId, { runner: `process ${randomUUID()}` });
    } catch (error: unknown) {
      await this.deps.jobs.save({
        ...job,
        status: 'failed',
        finishedAt: new Date().toISOString(),
        note: `the preview could not be started (${describe(error)})`,
      });
      throw error;
    }
    return { jobId, pipeFilter };
  }

  /**
   * Runs a stored preview if no other run holds it (`JobStore.claimRun`). A run that continues one that died starts
   * over: a preview changes nothing, so reading again is all it costs. Never throws: a failure ends the job as failed.
   */
  async runJob(jobId: string, options: RunOptions): Promise<boolean> {
    const stored = await this.deps.jobs.claimRun(jobId, options.runner);
    if (!stored) return false;
    const request: ImpactRequest = {
      pipe: stored.request.pipe,
      rule: JSON.parse(stored.request.ruleJson),
      source: stored.request.source,
      limit: stored.request.limit,
    };
    const entry: RunningImpact = {
      job: { ...revive(stored.job), evaluated: 0, current: 0, candidate: 0, changedCount: 0, changed: [] },
      cancel: stored.cancelRequested,
      outOfTime: false,
      lost: false,
      done: Promise.resolve(),
    };
    entry.done = this.run(entry, request, options).catch(async (error: unknown) => {
      if (entry.lost) return;
      entry.job = { ...entry.job, status: 'failed', finishedAt: new Date().toISOString(), note: describe(error) };
      await this.deps.jobs.save(entry.job, options.runner).catch(() => undefined);
    });
    this.running.set(jobId, entry);
    try {
      await entry.done;
    } finally {
      this.running.delete(jobId);
      this.finished.set(jobId, entry.job);
      if (this.finished.size > 100) this.finished.delete(this.finished.keys().next().value as string);
    }
    return true;
  }

  async get(jobId: string): Promise<ImpactJob> {
    const local = this.running.get(jobId)?.job ?? this.finished.get(jobId);
    if (local) return local;
    const stored = await this.deps.jobs.load(jobId);
    if (!stored) throw new NotFoundError(`impact preview '${jobId}' does not exist`);
    const job = revive(stored.job);
    if (job.status !== 'running') return job;
    const now = Date.now();
    if (stored.runner === undefined && now - stored.createdAtMs > JOB_START_TIMEOUT_MS) {
      return {
        ...job,
        status: 'failed',
        note: `the preview was never picked up by a runner within ${JOB_START_TIMEOUT_MS / 60_000} minutes`,
      };
    }
    if (stored.runner !== undefined && now - stored.heartbeatAtMs > JOB_HEARTBEAT_TIMEOUT_MS) {
      return {
        ...job,
        status: 'failed',
        note: 'the run of this preview stopped (its process or Lambda invocation ended)',
      };
    }
    return job;
  }

  /** Stops a running preview between pages or messages; its counts so far stay, marked incomplete. */
  async cancel(jobId: string, actor: Actor): Promise<ImpactJob> {
    const job = await this.get(jobId);
    if (actor.role !== 'operator' && actor.name !== job.actor) {
      throw new OpsApiError(403, `${actor.name} may cancel only their own previews; this one is ${job.actor}'s`);
    }
    if (job.status === 'running') {
      const local = this.running.get(jobId);
      if (local) local.cancel = true;
      await this.deps.jobs.requestCancel(jobId);
    }
    return this.get(jobId);
  }

  /** Waits for a preview this process is running (tests, benchmarks). */
  async settled(jobId: string): Promise<ImpactJob> {
    await this.running.get(jobId)?.done;
    return this.get(jobId);
  }

  /** Stops every running preview (shutdown). */
  async drain(): Promise<void> {
    for (const entry of this.running.values()) entry.cancel = true;
    await Promise.all([...this.running.values()].map((entry) => entry.done));
  }

  private async run(entry: RunningImpact, request: ImpactRequest, options: RunOptions): Promise<void> {
    const evaluator = new ImpactEvaluator(request.pipe, request.rule);
    const publish = () => {
      entry.job = {
        ...entry.job,
        evaluated: evaluator.evaluated,
        current: evaluator.current,
        candidate: evaluator.candidate,
        changedCount: evaluator.changedCount,
        changed: [...evaluator.changed],
      };
    };
    let saving: Promise<void> | undefined;
    const heartbeat = () => {
      if (saving || entry.lost) return;
      publish();
      saving = this.deps.jobs
        .save(entry.job, options.runner)
        .then(({ cancelRequested, lost }) => {
          if (cancelRequested) entry.cancel = true;
          if (lost) entry.lost = true;
        })
        .catch(() => undefined)
        .finally(() => {
          saving = undefined;
        });
    };
    const beats = setInterval(heartbeat, HEARTBEAT_MS);
    beats.unref();
    const deadline =
      options.deadline === undefined
        ? undefined
        : setTimeout(
            () => {
              entry.outOfTime = true;
              entry.cancel = true;
            },
            Math.max(0, options.deadline - RUN_STOP_MARGIN_MS - Date.now()),
          );
    const gaps: RunGaps = { notes: [], complete: true };
    try {
      if (request.source === 'stream') await this.scanStream(entry, request, evaluator, gaps);
      else await this.scanDeadLetters(entry, request, evaluator, gaps);
    } finally {
      clearInterval(beats);
      if (deadline) clearTimeout(deadline);
      await saving;
    }
    if (entry.lost) return;
    publish();
    if (evaluator.unreadable > 0) {
      gaps.complete = false;
      gaps.notes.push(`${evaluator.unreadable} record(s) were not valid JSON and were not evaluated`);
    }
    if (entry.outOfTime) {
      gaps.notes.unshift(
        `the run ran out of time (a Lambda invocation runs at most 15 minutes; a preview stops ${RUN_STOP_MARGIN_MS / 1000} s before): the counts cover the records read until then`,
      );
    } else if (entry.cancel) {
      gaps.notes.unshift('cancelled: the counts cover the records read until then');
    }
    const stopped = entry.cancel || entry.outOfTime;
    entry.job = {
      ...entry.job,
      status: entry.cancel && !entry.outOfTime ? 'cancelled' : 'succeeded',
      finishedAt: new Date().toISOString(),
      complete: gaps.complete && !stopped,
      note: gaps.notes.length > 0 ? gaps.notes.join('; ') : null,
    };
    if ((await this.deps.jobs.save(entry.job, options.runner)).lost) entry.lost = true;
  }

  private async scanStream(
    entry: RunningImpact,
    request: ImpactRequest,
    evaluator: ImpactEvaluator,
    gaps: RunGaps,
  ): Promise<void> {
    const outcome = await this.deps.scanner.scan({
      limit: request.limit,
      stopped: () => entry.cancel,
      onRecords: (texts) => {
        for (const text of texts) evaluator.text(text);
      },
      onShardDone: (done, total) => {
        entry.job = { ...entry.job, progress: { ...entry.job.progress, done, total } };
      },
    });
    entry.job = {
      ...entry.job,
      progress: { ...entry.job.progress, done: outcome.shardsDone, total: outcome.shards },
    };
    if (!outcome.complete) {
      gaps.complete = false;
      gaps.notes.push(...outcome.gaps);
    }
    if (outcome.throttled > 0) {
      gaps.notes.push(`DynamoDB Streams throttled ${outcome.throttled} read(s); the scan backed off and went on`);
    }
  }

  private async scanDeadLetters(
    entry: RunningImpact,
    request: ImpactRequest,
    evaluator: ImpactEvaluator,
    gaps: RunGaps,
  ): Promise<void> {
    const { pipe, limit } = request;
    const { browser, journal } = this.deps;
    const view = await browser.snapshot(pipe);
    let done = 0;
    entry.job = { ...entry.job, progress: { ...entry.job.progress, done, total: view.messages.length } };
    /** A record may lie in the ranges of two messages (ParallelizationFactor > 1): it is evaluated once. */
    const seen = new Set<string>();
    const problems = { malformed: 0, truncated: 0, missing: 0 };
    // What this run read of each shard: messages whose ranges lie in a stretch already read cost no stream call.
    const reads = new ShardRecordCache();
    let limited = false;
    const room = () => {
      if (evaluator.evaluated < limit) return true;
      limited = true;
      return false;
    };
    for (const message of view.messages) {
      if (entry.cancel || !room()) break;
      const parsed = await browser.parse(pipe, message.body);
      if ('malformed' in parsed) {
        problems.malformed += 1;
      } else {
        const info = parsed.message.DDBStreamBatchInfo;
        // As a message is resolved for its detail: the journal first, the stream (through the gate) when it lacks some.
        const entries = await journal.entriesInRange(pipe, info, message.sentAt);
        if (entries.length >= info.batchSize) {
          for (const journaled of entries) {
            if (seen.has(journaled.eventId)) continue;
            if (!room()) break;
            seen.add(journaled.eventId);
            if (journaled.recordTruncated) problems.truncated += 1;
            else evaluator.text(journaled.record);
          }
        } else {
          const batch = await browser.recordsOf(pipe, parsed.message, reads);
          for (const record of batch.records) {
            if (seen.has(record.eventId)) continue;
            if (!room()) break;
            seen.add(record.eventId);
            if (record.record) evaluator.record(record.record);
            else problems.truncated += 1;
          }
          problems.missing += batch.missing;
        }
      }
      done += 1;
      entry.job = { ...entry.job, progress: { ...entry.job.progress, done } };
    }
    if (limited) gaps.notes.push(`the limit of ${limit} records was reached before every DLQ message was read`);
    if (problems.malformed > 0) {
      gaps.notes.push(`${problems.malformed} DLQ message(s) are not dead letters of this pipe and were skipped`);
    }
    if (problems.truncated > 0) {
      gaps.notes.push(
        `${problems.truncated} record(s) are only in the failure journal, truncated, and were not evaluated`,
      );
    }
    if (problems.missing > 0) {
      gaps.notes.push(
        `${problems.missing} record(s) of the messages' batches are neither in the stream any more nor in the journal`,
      );
    }
    if (limited || problems.malformed + problems.truncated + problems.missing > 0 || done < view.messages.length) {
      gaps.complete = false;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
