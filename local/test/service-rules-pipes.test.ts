/**
 * AWS's service rules the local runtime follows (docs/ARCHITECTURE.md, "AWS service rules the local runtime follows"):
 * a pipe has Pipes' states (CREATING, STARTING, RUNNING, STOPPING, STOPPED), and publishes its AWS/EventBridge/Pipes
 * metrics (TargetStageDuration and TargetStagePartiallyFailed included) only while RUNNING.
 */
import { randomUUID } from 'node:crypto';
import { PIPES_METRICS, PIPES_NAMESPACE } from '@orderflow/pipeline/facts';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PutMetric } from '../src/cloudwatch/metric-store.ts';
import { CheckpointStore } from '../src/pipes/checkpoints.ts';
import { PipeEmulator, type PipeState, type TargetOutcome } from '../src/pipes/pipe-emulator.ts';
import { StreamsApi } from '../src/pipes/streams-api.ts';
import { DynamoFixture, FAST_SETTINGS, ok, orderIdOf, type TestTable } from './helpers.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

let fixture: DynamoFixture;
beforeAll(async () => {
  fixture = await DynamoFixture.start();
}, 120_000);
afterAll(async () => {
  await fixture?.stop();
});

interface Harness {
  readonly emulator: PipeEmulator;
  readonly delivered: string[];
  readonly published: PutMetric[];
  readonly streams: StreamsApi;
}

/** A pipe over `table` reading through `streams`, recording what it delivers and every metric it publishes. */
function pipe(
  table: TestTable,
  streams: StreamsApi,
  target: (batch: StreamRecord[]) => Promise<TargetOutcome> | TargetOutcome = () => ok,
): Harness {
  const delivered: string[] = [];
  const published: PutMetric[] = [];
  const emulator = new PipeEmulator({
    name: `pipe-${randomUUID().slice(0, 8)}`,
    metricsPipe: 'standard',
    streamArn: table.streamArn,
    streams,
    settings: FAST_SETTINGS,
    filters: [],
    target: async (batch) => {
      const outcome = await target(batch);
      if (outcome.kind === 'response') delivered.push(...batch.map(orderIdOf));
      return outcome;
    },
    checkpoints: new CheckpointStore(undefined),
    publish: (metrics) => void published.push(...metrics),
    region: REGION,
    account: ACCOUNT,
    pollIntervalMs: 50,
    retryBaseDelayMs: 10,
    shardDiscoveryMs: 500,
  });
  return { emulator, delivered, published, streams };
}

const pipesMetrics = (published: readonly PutMetric[], name: string) =>
  published.filter((m) => m.namespace === PIPES_NAMESPACE && m.metricName === name);
const sum = (metrics: readonly PutMetric[]) => metrics.reduce((total, m) => total + m.value, 0);

describe('EventBridge Pipes: states and metrics', () => {
  it('publishes TargetStageDuration, TargetStagePartiallyFailed and 0 for the outcomes an execution did not have', async () => {
    const table = await fixture.table();
    const harness = pipe(table, fixture.streams, (batch) => {
      const failing = batch.find((r) => orderIdOf(r) === 'partial-2');
      return failing ? { kind: 'response', payload: { batchItemFailures: [{ itemIdentifier: failing.eventID }] } } : ok;
    });
    await harness.emulator.start();
    try {
      await table.put('partial-1');
      await until(() => harness.delivered.includes('partial-1'), 'partial-1 delivered');
      const name = harness.emulator.options.name;
      const afterSuccess = [...harness.published];
      for (const metricName of [
        PIPES_METRICS.invocations,
        PIPES_METRICS.eventCount,
        PIPES_METRICS.duration,
        PIPES_METRICS.targetStageDuration,
        PIPES_METRICS.executionFailed,
        PIPES_METRICS.executionPartiallyFailed,
        PIPES_METRICS.executionThrottled,
        PIPES_METRICS.executionTimeout,
        PIPES_METRICS.targetStageFailed,
        PIPES_METRICS.targetStagePartiallyFailed,
      ]) {
        const [metric] = pipesMetrics(afterSuccess, metricName);
        expect(metric, metricName).toMatchObject({ dimensions: { PipeName: name } });
        expect(metric?.unit, metricName).toBe(metricName.endsWith('Duration') ? 'Milliseconds' : 'None');
      }
      // A successful execution: each outcome counter is there, with 0.
      expect(sum(pipesMetrics(afterSuccess, PIPES_METRICS.targetStageFailed))).toBe(0);
      expect(sum(pipesMetrics(afterSuccess, PIPES_METRICS.targetStagePartiallyFailed))).toBe(0);

      await table.put('partial-2');
      await until(
        () => sum(pipesMetrics(harness.published, PIPES_METRICS.targetStagePartiallyFailed)) >= 1,
        'a partially failed target stage',
      );
      expect(sum(pipesMetrics(harness.published, PIPES_METRICS.executionPartiallyFailed))).toBeGreaterThanOrEqual(1);
      expect(sum(pipesMetrics(harness.published, PIPES_METRICS.targetStageFailed))).toBe(0);
    } finally {
      await harness.emulator.stop();
    }
  });

  it('stops: STOPPING while a batch finishes, then STOPPED, reading and publishing nothing; starts again from its checkpoint, delivering what was written meanwhile once', async () => {
    const table = await fixture.table();
    let releaseHeld: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      releaseHeld = resolve;
    });
    const invoked: string[] = [];
    // Counts every stream call the pipe makes.
    const calls = { count: 0 };
    const counting = new (class extends StreamsApi {
      override listShards(arn: string) {
        calls.count++;
        return super.listShards(arn);
      }
      override records(iterator: string, limit?: number) {
        calls.count++;
        return super.records(iterator, limit);
      }
    })(fixture.local.endpoint, REGION);
    const harness = pipe(table, counting, async (batch) => {
      invoked.push(...batch.map(orderIdOf));
      if (batch.some((r) => orderIdOf(r) === 'stop-2')) await held;
      return ok;
    });
    // A second pipe over the same table, never stopped: when it has delivered an order, the stopped one could have.
    const witness = pipe(table, fixture.streams);
    const { emulator } = harness;
    const states: PipeState[] = [];
    emulator.onStateChange((status) => states.push(status.CurrentState));
    expect(emulator.describe()).toMatchObject({ CurrentState: 'CREATING', DesiredState: 'RUNNING' });

    await Promise.all([emulator.start(), witness.emulator.start()]);
    try {
      expect(emulator.describe()).toMatchObject({ CurrentState: 'RUNNING', DesiredState: 'RUNNING' });
      await table.put('stop-1');
      await until(() => harness.delivered.includes('stop-1'), 'stop-1 delivered');

      // stop-2's invocation is in flight when the pipe is told to stop.
      await table.put('stop-2');
      await until(() => invoked.includes('stop-2'), 'stop-2 invoked');
      const invocationsBefore = sum(pipesMetrics(harness.published, PIPES_METRICS.invocations));
      const publishedBefore = harness.published.length;
      const stopping = emulator.stop();
      expect(emulator.describe()).toMatchObject({ CurrentState: 'STOPPING', DesiredState: 'STOPPED' });
      releaseHeld();
      await stopping;
      expect(emulator.describe()).toMatchObject({ CurrentState: 'STOPPED', DesiredState: 'STOPPED' });
      expect(emulator.isRunning).toBe(false);
      // The batch finished while STOPPING (and was acknowledged), but a pipe that is not RUNNING publishes nothing.
      expect(harness.delivered).toEqual(['stop-1', 'stop-2']);
      expect(harness.published.length).toBe(publishedBefore);
      expect(sum(pipesMetrics(harness.published, PIPES_METRICS.invocations))).toBe(invocationsBefore);

      // Written while stopped: the witness delivers them, the stopped pipe reads nothing and publishes nothing.
      const callsWhenStopped = calls.count;
      await table.put('stop-3');
      await table.put('stop-4');
      await until(
        () => witness.delivered.includes('stop-3') && witness.delivered.includes('stop-4'),
        'the witness pipe to deliver stop-3 and stop-4',
      );
      expect(harness.delivered).toEqual(['stop-1', 'stop-2']);
      expect(calls.count).toBe(callsWhenStopped);
      expect(harness.published.length).toBe(publishedBefore);
      expect(emulator.currentState).toBe('STOPPED');

      // Started again: from the checkpoint, so stop-2 (acknowledged while stopping) is not delivered again.
      await emulator.start();
      expect(emulator.describe()).toMatchObject({ CurrentState: 'RUNNING', DesiredState: 'RUNNING' });
      await table.put('stop-5');
      await until(() => harness.delivered.includes('stop-5'), 'stop-5 delivered after the restart');
      // One shard, one lane: records arrive in stream order, so anything delivered again would have come before stop-5.
      expect(harness.delivered).toEqual(['stop-1', 'stop-2', 'stop-3', 'stop-4', 'stop-5']);
      expect(sum(pipesMetrics(harness.published, PIPES_METRICS.invocations))).toBeGreaterThan(invocationsBefore);
      expect(states).toEqual(['STARTING', 'RUNNING', 'STOPPING', 'STOPPED', 'STARTING', 'RUNNING']);
    } finally {
      releaseHeld();
      await Promise.all([emulator.stop(), witness.emulator.stop()]);
    }
  });

  it('refuses to start a STOPPING pipe, and stops a pipe never started without polling', async () => {
    const table = await fixture.table();
    const harness = pipe(table, fixture.streams);
    await harness.emulator.start();
    const stopping = harness.emulator.stop('operator asked');
    await expect(harness.emulator.start()).rejects.toMatchObject({ name: 'ConflictException', state: 'STOPPING' });
    await stopping;
    expect(harness.emulator.describe()).toMatchObject({ CurrentState: 'STOPPED', StateReason: 'operator asked' });
    const never = pipe(table, fixture.streams);
    await never.emulator.stop();
    expect(never.emulator.describe()).toMatchObject({ CurrentState: 'STOPPED', DesiredState: 'STOPPED' });
    expect(never.emulator.isRunning).toBe(false);
  });
});
