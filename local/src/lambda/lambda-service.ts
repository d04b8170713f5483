import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LAMBDA_METRICS, LAMBDA_NAMESPACE } from '@orderflow/pipeline/facts';
import type { PutMetric } from '../cloudwatch/metric-store.ts';
import { parseEmfLine } from './emf.ts';

/** A function as the runtime runs it, read from an `AWS::Lambda::Function` of the template. */
export interface FunctionSpec {
  readonly name: string;
  /** Directory holding the bundled code (a cdk.out `asset.<hash>` directory). */
  readonly codeDir: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Readonly<Record<string, string>>;
  /** ReservedConcurrentExecutions; invocations beyond it are throttled, as in Lambda. */
  readonly reservedConcurrency?: number;
  /**
   * Asynchronous invocations (AWS::Lambda::EventInvokeConfig): retries after a function error or timeout (Lambda's
   * default 2) and the maximum age of an event (default 6 hours), beyond which a throttled event is dropped.
   */
  readonly asyncInvoke?: { readonly maximumRetryAttempts?: number; readonly maximumEventAgeSeconds?: number };
}

export interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

export type InvokeResult =
  | { readonly kind: 'success'; readonly payload: unknown }
  | { readonly kind: 'error'; readonly error: FunctionError; readonly timedOut: boolean }
  | { readonly kind: 'throttled'; readonly message: string };

/**
 * How an injected fault fails an invocation:
 * - `throw`: the invocation fails before the handler runs (like a crashed runtime; the handler sees nothing).
 * - `timeout`: the invocation runs out its whole timeout without the handler, then fails as Lambda's timeout does.
 * - `partial`: each record fails with the rate; failed records are withheld and reported in `batchItemFailures`.
 * - `downstream`: the handler runs, but its SQS calls fail as in an SQS outage (connection refused, retried by the
 *   SDK, then thrown), so the handler's own error handling, journal and partial batch response are what fail.
 */
export const FAULT_MODES = ['throw', 'timeout', 'partial', 'downstream'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];
type InjectedFault = Exclude<FaultMode, 'partial'>;
export interface Fault {
  readonly failureRate: number;
  readonly mode: FaultMode;
}

export class FunctionNotFoundError extends Error {
  override readonly name = 'FunctionNotFoundError';
}
export class FunctionCodeError extends Error {
  override readonly name = 'FunctionCodeError';
}
export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
}

export interface LambdaServiceOptions {
  readonly region: string;
  readonly account: string;
  /** Environment every function gets on top of its own (local endpoints, credentials). */
  readonly baseEnvironment: Readonly<Record<string, string>>;
  readonly publish: (metrics: PutMetric[]) => void;
  /** Receives every line a function prints (its CloudWatch Logs stream, locally). */
  readonly log?: (functionName: string, line: string) => void;
  /** Execution environments per function when no reserved concurrency is set. Default 4. */
  readonly maxEnvironments?: number;
  /** Called as an invocation starts (benchmarks measure write-to-handler latency with it). */
  readonly onInvoke?: (functionName: string, event: unknown) => void;
  /** Random source for fault injection (tests pass a seeded one). */
  readonly random?: () => number;
  /**
   * Waits before the retries of a failed asynchronous invocation: Lambda's 1 minute, then 2 minutes. Tests shorten
   * them.
   */
  readonly asyncRetryDelaysMs?: readonly number[];
}

/** Lambda's waits between the attempts of an asynchronous invocation whose function failed. */
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;
/** The first wait before a throttled asynchronous event is tried again; it doubles up to 5 minutes. */
const ASYNC_THROTTLE_FIRST_DELAY_MS = 1_000;
const ASYNC_THROTTLE_MAX_DELAY_MS = 300_000;

const WORKER_FILE = fileURLToPath(new URL('./lambda-worker.mjs', import.meta.url));
/**
 * Young generation of each execution environment. In Lambda each environment has its own memory; here they share the
 * runtime's process, and V8's default young generation let each worker's nursery grow to tens of MB under load. Measured
 * after 10,000 orders through the standard pipe (2 environments): RSS 300 MB with the default, 263 with 24 MB, 239 with
 * 12 MB, 231 with 6 MB; CPU per order the same within noise (3.9–4.4 ms).
 */
const YOUNG_GENERATION_MB = 12;

interface Environment {
  readonly worker: Worker;
  pending?: { id: string; resolve: (message: WorkerReply) => void };
}

type WorkerReply = { id: string; ok: true; result: unknown } | { id: string; ok: false; error: FunctionError };

/** The file and export a handler string names, e.g. `index.handler` → `<codeDir>/index.mjs`, `handler`. */
export function resolveHandler(spec: Pick<FunctionSpec, 'name' | 'codeDir' | 'handler'>): {
  entryFile: string;
  exportName: string;
} {
  const dot = spec.handler.lastIndexOf('.');
  if (dot <= 0)
    throw new FunctionCodeError(`function ${spec.name}: handler '${spec.handler}' is not of the form file.export`);
  const base = spec.handler.slice(0, dot);
  for (const extension of ['.mjs', '.js', '.cjs']) {
    const entryFile = join(spec.codeDir, `${base}${extension}`);
    if (existsSync(entryFile)) return { entryFile, exportName: spec.handler.slice(dot + 1) };
  }
  throw new FunctionCodeError(`function ${spec.name}: no ${base}.mjs, ${base}.js or ${base}.cjs in ${spec.codeDir}`);
}

/**
 * Runs functions like Lambda does: each execution environment (a worker thread) handles one invocation at a time and
 * stays warm; the timeout kills the environment; stdout/stderr are the function's log, and EMF lines in it become
 * metrics. Also publishes AWS/Lambda Invocations, Errors, Duration, Throttles and ConcurrentExecutions.
 */
export class LambdaService {
  private readonly functions = new Map<string, FunctionRuntime>();
  readonly faults = new Map<string, Fault>();
  /** Asynchronous events waiting for a retry. */
  private readonly asyncTimers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    specs: readonly FunctionSpec[],
    private readonly options: LambdaServiceOptions,
  ) {
    for (const spec of specs) this.functions.set(spec.name, new FunctionRuntime(spec, options));
  }

  get names(): string[] {
    return [...this.functions.keys()];
  }

  arnOf(name: string): string {
    return `arn:aws:lambda:${this.options.region}:${this.options.account}:function:${name}`;
  }

  /** Accepts a name, a full ARN or a partial ARN, as Lambda's FunctionName parameter does. */
  resolveName(nameOrArn: string): string {
    const name = nameOrArn.includes(':function:') ? (nameOrArn.split(':function:')[1]?.split(':')[0] ?? '') : nameOrArn;
    if (!this.functions.has(name)) throw new FunctionNotFoundError(`Function not found: ${this.arnOf(name)}`);
    return name;
  }

  setFault(nameOrArn: string, fault: Fault): void {
    const name = this.resolveName(nameOrArn);
    if (!(fault.failureRate >= 0 && fault.failureRate <= 1))
      throw new FaultSpecError(`failureRate for ${name} must be between 0 and 1, got ${String(fault.failureRate)}`);
    if (!(FAULT_MODES as readonly unknown[]).includes(fault.mode))
      throw new FaultSpecError(`mode for ${name} must be ${FAULT_MODES.join(', ')}, got ${String(fault.mode)}`);
    this.faults.set(name, { failureRate: fault.failureRate, mode: fault.mode });
  }

  clearFault(nameOrArn: string): void {
    this.faults.delete(this.resolveName(nameOrArn));
  }

  async invoke(nameOrArn: string, event: unknown): Promise<InvokeResult> {
    const name = this.resolveName(nameOrArn);
    this.options.onInvoke?.(name, event);
    const runtime = this.functions.get(name) as FunctionRuntime;
    const fault = this.faults.get(name);
    const random = this.options.random ?? Math.random;
    if (fault && fault.mode !== 'partial' && random() < fault.failureRate) return runtime.invoke(event, fault.mode);
    if (fault?.mode === 'partial' && Array.isArray(event)) return this.invokePartial(runtime, event, fault, random);
    return runtime.invoke(event);
  }

  /**
   * InvocationType `Event`: the caller has its 202 at once; Lambda runs the event when it can. A function error or
   * timeout is retried `maximumRetryAttempts` times (default 2, after 1 and then 2 more minutes); a throttled event
   * waits and is tried again (1 s doubling to 5 minutes) until it is older than `maximumEventAgeSeconds` (default 6
   * hours), then dropped, as Lambda does without a destination or DLQ (Lambda developer guide, "How Lambda handles
   * errors and retries with asynchronous invocation"). Events still waiting when the runtime stops are lost, as an
   * in-memory queue's are.
   */
  invokeAsync(nameOrArn: string, event: unknown): void {
    const name = this.resolveName(nameOrArn);
    const spec = (this.functions.get(name) as FunctionRuntime).spec;
    const retries = spec.asyncInvoke?.maximumRetryAttempts ?? 2;
    const maxAgeMs = (spec.asyncInvoke?.maximumEventAgeSeconds ?? 21_600) * 1000;
    const delays = this.options.asyncRetryDelaysMs ?? ASYNC_RETRY_DELAYS_MS;
    const queuedAt = Date.now();
    const later = (ms: number, next: () => void) => {
      if (this.stopped) return;
      const timer = setTimeout(() => {
        this.asyncTimers.delete(timer);
        next();
      }, ms);
      this.asyncTimers.add(timer);
    };
    const attempt = (failures: number, throttleDelay: number) => {
      if (this.stopped) return;
      void this.invoke(name, event).then((result) => {
        if (result.kind === 'success') return;
        if (result.kind === 'throttled') {
          if (Date.now() + throttleDelay - queuedAt <= maxAgeMs)
            later(throttleDelay, () => attempt(failures, Math.min(throttleDelay * 2, ASYNC_THROTTLE_MAX_DELAY_MS)));
          return;
        }
        if (failures < retries && Date.now() - queuedAt <= maxAgeMs)
          later(delays[Math.min(failures, delays.length - 1)] ?? 0, () => attempt(failures + 1, throttleDelay));
      });
    };
    attempt(0, ASYNC_THROTTLE_FIRST_DELAY_MS);
  }

  /**
   * `partial` faults fail each record of a batch with the failure rate: failed records are withheld from the handler
   * and reported in `batchItemFailures` next to whatever the handler itself reports.
   */
  private async invokePartial(
    runtime: FunctionRuntime,
    batch: unknown[],
    fault: Fault,
    random: () => number,
  ): Promise<InvokeResult> {
    const injected: string[] = [];
    const passed = batch.filter((record) => {
      const id = (record as { eventID?: unknown }).eventID;
      if (typeof id === 'string' && random() < fault.failureRate) {
        injected.push(id);
        return false;
      }
      return true;
    });
    if (injected.length === 0) return runtime.invoke(batch);
    const result = passed.length > 0 ? await runtime.invoke(passed) : ({ kind: 'success', payload: null } as const);
    if (result.kind !== 'success') return result;
    const own =
      (result.payload as { batchItemFailures?: { itemIdentifier: string }[] } | null)?.batchItemFailures ?? [];
    return {
      kind: 'success',
      payload: { batchItemFailures: [...own, ...injected.map((itemIdentifier) => ({ itemIdentifier }))] },
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.asyncTimers) clearTimeout(timer);
    this.asyncTimers.clear();
    await Promise.all([...this.functions.values()].map((runtime) => runtime.stop()));
  }
}

class FunctionRuntime {
  /** Waits in progress (timeouts), each ended at once by `stop` so that no timer outlives the runtime. */
  private readonly waits = new Set<() => void>();
  private stopped = false;
  private readonly idle: Environment[] = [];
  private readonly all = new Set<Environment>();
  private readonly waiting: ((environment: Environment) => void)[] = [];
  private inFlight = 0;
  private readonly entry: { entryFile: string; exportName: string };
  private readonly env: Record<string, string>;

  constructor(
    readonly spec: FunctionSpec,
    private readonly options: LambdaServiceOptions,
  ) {
    this.entry = resolveHandler(spec);
    this.env = {
      ...options.baseEnvironment,
      // The variables Lambda's Node.js runtime sets; Powertools reads several of them.
      AWS_LAMBDA_FUNCTION_NAME: spec.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      LAMBDA_TASK_ROOT: spec.codeDir,
      _HANDLER: spec.handler,
      TZ: ':UTC',
      ...spec.environment,
    };
  }

  async invoke(event: unknown, injected?: InjectedFault): Promise<InvokeResult> {
    const limit = this.spec.reservedConcurrency ?? this.options.maxEnvironments ?? 4;
    const dimensions = { FunctionName: this.spec.name };
    const now = Date.now();
    if (this.spec.reservedConcurrency !== undefined && this.inFlight >= this.spec.reservedConcurrency) {
      this.metric(LAMBDA_METRICS.throttles, 1, 'Count', now);
      return { kind: 'throttled', message: `Rate Exceeded. Reserved concurrency of ${this.spec.name} is ${limit}` };
    }
    this.inFlight++;
    this.options.publish([
      {
        namespace: LAMBDA_NAMESPACE,
        metricName: LAMBDA_METRICS.invocations,
        dimensions,
        value: 1,
        unit: 'Count',
        timestamp: now,
      },
      {
        namespace: LAMBDA_NAMESPACE,
        metricName: LAMBDA_METRICS.concurrentExecutions,
        dimensions,
        value: this.inFlight,
        unit: 'Count',
        timestamp: now,
      },
    ]);
    const requestId = randomUUID();
    const started = performance.now();
    this.log(`START RequestId: ${requestId} Version: $LATEST`);
    let result: InvokeResult;
    try {
      result = await this.run(event, requestId, injected, limit);
    } finally {
      this.inFlight--;
    }
    const duration = performance.now() - started;
    this.log(`END RequestId: ${requestId}`);
    this.log(
      `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${Math.ceil(duration)} ms\tMemory Size: ${this.spec.memoryMb} MB`,
    );
    this.metric(LAMBDA_METRICS.duration, duration, 'Milliseconds', Date.now());
    if (result.kind === 'error') this.metric(LAMBDA_METRICS.errors, 1, 'Count', Date.now());
    return result;
  }

  private async run(
    event: unknown,
    requestId: string,
    injected: InjectedFault | undefined,
    limit: number,
  ): Promise<InvokeResult> {
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const timedOut = (): InvokeResult => ({
      kind: 'error',
      timedOut: true,
      error: {
        errorType: 'Sandbox.Timedout',
        errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`,
      },
    });
    if (injected === 'throw')
      return {
        kind: 'error',
        timedOut: false,
        error: { errorType: 'InjectedFault', errorMessage: `fault injected into ${this.spec.name} (mode throw)` },
      };
    if (injected === 'timeout') {
      await this.wait(timeoutMs);
      return this.stopped ? this.stoppedDuring(requestId) : timedOut();
    }
    const environment = await this.acquire(limit);
    const deadline = Date.now() + timeoutMs;
    const context = {
      functionName: this.spec.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.options.region}:${this.options.account}:function:${this.spec.name}`,
      memoryLimitInMB: String(this.spec.memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${this.spec.name}`,
      logStreamName: `local/[$LATEST]${environment.worker.threadId}`,
      deadline,
    };
    const timeout = this.wait(timeoutMs);
    const reply = await Promise.race([
      new Promise<WorkerReply>((resolve) => {
        environment.pending = { id: requestId, resolve };
        environment.worker.postMessage({ id: requestId, event, context, downstreamFault: injected === 'downstream' });
      }),
      timeout.then(() => 'timeout' as const),
    ]);
    timeout.cancel();
    // The runtime stopping ends every wait at once: the invocation did not time out, it was cut short.
    if (reply === 'timeout' && this.stopped) {
      this.discard(environment);
      return this.stoppedDuring(requestId);
    }
    if (reply === 'timeout') {
      // Lambda discards an execution environment whose invocation timed out; the next invocation starts cold.
      this.discard(environment);
      return timedOut();
    }
    delete environment.pending;
    this.release(environment);
    return reply.ok
      ? { kind: 'success', payload: reply.result }
      : { kind: 'error', timedOut: false, error: reply.error };
  }

  /** An invocation the runtime's stop ended before the function answered (no Lambda error has this cause). */
  private stoppedDuring(requestId: string): InvokeResult {
    return {
      kind: 'error',
      timedOut: false,
      error: {
        errorType: 'LocalRuntimeStopped',
        errorMessage: `RequestId: ${requestId} the local runtime stopped before ${this.spec.name} answered`,
      },
    };
  }

  /** Resolves after `ms`, or at once when the runtime stops; `cancel` forgets it. */
  private wait(ms: number): Promise<void> & { cancel(): void } {
    let end: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      end = () => {
        clearTimeout(timer);
        this.waits.delete(end);
        resolve();
      };
      timer = setTimeout(end, ms);
      this.waits.add(end);
    });
    return Object.assign(done, {
      cancel: () => {
        clearTimeout(timer);
        this.waits.delete(end);
      },
    });
  }

  private async acquire(limit: number): Promise<Environment> {
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.all.size < limit) return this.spawn();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(environment: Environment): void {
    const next = this.waiting.shift();
    if (next) next(environment);
    else this.idle.push(environment);
  }

  private spawn(): Environment {
    const worker = new Worker(WORKER_FILE, {
      workerData: this.entry,
      env: this.env,
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: this.spec.memoryMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const environment: Environment = { worker };
    this.all.add(environment);
    for (const stream of [worker.stdout, worker.stderr]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        this.log(line);
        const metrics = parseEmfLine(line);
        if (metrics.length > 0) this.options.publish(metrics);
      });
    }
    worker.on('message', (message: WorkerReply) => {
      if (environment.pending?.id === message.id) environment.pending.resolve(message);
    });
    worker.on('error', (error: Error) => {
      // An uncaught exception outside the handler's promise kills the environment, as Runtime.ExitError does.
      this.log(`ERROR Runtime.ExitError: ${error.stack ?? error.message}`);
      environment.pending?.resolve({
        id: environment.pending.id,
        ok: false,
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${environment.pending.id} Error: ${error.message}`,
        },
      });
      this.discard(environment);
    });
    return environment;
  }

  private discard(environment: Environment): void {
    this.all.delete(environment);
    const index = this.idle.indexOf(environment);
    if (index >= 0) this.idle.splice(index, 1);
    void environment.worker.terminate();
    // Whoever waits for an environment gets a fresh one (none once the runtime stops).
    const next = this.stopped ? undefined : this.waiting.shift();
    if (next) next(this.spawn());
  }

  private log(line: string): void {
    this.options.log?.(this.spec.name, line);
  }

  private metric(metricName: string, value: number, unit: string, timestamp: number): void {
    this.options.publish([
      { namespace: LAMBDA_NAMESPACE, metricName, dimensions: { FunctionName: this.spec.name }, value, unit, timestamp },
    ]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const end of [...this.waits]) end();
    await Promise.all([...this.all].map((environment) => environment.worker.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }
}
