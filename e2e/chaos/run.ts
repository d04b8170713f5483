/**
 * The chaos suite: `npm run chaos [-- --orders N --seed S]`. Writes a mixed workload of orders through the AWS SDK
 * while both processors fail 20% of their invocations and 1% of the records are poison, SIGKILLs the local runtime's
 * process mid-run and starts it again on the same data dir (DynamoDB data, SQS messages and pipe checkpoints survive
 * there), checks the invariants, redrives and discards through the ops API, checks them again, and prints one JSON
 * summary. Exit code 1 when an invariant broke.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '@orderflow/local';
import { guardFor } from '@orderflow/pipeline/engine';
import {
  IDEMPOTENCY_KEYS,
  JOURNAL_KEYS,
  journalRecordKey,
  PIPE_KEYS,
  PIPES,
  type PipeKey,
} from '@orderflow/pipeline/facts';
import { IDEMPOTENCY_STATUS, idempotencyRecordId, orderIdOf, type RuntimeInfo } from '@orderflow/pipeline/schemas';
import { EffectsLog, type Notification } from '../support/effects.ts';
import { clearFault, injectFault } from '../support/faults.ts';
import { OpsApiClient, OpsApiError } from '../support/ops-api.ts';
import { OrderWriter } from '../support/orders.ts';
import { TEMPLATE_FILE } from '../support/paths.ts';
import { RuntimeProcess } from '../support/runtime-process.ts';
import { readWholeStream } from '../support/streams.ts';
import { account, type Observations, type Phase, type PipeLedger, type RecordFact, violations } from './ledger.ts';
import { type ChaosOrder, chaosWorkload } from './workload.ts';

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '20261124' },
    'failure-rate': { type: 'string', default: '0.2' },
  },
});
const ORDER_COUNT = Number(args.orders);
const SEED = Number(args.seed);
const FAILURE_RATE = Number(args['failure-rate']);
if (!(Number.isInteger(ORDER_COUNT) && ORDER_COUNT > 0)) throw new Error(`--orders must be a positive integer`);
if (!(FAILURE_RATE >= 0 && FAILURE_RATE <= 1)) throw new Error(`--failure-rate must be between 0 and 1`);
/** Writes in flight at once: enough to keep both pipes busy without starving two shared cores. */
const WRITE_CONCURRENCY = 8;
/** The pipes are quiet when nothing new reached the queues or the DLQs for this long (backoffs included). */
const QUIET_MS = 8000;

const startedAt = performance.now();
const phases: Record<string, number> = {};
let phaseStart = performance.now();
const endPhase = (name: string) => {
  phases[name] = Math.round(performance.now() - phaseStart);
  phaseStart = performance.now();
};
const log = (message: string) =>
  process.stderr.write(`[chaos ${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);

let runtimeErrors = 0;
/** The runtime that is up, so a crash of the suite still stops it (no DynamoDB Local left behind). */
let current: RuntimeProcess | undefined;
const scratchDir = mkdtempSync(join(tmpdir(), 'orderflow-chaos-'));
const dataDir = join(scratchDir, 'data');
const stateDir = join(scratchDir, 'state');
mkdirSync(stateDir, { recursive: true });
const start = () =>
  RuntimeProcess.launch({
    dataDir,
    stateDir,
    // Retries start 100 ms apart so a batch exhausts its retries in seconds, not minutes.
    flags: ['--retry-delay', '100'],
    onSurvivedError: () => void runtimeErrors++,
  });

async function setFaults(info: RuntimeInfo, on: boolean): Promise<void> {
  for (const key of PIPE_KEYS) {
    const name = info.resources.pipes[key].function;
    if (on) await injectFault(info.endpoints.lambda, name, { failureRate: FAILURE_RATE, mode: 'throw' });
    else await clearFault(info.endpoints.lambda, name);
  }
}

async function writeAll(work: readonly (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITE_CONCURRENCY }, async () => {
      while (next < work.length) await (work[next++] as () => Promise<void>)();
    }),
  );
}

function writesOf(writer: OrderWriter, orders: readonly ChaosOrder[]): (() => Promise<void>)[] {
  return orders.map((o) => async () => {
    await writer.put(o.order);
    if (o.shipsLater) await writer.setStatus(o.order.orderId, 'shipped');
  });
}

/** Resolves when neither the notification log nor the DLQ depths changed for QUIET_MS. */
async function quiescence(info: RuntimeInfo, effects: () => number, sqs: SQSClient): Promise<void> {
  let last = '';
  let since = Date.now();
  for (;;) {
    const depths = await Promise.all(
      PIPE_KEYS.map(async (key) => {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: info.resources.pipes[key].dlqUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        return Attributes.ApproximateNumberOfMessages ?? '?';
      }),
    );
    const signature = `${effects()}|${depths.join(',')}`;
    if (signature !== last) {
      last = signature;
      since = Date.now();
    } else if (Date.now() - since >= QUIET_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The longest timeout of the two processors, from the synthesized template the runtime runs. */
function processorTimeoutSeconds(info: RuntimeInfo): number {
  const template = JSON.parse(readFileSync(TEMPLATE_FILE, 'utf8')) as {
    Resources: Record<string, { Type: string; Properties?: { FunctionName?: string; Timeout?: number } }>;
  };
  const timeouts = PIPE_KEYS.map((key) => {
    const name = info.resources.pipes[key].function;
    const [, resource] =
      Object.entries(template.Resources).find(
        ([logicalId, r]) => r.Type === 'AWS::Lambda::Function' && (r.Properties?.FunctionName ?? logicalId) === name,
      ) ?? [];
    // Lambda's default timeout when the template sets none.
    return resource?.Properties?.Timeout ?? 3;
  });
  return Math.max(...timeouts);
}

const sqsFor = (info: RuntimeInfo) =>
  new SQSClient({ endpoint: info.endpoints.sqs, region: info.region, credentials: LOCAL_CREDENTIALS });

/** A notification as received downstream, with the time SQS accepted it. */
interface Delivery {
  readonly notification: Notification;
  readonly sentAt: number;
}

const deliveriesOf = (effects: EffectsLog): Delivery[] =>
  effects.received.map((notification, i) => ({ notification, sentAt: effects.sentAt[i] ?? Number.NaN }));

async function observe(
  info: RuntimeInfo,
  writer: OrderWriter,
  received: readonly Delivery[],
  killedAt: number,
  poisonOrders: ReadonlySet<string>,
): Promise<{ records: RecordFact[]; seen: Observations; dlqMessages: number }> {
  const guards = { standard: guardFor(PIPES.standard.rule), premium: guardFor(PIPES.premium.rule) };
  const stream = await readWholeStream(writer.client, info.endpoints.dynamodb, info.resources.ordersTable, info.region);
  const records: RecordFact[] = stream.map((record) => {
    const orderId = orderIdOf(record) ?? '';
    return {
      eventId: record.eventID,
      orderId,
      accepted: {
        standard: guards.standard.check(record).verdict === 'pass',
        premium: guards.premium.check(record).verdict === 'pass',
      },
      poison: poisonOrders.has(orderId),
    };
  });
  const scan = async (table: string, attribute: string, keep: (item: Record<string, unknown>) => boolean) => {
    const keys = new Set<string>();
    let start: Record<string, never> | undefined;
    do {
      const page = await writer.client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const value = item[attribute]?.S;
        if (value && keep(item)) keys.add(value);
      }
      start = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (start);
    return keys;
  };
  const completed = await scan(
    info.resources.idempotencyTable,
    IDEMPOTENCY_KEYS.partitionKey,
    (item) => (item.status as { S?: string } | undefined)?.S === IDEMPOTENCY_STATUS.completed,
  );
  const journal = await scan(info.resources.journalTable, JOURNAL_KEYS.partitionKey, () => true);
  const ops = OpsApiClient.forRuntime(info, 'viewer');
  const inDlq = { standard: new Set<string>(), premium: new Set<string>() };
  let dlqMessages = 0;
  for (const key of PIPE_KEYS) {
    for (const message of await ops.dlqMessages(key)) {
      dlqMessages++;
      for (const record of message.records) inDlq[key].add(record.eventId);
    }
  }
  const count = (of: readonly Delivery[]) => {
    const counts = new Map<string, number>();
    for (const { notification: n } of of) counts.set(n.notificationId, (counts.get(n.notificationId) ?? 0) + 1);
    return counts;
  };
  const deliveries = count(received);
  // Sent before the kill (by a processor of the first run) or after it (of the second): SentTimestamp says which.
  const beforeKill = count(received.filter((d) => d.sentAt < killedAt));
  const afterRestart = count(received.filter((d) => !(d.sentAt < killedAt)));
  const redeliveredAcrossKill = new Set(
    [...beforeKill].filter(([id, n]) => n === 1 && afterRestart.get(id) === 1).map(([id]) => id),
  );
  return {
    records,
    dlqMessages,
    seen: {
      deliveries,
      redeliveredAcrossKill,
      completed: (pipe, eventId) => completed.has(idempotencyRecordId(pipe, eventId)),
      inDlq,
      journaled: (pipe, eventId) => journal.has(journalRecordKey(pipe, eventId)),
    },
  };
}

function ledgers(phase: Phase, records: RecordFact[], seen: Observations): Record<PipeKey, PipeLedger> {
  return { standard: account(phase, 'standard', records, seen), premium: account(phase, 'premium', records, seen) };
}

/** Redrives every DLQ message; discards the ones whose still-failing records are all poison (with a reason). */
async function redriveEverything(
  info: RuntimeInfo,
  poisonOrders: ReadonlySet<string>,
): Promise<{ redriveJobs: number; redriven: number; discarded: number }> {
  const ops = OpsApiClient.forRuntime(info, 'operator');
  let redriveJobs = 0;
  let redriven = 0;
  let discarded = 0;
  const discard = async (pipe: PipeKey, messageId: string) => {
    const path = `/api/dlqs/${pipe}/messages/${encodeURIComponent(messageId)}`;
    const response = await ops.request('DELETE', path, {
      reason: 'chaos: poison order (invalid orderDate), fixed at the source',
    });
    if (!response.ok) {
      throw new OpsApiError(`DELETE ${path} answered ${response.status}: ${await response.text()}`, response.status);
    }
  };
  for (const key of PIPE_KEYS) {
    for (let pass = 0; pass < 3; pass++) {
      if ((await ops.dlqMessages(key)).length === 0) break;
      const job = await ops.redrive(key, { all: true, ratePerSecond: 1000 });
      redriveJobs++;
      redriven += job.results.filter((r) => r.outcome === 'redriven').length;
      for (const result of job.results.filter((r) => r.outcome === 'kept')) {
        const failing = result.records.filter((r) => r.succeeded === false);
        if (failing.length > 0 && failing.every((r) => r.orderId !== null && poisonOrders.has(r.orderId))) {
          await discard(key, result.messageId);
          discarded++;
        }
      }
    }
  }
  return { redriveJobs, redriven, discarded };
}

async function main(): Promise<number> {
  const workload = chaosWorkload({ orders: ORDER_COUNT, seed: SEED, runId: SEED.toString(36) });
  const poisonOrders = new Set(workload.filter((o) => o.poison).map((o) => o.order.orderId));
  const half = Math.floor(workload.length / 2);
  const received: Delivery[] = [];

  log(`starting the local runtime in its own process (data dir ${dataDir})`);
  let runtime = await start();
  current = runtime;
  log(`runtime endpoints ${JSON.stringify(runtime.info.endpoints)}`);
  endPhase('startMs');
  let writer = OrderWriter.forRuntime(runtime.info);
  let effects = EffectsLog.forRuntime(runtime.info);
  let sqs = sqsFor(runtime.info);
  await setFaults(runtime.info, true);
  log(`writing ${half} orders with ${FAILURE_RATE * 100}% invocation faults`);
  await writeAll(writesOf(writer, workload.slice(0, half)));
  endPhase('firstHalfWritesMs');

  // Kill mid-run, while the pipes work through the backlog: SIGKILL to the runtime's process. Invocations in flight,
  // unflushed checkpoints and fault settings die with it; DynamoDB Local goes down with its launcher; the data dir
  // keeps the tables, the SQS messages and the last flushed checkpoints.
  log(`killing the runtime with SIGKILL (${effects.received.length} notifications so far)`);
  await runtime.kill();
  // Taken once the process is gone: every notification the killed run sent has an earlier SentTimestamp, every one of
  // the next run a later one (a time taken before the kill let a send in its last milliseconds count as "after").
  const killedAt = Date.now();
  current = undefined;
  await effects.stop();
  received.push(...deliveriesOf(effects));
  sqs.destroy();
  writer.close();
  endPhase('killMs');

  log('restarting the runtime on the same data dir');
  runtime = await start();
  current = runtime;
  log(`runtime endpoints ${JSON.stringify(runtime.info.endpoints)}`);
  endPhase('restartMs');
  writer = OrderWriter.forRuntime(runtime.info);
  // The new consumer knows what the old one received: a message whose delete died with the runtime comes again.
  effects = EffectsLog.forRuntime(runtime.info, effects);
  sqs = sqsFor(runtime.info);
  await setFaults(runtime.info, true);
  log(`writing the other ${workload.length - half} orders`);
  await writeAll(writesOf(writer, workload.slice(half)));
  endPhase('secondHalfWritesMs');
  await quiescence(runtime.info, () => received.length + effects.received.length, sqs);
  endPhase('drainMs');

  const before = await observe(runtime.info, writer, [...received, ...deliveriesOf(effects)], killedAt, poisonOrders);
  const beforeRedrive = ledgers('before-redrive', before.records, before.seen);
  log(`before redrive: ${before.dlqMessages} DLQ messages; clearing faults and redriving`);
  endPhase('checkBeforeRedriveMs');

  await setFaults(runtime.info, false);
  // A processor killed mid-record leaves Powertools' INPROGRESS idempotency record, which refuses the record
  // (IdempotencyAlreadyInProgressError) until it expires, at most the function's timeout after the kill. An operator
  // redriving sooner sees those messages kept with that error; the suite waits it out, as the runbook says to.
  const inProgressExpired = killedAt + processorTimeoutSeconds(runtime.info) * 1000 + 1000;
  if (Date.now() < inProgressExpired) {
    log(
      `waiting ${Math.ceil((inProgressExpired - Date.now()) / 1000)} s for the killed invocations' in-progress records to expire`,
    );
    await new Promise((resolve) => setTimeout(resolve, inProgressExpired - Date.now()));
  }
  const redrive = await redriveEverything(runtime.info, poisonOrders);
  await quiescence(runtime.info, () => received.length + effects.received.length, sqs);
  endPhase('redriveMs');
  await effects.stop();
  received.push(...deliveriesOf(effects));
  const after = await observe(runtime.info, writer, received, killedAt, poisonOrders);
  const afterRedrive = ledgers('after-redrive', after.records, after.seen);
  endPhase('checkAfterRedriveMs');

  sqs.destroy();
  writer.close();
  await runtime.stop();
  current = undefined;
  rmSync(scratchDir, { recursive: true, force: true });

  const sum = (key: keyof PipeLedger) =>
    PIPE_KEYS.reduce((total, pipe) => total + beforeRedrive[pipe][key] + afterRedrive[pipe][key], 0);
  const invariantViolations = PIPE_KEYS.reduce(
    (total, pipe) => total + violations(beforeRedrive[pipe]) + violations(afterRedrive[pipe]),
    0,
  );
  const dlqMessagesAfterRedrive = after.dlqMessages;
  const failed = invariantViolations + dlqMessagesAfterRedrive;
  const summary = {
    suite: 'chaos',
    orders: ORDER_COUNT,
    seed: SEED,
    streamRecords: after.records.length,
    poisonOrders: poisonOrders.size,
    failureRate: FAILURE_RATE,
    restarts: 1,
    kill: 'SIGKILL of the runtime process',
    beforeRedrive,
    dlqMessagesBeforeRedrive: before.dlqMessages,
    redrive,
    afterRedrive,
    dlqMessagesAfterRedrive,
    notificationsReceived: received.length,
    unreadableNotifications: effects.unreadable.length,
    runtimeErrorsSurvived: runtimeErrors,
    redeliveredAcrossKill: PIPE_KEYS.reduce((total, pipe) => total + afterRedrive[pipe].redeliveredAcrossKill, 0),
    lost: sum('lost'),
    duplicated: sum('duplicated'),
    processedNonMatching: sum('processedNonMatching'),
    poisonProcessed: sum('poisonProcessed'),
    passed: failed === 0,
    durationMs: Math.round(performance.now() - startedAt),
    phasesMs: phases,
    machine: { cores: cpus().length, node: process.version },
    reproduce: `npm run chaos -- --orders ${ORDER_COUNT} --seed ${SEED}`,
  };
  console.log(JSON.stringify(summary, null, 2));
  // Every invariant counter per pipe and phase, and the empty DLQs at the end, as one plain test tally.
  const checks = PIPE_KEYS.flatMap((pipe) =>
    [beforeRedrive[pipe], afterRedrive[pipe]].flatMap((ledger) => [
      ledger.lost,
      ledger.duplicated,
      ledger.processedNonMatching,
      ledger.poisonProcessed,
    ]),
  ).concat(dlqMessagesAfterRedrive);
  const broken = checks.filter((count) => count !== 0).length;
  console.log(`chaos: ${checks.length - broken} passed, ${broken} failed`);
  return failed === 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`${signal}: stopping the runtime`);
    void (current?.stop() ?? Promise.resolve()).finally(() => {
      rmSync(scratchDir, { recursive: true, force: true });
      process.exit(130);
    });
  });

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await current?.stop();
    rmSync(scratchDir, { recursive: true, force: true });
    process.exit(1);
  },
);
