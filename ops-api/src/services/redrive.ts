import { randomUUID } from 'node:crypto';
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { type Guard, guardFor } from '@orderflow/pipeline/engine';
import { failedIdentifiers, PIPE_KEYS, PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import type { JournalEntry, PipeDlqMessage, StreamRecord } from '@orderflow/pipeline/schemas';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { AuditEntry, RedriveJob, RedriveMessageResult, RedriveStatus, Role } from '../schemas/index.ts';
import type { AuditLog } from './audit-log.ts';
import { ClaimAhead } from './claim-ahead.ts';
import { Coalescer } from './coalescer.ts';
import type { BatchRecords, DlqBrowser } from './dlq-browser.ts';
import { CLAIM_VISIBILITY_SECONDS, type DlqQueue, type QueuedMessage } from './dlq-queue.ts';
import { JOB_HEARTBEAT_TIMEOUT_MS, JOB_START_TIMEOUT_MS, type JobStore, type StoredRequest } from './job-store.ts';
import type { JournalReader } from './journal.ts';
import type { LeaseResult, RedriveLeases } from './leases.ts';
import type { RecordState } from './record-state.ts';
import { ShardRecordCache } from './stream-reader.ts';

export interface Actor {
  readonly name: string;
  readonly role: Role;
}

export interface RedriveRequest {
  readonly pipe: PipeKey;
  readonly messageIds?: readonly string[];
  readonly all?: true;
  readonly dryRun: boolean;
  readonly ratePerSecond: number;
}

/**
 * Messages in flight at once within one job (claimed in receives of 10); `ratePerSecond` spaces their invocations.
 * Well under a Lambda account's default concurrency of 1,000, and the processor's own limit throttles the rest.
 */
const MAX_CONCURRENCY = 100;
/** Receives kept in flight by a job's claim (each up to 10 messages), so claiming overlaps the work on claimed ones. */
const PARALLEL_RECEIVES = 5;
const HEARTBEAT_MS = 1000;
/** How often a running job's results are written to its stored copy (the heartbeat writes only its progress). */
const RESULTS_SAVE_MS = 10_000;
/** How far back, and over how many audit entries, a redrive-all that found nothing looks for the job holding it. */
const HOLDER_LOOKBACK_MS = 86_400_000;
const HOLDER_LOOKBACK_ENTRIES = 500;

/**
 * What the batches of one real redrive job share: what was read of each shard, and the job's lease, lease release and
 * idempotency calls, each combining the requests of the batches in flight into one call (up to 100 keys).
 */
interface JobCalls {
  readonly records: ShardRecordCache;
  readonly leases: Coalescer<string, LeaseResult>;
  readonly releases: Coalescer<string, true>;
  readonly processed: Coalescer<string, true>;
}

interface RunningJob {
  job: RedriveJob;
  /** Stop between messages: a cancel (from any instance), a shutdown, or the run lost the job to another run. */
  cancel: boolean;
  /** The run's time is nearly up (a Lambda invocation's deadline): stop between messages, and say so. */
  outOfTime: boolean;
  /** Another run took the job over (this one was presumed dead): write nothing more. */
  lost: boolean;
  done: Promise<void>;
}

/**
 * How a job is started once stored: in the background of this process (a long-lived server), or somewhere else (in
 * AWS, an asynchronous invocation of the ops API's own function: `job-launcher.ts`), since a request's Lambda
 * invocation ends, and is frozen, when its answer is sent.
 */
export interface JobLauncher {
  launch(jobId: string): Promise<void>;
}

export interface RunOptions {
  /** Who runs the job: a process or Lambda invocation id, stored with the job so that only one run works on it. */
  readonly runner: string;
  /** When the run must have stopped (ms since the epoch): a Lambda invocation's end. */
  readonly deadline?: number;
}

/** A run stops taking new messages this long before its deadline, so what it started finishes and is recorded. */
export const RUN_STOP_MARGIN_MS = 60_000;

export interface RedriveDeps {
  readonly queue: DlqQueue;
  readonly browser: DlqBrowser;
  readonly journal: JournalReader;
  readonly state: RecordState;
  readonly leases: RedriveLeases;
  readonly jobs: JobStore;
  readonly audit: AuditLog;
  readonly lambda: LambdaClient;
  readonly functionNames: Readonly<Record<PipeKey, string>>;
  /** Where jobs run; default: in the background of this process. */
  readonly launcher?: JobLauncher;
}

/**
 * Redrive jobs (docs/AWS-FACTS.md, fact 7: SQS's own redrive cannot replay stream batches). A real run re-invokes the
 * pipe's
 * processor with the same bare-array payload the pipe sends (EventBridge user guide, "Pipes batching and
 * concurrency"), reads the answer as Pipes does (`failedIdentifiers`), and deletes the DLQ message only when every
 * record succeeded; until then the message is merely hidden, so a crash loses nothing.
 */
export class RedriveService {
  /** Jobs this process is running. */
  private readonly running = new Map<string, RunningJob>();
  /** The last jobs this process ran, as they ended (the stored copy may have its results cut to fit an item). */
  private readonly finished = new Map<string, RedriveJob>();
  private readonly guards: Record<PipeKey, Guard>;

  constructor(private readonly deps: RedriveDeps) {
    this.guards = Object.fromEntries(PIPE_KEYS.map((key) => [key, guardFor(PIPES[key].rule)])) as Record<
      PipeKey,
      Guard
    >;
  }

  /**
   * Stores the job with its request, audits its start, and hands it to the launcher; answers its id at once (the POST
   * answers 202). The job runs elsewhere ({@link runJob}): in the background of this process, or in AWS in another
   * invocation of the ops API's function with its own 15 minutes, since an HTTP API waits 30 seconds at most
   * (docs/AWS-FACTS.md, fact 14). If the launch fails, the job is stored and audited as failed, and the request fails.
   */
  async start(request: RedriveRequest, actor: Actor): Promise<string> {
    const jobId = randomUUID();
    const job: RedriveJob = {
      jobId,
      pipe: request.pipe,
      dryRun: request.dryRun,
      ratePerSecond: request.ratePerSecond,
      actor: actor.name,
      status: 'running',
      createdAt: new Date().toISOString(),
      finishedAt: null,
      progress: { total: request.messageIds?.length ?? 0, done: 0 },
      note: null,
      results: [],
    };
    await this.deps.jobs.create(job, storedRequest(request), { name: actor.name, role: actor.role });
    await this.deps.audit.append({
      actor: actor.name,
      role: actor.role,
      action: request.dryRun ? 'redrive-dry-run' : 'redrive',
      pipe: request.pipe,
      messageIds: request.messageIds ? [...request.messageIds] : ['*'],
      outcome: 'started',
      detail: `rate ${request.ratePerSecond}/s`,
      jobId,
    });
    try {
      if (this.deps.launcher) await this.deps.launcher.launch(jobId);
      else void this.runJob(jobId, { runner: `process ${randomUUID()}` });
    } catch (error: unknown) {
      const note = `the job could not be started (${describe(error)}); nothing was redriven`;
      await this.deps.jobs.save({ ...job, status: 'failed', finishedAt: new Date().toISOString(), note });
      await this.deps.audit.append({
        actor: actor.name,
        role: actor.role,
        action: request.dryRun ? 'redrive-dry-run' : 'redrive',
        pipe: request.pipe,
        messageIds: [],
        outcome: 'failed',
        detail: note,
        jobId,
      });
      throw error;
    }
    return jobId;
  }

  /**
   * Runs a stored job, if no other run holds it (see `JobStore.claimRun`): a first run, or a run that continues one
   * that died, from what that one recorded (messages with a result are not tried again; those it deleted are gone
   * from the DLQ, those it kept are back in it). Answers false when the job was not this run's to run. Never throws:
   * a failure ends the job as failed, with the reason.
   */
  async runJob(jobId: string, options: RunOptions): Promise<boolean> {
    const stored = await this.deps.jobs.claimRun(jobId, options.runner);
    if (!stored) return false;
    const actor: Actor = stored.actor;
    const request: RedriveRequest = {
      pipe: stored.request.pipe,
      ...(stored.request.messageIds ? { messageIds: stored.request.messageIds } : {}),
      ...(stored.request.all ? { all: true as const } : {}),
      dryRun: stored.request.dryRun,
      ratePerSecond: stored.request.ratePerSecond,
    };
    const entry: RunningJob = {
      job: stored.job,
      cancel: stored.cancelRequested,
      outOfTime: false,
      lost: false,
      done: Promise.resolve(),
    };
    entry.done = this.run(entry, request, actor, options).catch(async (error: unknown) => {
      if (entry.lost) return;
      entry.job = { ...entry.job, status: 'failed', finishedAt: new Date().toISOString(), note: describe(error) };
      await this.deps.jobs.save(entry.job, options.runner).catch(() => undefined);
      await this.deps.audit
        .append({
          actor: actor.name,
          role: actor.role,
          action: request.dryRun ? 'redrive-dry-run' : 'redrive',
          pipe: request.pipe,
          messageIds: entry.job.results.map((result) => result.messageId),
          outcome: 'failed',
          detail: entry.job.note,
          jobId,
        })
        .catch(() => undefined);
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

  async get(jobId: string): Promise<RedriveJob> {
    const local = this.running.get(jobId) ?? (this.finished.has(jobId) ? { job: this.finished.get(jobId) } : undefined);
    if (local?.job) return local.job;
    const stored = await this.deps.jobs.load(jobId);
    if (!stored) throw new NotFoundError(`redrive job '${jobId}' does not exist`);
    if (stored.job.status !== 'running') return stored.job;
    const now = Date.now();
    if (stored.runner === undefined && now - stored.createdAtMs > JOB_START_TIMEOUT_MS) {
      return {
        ...stored.job,
        status: 'failed',
        note: `the job was never picked up by a runner within ${JOB_START_TIMEOUT_MS / 60_000} minutes; nothing was redriven`,
      };
    }
    if (stored.runner !== undefined && now - stored.heartbeatAtMs > JOB_HEARTBEAT_TIMEOUT_MS) {
      return {
        ...stored.job,
        status: 'failed',
        note: 'the run of this job stopped (its process or Lambda invocation ended); messages it had not redriven are still in the DLQ',
      };
    }
    return stored.job;
  }

  async cancel(jobId: string, actor: Actor): Promise<RedriveJob> {
    const job = await this.get(jobId);
    if (job.status === 'running') {
      const local = this.running.get(jobId);
      if (local) local.cancel = true;
      await this.deps.jobs.requestCancel(jobId);
    }
    await this.deps.audit.append({
      actor: actor.name,
      role: actor.role,
      action: 'redrive-cancel',
      pipe: job.pipe,
      messageIds: [],
      outcome: job.status === 'running' ? 'cancel-requested' : `already-${job.status}`,
      detail: null,
      jobId,
    });
    return this.get(jobId);
  }

  /**
   * Deletes one message for good, under the same lease as a redrive so the two cannot race. The audit entry comes
   * first: the message is claimed (hidden, so nobody else takes it meanwhile), then an `attempted` entry records who
   * discards it and why, and only then is it deleted; if that entry cannot be written, the message is given back and
   * the discard does not happen. The outcome follows in a second entry, `discarded` or `delete-failed` (the message is
   * given back and stays in the DLQ): the log never says discarded for a message still there, and never misses one
   * that was deleted (at worst it ends with `attempted`, if the outcome's entry fails after the delete).
   */
  async discard(
    pipe: PipeKey,
    messageId: string,
    reason: string,
    actor: Actor,
  ): Promise<{ discarded: true; id: string; auditId: string }> {
    const holder = `discard by ${actor.name}`;
    const lease = await this.deps.leases.acquire(pipe, messageId, holder);
    if (!lease.acquired)
      throw new ConflictError(`message '${messageId}' is being redriven by ${lease.holder}; try later`);
    const entry = (outcome: string, detail: string) =>
      this.deps.audit.append({
        actor: actor.name,
        role: actor.role,
        action: 'discard',
        pipe,
        messageIds: [messageId],
        outcome,
        detail,
        jobId: null,
      });
    try {
      let claimed: QueuedMessage | undefined;
      for await (const batch of this.deps.queue.claim(pipe, new Set([messageId]))) claimed ??= batch[0];
      if (!claimed) {
        await entry('not-found', reason);
        throw new NotFoundError(`message '${messageId}' is not in the ${pipe} DLQ (already redriven or discarded)`);
      }
      const message = claimed;
      let attempted: AuditEntry;
      try {
        attempted = await entry('attempted', reason);
      } catch (error: unknown) {
        await this.deps.queue.release(pipe, [message]).catch(() => undefined);
        throw error;
      }
      try {
        await this.deps.queue.delete(pipe, message);
      } catch (error: unknown) {
        await this.deps.queue.release(pipe, [message]).catch(() => undefined);
        await entry(
          'delete-failed',
          `${reason} (SQS did not delete it: ${describe(error)}; it stays in the DLQ)`,
        ).catch(() => undefined);
        throw error;
      }
      await this.deps.browser.changed(pipe);
      // Deleted: the `attempted` entry stands if the outcome cannot be written.
      const outcome = await entry('discarded', reason).catch(() => undefined);
      return { discarded: true, id: messageId, auditId: (outcome ?? attempted).id };
    } finally {
      await this.deps.leases.release(pipe, messageId, holder);
    }
  }

  /** Waits for a job this process is running (tests, benchmarks, graceful shutdown). */
  async settled(jobId: string): Promise<RedriveJob> {
    await this.running.get(jobId)?.done;
    return this.get(jobId);
  }

  async drain(): Promise<void> {
    for (const entry of this.running.values()) entry.cancel = true;
    await Promise.all([...this.running.values()].map((entry) => entry.done));
  }

  private async run(entry: RunningJob, request: RedriveRequest, actor: Actor, options: RunOptions): Promise<void> {
    // A run continuing one that died starts from what that one recorded: those messages are not tried again.
    const results: RedriveMessageResult[] = [...entry.job.results];
    const done = new Set(results.map((result) => result.messageId));
    const record = (result: RedriveMessageResult) => {
      results.push(result);
      entry.job = { ...entry.job, results, progress: { total: entry.job.progress.total, done: results.length } };
    };
    const notTried = (messageId: string) => notFound(messageId, entry.cancel, entry.outOfTime);
    let lastBeat = Date.now();
    let lastSave = lastBeat;
    // Progress and liveness every second; the results, which can be most of an item's 400 KB, every RESULTS_SAVE_MS
    // (the checkpoint a continuing run starts from).
    const heartbeat = async () => {
      const now = Date.now();
      if (now - lastBeat < HEARTBEAT_MS || entry.lost) return;
      lastBeat = now;
      const saveResults = now - lastSave >= RESULTS_SAVE_MS;
      if (saveResults) lastSave = now;
      const { cancelRequested, lost } = saveResults
        ? await this.deps.jobs.save(entry.job, options.runner)
        : await this.deps.jobs.beat(entry.job, options.runner);
      if (cancelRequested) entry.cancel = true;
      if (lost) entry.lost = true;
    };
    // Near the deadline (a Lambda invocation's 15 minutes), stop taking messages: what was started finishes and is
    // recorded, the job ends as failed saying so, and the messages not tried stay in the DLQ.
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
    try {
      await this.work(entry, request, actor, options, { results, done, record, notTried, heartbeat });
    } finally {
      if (deadline) clearTimeout(deadline);
    }
  }

  private async work(
    entry: RunningJob,
    request: RedriveRequest,
    actor: Actor,
    options: RunOptions,
    progress: {
      results: RedriveMessageResult[];
      done: ReadonlySet<string>;
      record: (result: RedriveMessageResult) => void;
      notTried: (messageId: string) => RedriveMessageResult;
      heartbeat: () => Promise<void>;
    },
  ): Promise<void> {
    const { pipe } = request;
    const { results, done, record, notTried, heartbeat } = progress;
    const pace = pacer(request.ratePerSecond);
    const pool = new Pool(Math.min(MAX_CONCURRENCY, request.ratePerSecond));

    if (request.dryRun) {
      const snapshot = await this.deps.queue.peekAll(pipe);
      const wanted = request.messageIds ? new Set(request.messageIds.filter((id) => !done.has(id))) : undefined;
      const targets = (wanted ? snapshot.filter((message) => wanted.has(message.id)) : snapshot).filter(
        (message) => !done.has(message.id),
      );
      entry.job = {
        ...entry.job,
        progress: { total: done.size + (wanted?.size ?? targets.length), done: results.length },
      };
      for (const message of targets) {
        if (entry.cancel) break;
        await pace();
        await pool.run(async () => {
          try {
            record(await this.dryRunMessage(pipe, message));
          } catch (error: unknown) {
            record(failedToEvaluate(message.id, 'would-skip', error));
          }
          await heartbeat();
        });
      }
      await pool.idle();
      const found = new Set(targets.map((message) => message.id));
      for (const id of wanted ?? [])
        if (!found.has(id) && !results.some((r) => r.messageId === id)) record(notTried(id));
    } else {
      const holder = `job ${entry.job.jobId} (${actor.name})`;
      const calls = this.jobCalls(pipe, holder);
      const leased = new Set<string>();
      if (request.messageIds) {
        const leases = await this.deps.leases.acquireMany(
          pipe,
          request.messageIds.filter((id) => !done.has(id)),
          holder,
        );
        for (const [id, lease] of leases) {
          if (lease.acquired) leased.add(id);
          else record(alreadyBeingRedriven(id, lease.holder));
        }
      } else {
        const visible = (await this.deps.queue.stats(pipe)).visible;
        entry.job = { ...entry.job, progress: { total: results.length + visible, done: results.length } };
      }
      const claimed = new Set<string>();
      const releases: Promise<void>[] = [];
      // Whole receives (up to 10 messages) are the unit of work; their DynamoDB calls are combined across the batches
      // in flight (JobCalls); messages in flight stay within MAX_CONCURRENCY and `ratePerSecond` paces each invocation.
      const slots = Math.max(1, Math.ceil(Math.min(MAX_CONCURRENCY, request.ratePerSecond) / 10));
      const batches = new Pool(slots);
      if (!request.messageIds || leased.size > 0) {
        // The claim runs ahead of the work (ClaimAhead), so the next messages are claimed while the current ones are
        // invoked, and a redrive-all's closing long poll (the proof that the DLQ has nothing more) overlaps the work.
        const ahead = new ClaimAhead(request.ratePerSecond, (messages) => this.deps.queue.keepHidden(pipe, messages));
        const claiming = (async () => {
          try {
            for await (const batch of this.deps.queue.claim(pipe, request.messageIds ? leased : 'all', {
              parallelReceives: Math.min(PARALLEL_RECEIVES, slots),
              skip: done,
            })) {
              for (const message of batch) claimed.add(message.id);
              if (done.size + claimed.size > entry.job.progress.total) {
                entry.job = { ...entry.job, progress: { ...entry.job.progress, total: done.size + claimed.size } };
              }
              await ahead.put(batch, () => entry.cancel);
              if (entry.cancel || ahead.abandoned) break;
            }
          } finally {
            ahead.end();
          }
        })();
        try {
          for (let batch = await ahead.take(); batch; batch = await ahead.take()) {
            const mine = batch;
            if (entry.cancel) {
              await this.deps.queue.release(pipe, mine);
              await this.releaseLeases(calls, mine, leased);
              for (const message of mine) record(notTried(message.id));
              continue;
            }
            await batches.run(async () => {
              // `all`: leases are taken per batch, while its records are read (the batch invokes nothing before both).
              const leasing = request.messageIds
                ? undefined
                : calls.leases.load(mine.map((message) => message.id)).then((leases) => {
                    for (const [id, lease] of leases) if (lease.acquired) leased.add(id);
                    return leases;
                  });
              try {
                for (const result of await this.redriveBatch(pipe, mine, pace, leasing, calls, {
                  now: () => entry.cancel,
                  notTried,
                })) {
                  record(result);
                }
              } catch (error: unknown) {
                await leasing?.catch(() => undefined);
                await this.deps.queue.release(pipe, mine).catch(() => undefined);
                for (const message of mine) record(failedToEvaluate(message.id, 'kept', error));
              }
              ahead.finished(mine.length);
              // Released off the batch's slot: the next batch need not wait for it; the job awaits all before it ends.
              releases.push(this.releaseLeases(calls, mine, leased));
              await this.deps.browser.changed(pipe);
              await heartbeat();
            });
          }
          await batches.idle();
          await claiming;
        } finally {
          // If it failed mid-way: stop claiming, let the batches started finish, and give back what was claimed and
          // not started, so nothing stays hidden. (After a normal end all of this finds nothing left to do.)
          ahead.abandon();
          await claiming.catch(() => undefined);
          await batches.idle().catch(() => undefined);
          const left = ahead.leftover();
          await this.deps.queue.release(pipe, left).catch(() => undefined);
          await this.releaseLeases(calls, left, leased).catch(() => undefined);
          ahead.close();
          await Promise.allSettled(releases);
        }
        await Promise.all(releases);
      }
      const unclaimed = [...leased].filter((id) => !claimed.has(id));
      await this.deps.leases.releaseMany(pipe, unclaimed, holder);
      for (const id of unclaimed) {
        leased.delete(id);
        record(notTried(id));
      }
    }
    await this.deps.browser.changed(pipe);
    // Another run holds the job now: it records the end, not this one.
    if (entry.lost) return;
    // A redrive-all that found nothing read as "succeeded, 0 of 0" whether the DLQ was empty or another job held it.
    const nothing = request.messageIds || results.length > 0 || entry.cancel ? undefined : await this.whyNothing(entry);
    const status = entry.outOfTime
      ? 'failed'
      : nothing?.held
        ? 'failed'
        : finalStatus(results, request.dryRun, entry.cancel);
    const outOfTime = entry.outOfTime
      ? `the run ran out of time (a Lambda invocation runs at most 15 minutes; the job stops taking messages ${RUN_STOP_MARGIN_MS / 1000} s before): ${summarize(results)}; the messages it did not try are still in the DLQ, start another redrive for them`
      : undefined;
    entry.job = {
      ...entry.job,
      status,
      finishedAt: new Date().toISOString(),
      note: outOfTime ?? nothing?.note ?? entry.job.note,
      results,
    };
    if ((await this.deps.jobs.save(entry.job, options.runner)).lost) {
      entry.lost = true;
      return;
    }
    await this.deps.audit.append({
      actor: actor.name,
      role: actor.role,
      action: request.dryRun ? 'redrive-dry-run' : 'redrive',
      pipe,
      messageIds: results.map((result) => result.messageId),
      outcome: status,
      detail: outOfTime ?? nothing?.note ?? summarize(results),
      jobId: entry.job.jobId,
    });
  }

  /**
   * Why a redrive-all found no message: the DLQ was empty, or its messages were hidden by another reader, most likely
   * a running redrive of the same pipe (claimed messages stay hidden up to CLAIM_VISIBILITY_SECONDS). Such a job is
   * found through the audit's "started" entries and named; in AWS it runs in another Lambda instance.
   */
  private async whyNothing(entry: RunningJob): Promise<{ held: boolean; note: string }> {
    const { pipe, jobId, dryRun } = entry.job;
    const stats = await this.deps.queue.stats(pipe);
    if (stats.inFlight === 0) {
      return {
        held: false,
        note:
          stats.visible === 0
            ? 'the DLQ was empty: nothing to redrive'
            : `the DLQ was empty when this job looked; ${plural(stats.visible, 'message')} arrived since: start another redrive`,
      };
    }
    const holders = await this.runningRedrives(pipe, jobId);
    const what = `${plural(stats.inFlight, 'message')} in the DLQ ${stats.inFlight === 1 ? 'is' : 'are'}`;
    const by =
      holders.length > 0
        ? `held by another running redrive, ${holders.map((job) => `job ${job.jobId} (${job.actor})`).join(', ')}, which is redriving them; any it keeps become visible again as it ends`
        : `hidden by another reader (no running redrive of this pipe was found: one on another instance, or a browse of the queue); they become visible again within ${CLAIM_VISIBILITY_SECONDS} s`;
    return { held: true, note: `nothing was ${dryRun ? 'previewed' : 'redriven'}: the ${what} ${by}` };
  }

  /** Real redrive jobs of the pipe started in the last day and still running (their heartbeat fresh), but `self`. */
  private async runningRedrives(pipe: PipeKey, self: string): Promise<RedriveJob[]> {
    const started = await this.deps.audit.list({
      from: new Date(Date.now() - HOLDER_LOOKBACK_MS).toISOString(),
      limit: HOLDER_LOOKBACK_ENTRIES,
    });
    const candidates = started.flatMap((audit) =>
      audit.action === 'redrive' &&
      audit.outcome === 'started' &&
      audit.pipe === pipe &&
      audit.jobId &&
      audit.jobId !== self
        ? [audit.jobId]
        : [],
    );
    const jobs = await Promise.all(candidates.map((id) => this.get(id).catch(() => undefined)));
    return jobs.filter((job): job is RedriveJob => job?.status === 'running');
  }

  private async releaseLeases(calls: JobCalls, messages: readonly QueuedMessage[], leased: Set<string>): Promise<void> {
    const mine = messages.filter((message) => leased.delete(message.id)).map((message) => message.id);
    await calls.releases.load(mine);
  }

  private jobCalls(pipe: PipeKey, holder: string): JobCalls {
    return {
      records: new ShardRecordCache(),
      leases: new Coalescer((ids) => this.deps.leases.acquireMany(pipe, ids, holder), { maxKeys: 100, maxInFlight: 2 }),
      releases: new Coalescer(
        async (ids) => {
          await this.deps.leases.releaseMany(pipe, ids, holder);
          return new Map(ids.map((id) => [id, true as const]));
        },
        { maxKeys: 100, maxInFlight: 1 },
      ),
      processed: new Coalescer(
        async (eventIds) =>
          new Map([...(await this.deps.state.alreadyProcessed(pipe, eventIds))].map((id) => [id, true as const])),
        { maxKeys: 100, maxInFlight: 2 },
      ),
    };
  }

  private async dryRunMessage(pipe: PipeKey, message: QueuedMessage): Promise<RedriveMessageResult> {
    const parsed = await this.parseOrReason(pipe, message);
    if (typeof parsed === 'string')
      return { messageId: message.id, outcome: 'would-skip', reason: parsed, stale: false, records: [] };
    const batch = await this.deps.browser.recordsOf(pipe, parsed);
    const processed = await this.deps.state.alreadyProcessed(
      pipe,
      batch.records.map((record) => record.eventId),
    );
    const records = batch.records.map((record) => {
      const verdict = record.record ? this.guards[pipe].check(record.record) : undefined;
      return {
        eventId: record.eventId,
        orderId: record.orderId,
        source: record.source,
        ruleVerdict: verdict?.verdict ?? 'reject',
        ruleExplanation:
          verdict === undefined
            ? 'the journal kept only a truncated record; it cannot be replayed'
            : verdict.verdict === 'reject'
              ? `${verdict.clauseDescription}: ${verdict.explanation}`
              : null,
        alreadyProcessed: processed.has(record.eventId),
        succeeded: null,
        error: record.journal ? `${record.journal.errorName}: ${record.journal.errorMessage}` : null,
      } as const;
    });
    const replayable = batch.records.filter((record) => record.record !== null);
    const reason = unreplayableReason(batch);
    return {
      messageId: message.id,
      outcome: replayable.length > 0 ? 'would-redrive' : 'would-skip',
      reason:
        reason ??
        (records.every((record) => record.alreadyProcessed)
          ? 'every record was already processed; a redrive would only acknowledge them'
          : null),
      stale: batch.stale,
      records,
    };
  }

  /**
   * Redrives claimed messages: records re-read with shared calls (one stream read per shard, one idempotency read),
   * one invocation per message with the payload its pipe sent, the journal read once for what failed again, and the
   * successful messages deleted in one batch; the others are made visible again with the reason.
   */
  private async redriveBatch(
    pipe: PipeKey,
    claimed: readonly QueuedMessage[],
    pace: () => Promise<void>,
    leasing: Promise<ReadonlyMap<string, LeaseResult>> | undefined,
    calls: JobCalls,
    stop: { readonly now: () => boolean; readonly notTried: (messageId: string) => RedriveMessageResult },
  ): Promise<RedriveMessageResult[]> {
    const parsed = await Promise.all(
      claimed.map(async (message) => ({ message, parsed: await this.parseOrReason(pipe, message) })),
    );
    const readable = parsed.flatMap((entry) =>
      typeof entry.parsed === 'string' ? [] : [{ message: entry.message, parsed: entry.parsed }],
    );
    const reading = this.deps.browser
      .recordsOfMany(
        pipe,
        readable.map((entry) => entry.parsed),
        { journalErrors: false, cache: calls.records },
      )
      .then(async (batches) => {
        const payloads = batches.map((batch) =>
          batch.records.flatMap((record) => (record.record ? [record.record] : [])),
        );
        const processed = await calls.processed.load(
          payloads.flatMap((payload) => payload.map((record) => record.eventID)),
        );
        return { batches, payloads, processed };
      });
    const [leases, read] = await Promise.all([leasing, reading]);
    const refused = claimed.filter((message) => leases && !leases.get(message.id)?.acquired);
    const isMine = (message: QueuedMessage) => !refused.includes(message);
    const unparseable = parsed.filter((entry) => typeof entry.parsed === 'string' && isMine(entry.message));
    const valid = readable.flatMap((entry, index) =>
      isMine(entry.message)
        ? [{ ...entry, batch: read.batches[index] as BatchRecords, payload: read.payloads[index] as StreamRecord[] }]
        : [],
    );
    const { processed } = read;
    const batches = valid.map((entry) => entry.batch);
    const payloads = valid.map((entry) => entry.payload);
    // A message whose turn comes after the job was told to stop (a cancel, the run's deadline) is not invoked.
    const tried = await Promise.all(
      payloads.map(async (payload) => {
        if (payload.length === 0) return new Map<string, string>();
        if (stop.now()) return undefined;
        await pace();
        if (stop.now()) return undefined;
        return this.invoke(pipe, payload);
      }),
    );
    const untried = valid.filter((_, index) => tried[index] === undefined).map((entry) => entry.message);
    const failures = tried.map((failed) => failed ?? new Map<string, string>());
    const failedAgain = failures.flatMap((failed) => [...failed.keys()]);
    const journal = failedAgain.length
      ? await this.deps.journal.entriesFor(pipe, failedAgain)
      : new Map<string, JournalEntry>();
    for (const failed of failures) {
      for (const eventId of failed.keys()) {
        const entry = journal.get(eventId);
        if (entry) failed.set(eventId, `${entry.errorName}: ${entry.errorMessage}`);
      }
    }
    const outcomes = valid.flatMap((entry, index) => {
      if (tried[index] === undefined) return [];
      const batch = batches[index] as BatchRecords;
      const failed = failures[index] as Map<string, string>;
      const unreplayable = unreplayableReason(batch);
      const succeeded = (payloads[index]?.length ?? 0) > 0 && failed.size === 0 && unreplayable === null;
      return [{ ...entry, batch, failed, unreplayable, succeeded }];
    });
    const notDeleted = await this.deps.queue.deleteMany(
      pipe,
      outcomes.filter((outcome) => outcome.succeeded).map((outcome) => outcome.message),
    );
    await this.deps.queue.release(pipe, [
      ...refused,
      ...unparseable.map((entry) => entry.message),
      ...untried,
      ...outcomes.filter((outcome) => !outcome.succeeded).map((outcome) => outcome.message),
    ]);
    return [
      ...untried.map((message) => stop.notTried(message.id)),
      ...refused.map((message) => {
        const lease = leases?.get(message.id);
        return alreadyBeingRedriven(message.id, lease && !lease.acquired ? lease.holder : 'another redrive');
      }),
      ...unparseable.map(({ message, parsed: reason }) => ({
        messageId: message.id,
        outcome: 'kept' as const,
        reason: reason as string,
        stale: false,
        records: [],
      })),
      ...outcomes.map(({ message, batch, failed, unreplayable, succeeded }): RedriveMessageResult => {
        const records = batch.records.map((record) => {
          const verdict = record.record ? this.guards[pipe].check(record.record) : undefined;
          return {
            eventId: record.eventId,
            orderId: record.orderId,
            source: record.source,
            ruleVerdict: verdict?.verdict ?? 'reject',
            ruleExplanation:
              verdict?.verdict === 'reject' ? `${verdict.clauseDescription}: ${verdict.explanation}` : null,
            alreadyProcessed: processed.has(record.eventId),
            succeeded: record.record ? !failed.has(record.eventId) : false,
            error:
              failed.get(record.eventId) ?? (record.record ? null : 'truncated in the journal; cannot be replayed'),
          } as const;
        });
        const deleteError = notDeleted.get(message.id);
        if (succeeded && !deleteError) {
          return { messageId: message.id, outcome: 'redriven', reason: null, stale: batch.stale, records };
        }
        const failedCount = records.filter((record) => !record.succeeded).length;
        return {
          messageId: message.id,
          outcome: 'kept',
          reason: deleteError
            ? `every record succeeded, but SQS did not delete the message (${deleteError}); a second redrive finds the records already processed`
            : (unreplayable ??
              `${failedCount} of ${records.length} records failed again; the message stays in the DLQ`),
          stale: batch.stale,
          records,
        };
      }),
    ];
  }

  /** The message's body if it is a dead-letter message of this stack's pipe, else why not (it is kept, never read). */
  private async parseOrReason(pipe: PipeKey, message: QueuedMessage): Promise<PipeDlqMessage | string> {
    const parsed = await this.deps.browser.parse(pipe, message.body);
    return 'malformed' in parsed ? `${parsed.malformed}; discard it instead` : parsed.message;
  }

  /** Invokes the processor synchronously; answers the failed eventIDs with a reason each. */
  private async invoke(pipe: PipeKey, payload: StreamRecord[]): Promise<Map<string, string>> {
    const all = (reason: string) => new Map(payload.map((record) => [record.eventID, reason]));
    let answer: InvokeCommandOutput;
    try {
      answer = await this.deps.lambda.send(
        new InvokeCommand({
          FunctionName: this.deps.functionNames[pipe],
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
      );
    } catch (error: unknown) {
      return all(`the processor could not be invoked: ${describe(error)}`);
    }
    const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (answer.FunctionError) {
      const message = (body as { errorMessage?: unknown } | null)?.errorMessage;
      return all(`the processor failed (${answer.FunctionError}): ${typeof message === 'string' ? message : text}`);
    }
    const failed = failedIdentifiers(body, payload);
    if (failed === 'all')
      return all('the processor answered with an identifier outside the batch (whole batch failed)');
    return new Map([...failed].map((eventId) => [eventId, 'the processor reported the record as failed']));
  }
}

function storedRequest(request: RedriveRequest): StoredRequest {
  return {
    pipe: request.pipe,
    ...(request.messageIds ? { messageIds: [...request.messageIds] } : {}),
    ...(request.all ? { all: true as const } : {}),
    dryRun: request.dryRun,
    ratePerSecond: request.ratePerSecond,
  };
}

function unreplayableReason(batch: BatchRecords): string | null {
  if (batch.records.length === 0) return batch.reason ?? 'no records found for this batch';
  const truncated = batch.records.filter((record) => record.record === null).length;
  return truncated ? `${truncated} record(s) are only in the journal, truncated; they cannot be replayed` : null;
}

/** A message the job did not work on: stopped first (cancelled, or out of time: it stays in the DLQ), or not found. */
function notFound(messageId: string, cancelled: boolean, outOfTime = false): RedriveMessageResult {
  if (outOfTime) {
    return {
      messageId,
      outcome: 'kept',
      reason: 'not tried: the run ran out of time first; the message stays in the DLQ',
      stale: false,
      records: [],
    };
  }
  return {
    messageId,
    outcome: cancelled ? 'cancelled' : 'not-found',
    reason: cancelled
      ? 'the job was cancelled first'
      : 'not in the DLQ (already redriven or discarded) or hidden by another reader',
    stale: false,
    records: [],
  };
}

function failedToEvaluate(messageId: string, outcome: 'kept' | 'would-skip', error: unknown): RedriveMessageResult {
  return {
    messageId,
    outcome,
    reason: `could not resolve or replay the message (${describe(error)}); it stays in the DLQ`,
    stale: false,
    records: [],
  };
}

function alreadyBeingRedriven(messageId: string, holder: string): RedriveMessageResult {
  return {
    messageId,
    outcome: 'already-being-redriven',
    reason: `the message is already being redriven by ${holder}`,
    stale: false,
    records: [],
  };
}

function finalStatus(results: readonly RedriveMessageResult[], dryRun: boolean, cancelled: boolean): RedriveStatus {
  if (cancelled) return 'cancelled';
  const ok = results.filter((result) =>
    dryRun ? result.outcome === 'would-redrive' || result.outcome === 'would-skip' : result.outcome === 'redriven',
  ).length;
  if (ok === results.length) return 'succeeded';
  return ok === 0 ? 'failed' : 'partially-succeeded';
}

function summarize(results: readonly RedriveMessageResult[]): string {
  const counts = new Map<string, number>();
  for (const result of results) counts.set(result.outcome, (counts.get(result.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, count]) => `${count} ${outcome}`).join(', ') || 'no messages';
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Resolves at most `ratePerSecond` times per second. */
function pacer(ratePerSecond: number): () => Promise<void> {
  const interval = 1000 / ratePerSecond;
  let next = Date.now();
  return async () => {
    const now = Date.now();
    const wait = next - now;
    next = Math.max(now, next) + interval;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
}

/** Runs tasks with bounded concurrency; `run` resolves once the task has started; `idle` rethrows a task's error. */
class Pool {
  private readonly active = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  constructor(private readonly limit: number) {}

  async run(task: () => Promise<void>): Promise<void> {
    while (this.active.size >= this.limit) await Promise.race(this.active);
    if (this.failure) throw this.failure.error;
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.active.delete(promise));
    this.active.add(promise);
  }

  async idle(): Promise<void> {
    await Promise.all(this.active);
    if (this.failure) throw this.failure.error;
  }
}
