import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { pipeFilterOf } from '@orderflow/pipeline/engine';
import { LOCAL_PIPE_METRICS, METRICS_NAMESPACE, PIPES_NAMESPACE } from '@orderflow/pipeline/facts';
import { parseDlqMessage, type StreamRecord } from '@orderflow/pipeline/schemas';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../src/pipes/checkpoints.ts';
import { AWS_POLL_INTERVAL_MS } from '../src/pipes/pipe-emulator.ts';
import { GET_RECORDS_LIMIT, StreamsApi } from '../src/pipes/streams-api.ts';
import { DynamoFixture, ok, orderIdOf, pipeOver, type TestTable, total } from './helpers.ts';

let fixture: DynamoFixture;
beforeAll(async () => {
  fixture = await DynamoFixture.start();
});
afterAll(async () => {
  await fixture?.stop();
});

describe('pipe emulator against DynamoDB Local streams', () => {
  it('evaluates the filter in the pipes dialect on the raw record: numeric never matches N, filtered records are checkpointed', async () => {
    const table = await fixture.table();
    const delivered: string[] = [];
    const numericOnN = { dynamodb: { NewImage: { orderAmount: { N: [{ numeric: ['>', 100] }] } } } };
    const standard = pipeOver(
      fixture,
      table,
      (batch) => {
        delivered.push(...batch.map(orderIdOf));
        return ok;
      },
      { filters: [pipeFilterOf('standard') as Record<string, unknown>] },
    );
    const numeric = pipeOver(
      fixture,
      table,
      () => {
        throw new Error('a numeric filter on N must never match');
      },
      { filters: [numericOnN] },
    );
    await table.put('a', { orderStatus: 'pending', orderAmount: 150, customerEmail: 'a@example.com' });
    await table.put('b', { orderStatus: 'cancelled', orderAmount: 150, customerEmail: 'b@example.com' });
    await table.put('c', { orderStatus: 'shipped', orderAmount: 5000, customerEmail: 'c@example.com' });
    await Promise.all([standard.emulator.start(), numeric.emulator.start()]);
    const pipe = { Pipe: 'standard' };
    await until(
      () => total(standard.store, METRICS_NAMESPACE, LOCAL_PIPE_METRICS.recordsPolled.name, pipe) === 3,
      'standard polled 3',
    );
    await until(
      () => total(numeric.store, METRICS_NAMESPACE, LOCAL_PIPE_METRICS.recordsFilteredOut.name, pipe) === 3,
      'numeric filtered 3',
    );
    await until(() => delivered.length === 2, 'two matching records delivered');
    await Promise.all([standard.emulator.stop(), numeric.emulator.stop()]);
    expect(delivered).toEqual(['a', 'c']);
    expect(total(standard.store, METRICS_NAMESPACE, LOCAL_PIPE_METRICS.recordsMatched.name, pipe)).toBe(2);
    expect(total(standard.store, METRICS_NAMESPACE, LOCAL_PIPE_METRICS.recordsFilteredOut.name, pipe)).toBe(1);
    expect(total(numeric.store, METRICS_NAMESPACE, LOCAL_PIPE_METRICS.recordsMatched.name, pipe)).toBe(0);
    // Everything, matched or not, is behind the checkpoint of the pipe that matched nothing.
    const [shard] = await fixture.streams.listShards(table.streamArn);
    expect(numeric.checkpoints.get(table.streamArn, shard?.ShardId ?? '')?.sequenceNumber).toMatch(/3$/);
  });

  it('waits for the batching window when the batch is not full, and sends full batches at once', async () => {
    const table = await fixture.table();
    const batches: { size: number; at: number }[] = [];
    const harness = pipeOver(
      fixture,
      table,
      (batch) => {
        batches.push({ size: batch.length, at: Date.now() });
        return ok;
      },
      { settings: { batchSize: 4, maximumBatchingWindowInSeconds: 1 } },
    );
    await harness.emulator.start();
    const written = Date.now();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) await table.put(id);
    await until(() => batches.reduce((n, b) => n + b.size, 0) === 6, 'six records delivered');
    await harness.emulator.stop();
    expect(batches.map((b) => b.size)).toEqual([4, 2]);
    // The full batch goes without waiting; the remainder waits for the one-second window.
    expect((batches[0]?.at ?? 0) - written).toBeLessThan(900);
    expect((batches[1]?.at ?? 0) - written).toBeGreaterThanOrEqual(900);
  });

  it('retries from the first failed record of a partial batch response; an unknown identifier fails the whole batch', async () => {
    const table = await fixture.table();
    const calls: string[][] = [];
    const harness = pipeOver(fixture, table, (batch) => {
      calls.push(batch.map(orderIdOf));
      if (calls.length === 1)
        return { kind: 'response', payload: { batchItemFailures: [{ itemIdentifier: batch[2]?.eventID }] } };
      if (calls.length === 2)
        return { kind: 'response', payload: { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] } };
      return ok;
    });
    for (const id of ['a', 'b', 'c', 'd']) await table.put(id);
    await harness.emulator.start();
    await until(() => calls.length === 3, 'three invocations');
    await harness.emulator.stop();
    expect(calls).toEqual([
      ['a', 'b', 'c', 'd'],
      ['c', 'd'],
      ['c', 'd'],
    ]);
    expect(
      total(harness.store, PIPES_NAMESPACE, 'ExecutionPartiallyFailed', { PipeName: harness.emulator.options.name }),
    ).toBe(2);
    expect(harness.dlq).toEqual([]);
  });

  it('AUTOMATIC_BISECT halves a failing batch down to the poison record, which alone goes to the DLQ', async () => {
    const table = await fixture.table();
    const succeeded: string[] = [];
    let poisonSequence = '';
    const harness = pipeOver(
      fixture,
      table,
      (batch) => {
        const poison = batch.find((r) => orderIdOf(r) === 'poison');
        if (poison) {
          poisonSequence = poison.dynamodb.SequenceNumber;
          return { kind: 'error', message: 'boom' };
        }
        succeeded.push(...batch.map(orderIdOf));
        return ok;
      },
      { settings: { onPartialBatchItemFailure: 'AUTOMATIC_BISECT', maximumRetryAttempts: 1 } },
    );
    const ids = ['a', 'b', 'c', 'poison', 'e', 'f', 'g', 'h'];
    for (const id of ids) await table.put(id);
    await harness.emulator.start();
    await until(() => harness.dlq.length === 1 && succeeded.length === 7, 'poison in the DLQ, the rest processed');
    await harness.emulator.stop();
    expect(succeeded.sort()).toEqual(ids.filter((id) => id !== 'poison').sort());
    const message = parseDlqMessage(harness.dlq[0]);
    expect(message.DDBStreamBatchInfo.batchSize).toBe(1);
    expect(message.DDBStreamBatchInfo.startSequenceNumber).toBe(poisonSequence);
    expect(message.DDBStreamBatchInfo.endSequenceNumber).toBe(poisonSequence);
  });

  it('sends a metadata-only DLQ message of exactly AWS shape once retries are exhausted', async () => {
    const table = await fixture.table();
    let invocations = 0;
    const harness = pipeOver(
      fixture,
      table,
      () => {
        invocations++;
        return { kind: 'error', message: 'always fails' };
      },
      { settings: { maximumRetryAttempts: 2 } },
    );
    for (const id of ['a', 'b', 'c']) await table.put(id, { customerEmail: 'secret@example.com' });
    await harness.emulator.start();
    await until(() => harness.dlq.length === 1, 'a DLQ message');
    await harness.emulator.stop();
    expect(invocations).toBe(3);
    const body = JSON.parse(harness.dlq[0] ?? '{}');
    expect(Object.keys(body).sort()).toEqual(['DDBStreamBatchInfo', 'context', 'timestamp', 'version']);
    expect(Object.keys(body.DDBStreamBatchInfo).sort()).toEqual([
      'approximateArrivalOfFirstRecord',
      'approximateArrivalOfLastRecord',
      'batchSize',
      'endSequenceNumber',
      'shardId',
      'startSequenceNumber',
      'streamArn',
    ]);
    expect(body.context).toEqual({
      partnerResourceArn: `arn:aws:pipes:us-east-1:000000000000:pipe/${harness.emulator.options.name}`,
      condition: 'RetryAttemptsExhausted',
    });
    expect(body.version).toBe('1.0');
    expect(harness.dlq[0]).not.toContain('secret@example.com');
    const message = parseDlqMessage(body);
    expect(message.DDBStreamBatchInfo).toMatchObject({ batchSize: 3, streamArn: table.streamArn });
    expect(
      total(harness.store, METRICS_NAMESPACE, LOCAL_PIPE_METRICS.recordsSentToDlq.name, { Pipe: 'standard' }),
    ).toBe(3);
    expect(total(harness.store, PIPES_NAMESPACE, 'ExecutionFailed', { PipeName: harness.emulator.options.name })).toBe(
      3,
    );
  });

  it('gives up on records older than MaximumRecordAgeInSeconds with condition RecordAgeExceeded', async () => {
    const table = await fixture.table();
    let invocations = 0;
    const harness = pipeOver(
      fixture,
      table,
      () => {
        invocations++;
        return { kind: 'error', message: 'down' };
      },
      { settings: { maximumRetryAttempts: -1, maximumRecordAgeInSeconds: 1 } },
    );
    await table.put('old');
    await harness.emulator.start();
    await until(() => harness.dlq.length === 1, 'a DLQ message', 10_000);
    await harness.emulator.stop();
    expect(parseDlqMessage(harness.dlq[0]).context.condition).toBe('RecordAgeExceeded');
    // Retried (forever allowed) until the record was a second old, not given up at once.
    expect(invocations).toBeGreaterThan(2);
  });

  it('resumes from the persisted checkpoint after a restart: nothing lost, nothing re-read from the start', async () => {
    const table = await fixture.table();
    const dir = mkdtempSync(join(tmpdir(), 'orderflow-checkpoint-'));
    const file = join(dir, 'pipe.json');
    try {
      const seen: string[] = [];
      // The first run's fifth invocation is held until the stop has begun: the stop lands mid-stream, with a batch
      // in flight, whatever the machine's speed.
      let invocations = 0;
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const target = async (batch: StreamRecord[]) => {
        if (++invocations === 5) await held;
        seen.push(...batch.map(orderIdOf));
        return ok;
      };
      const first = pipeOver(fixture, table, target, {
        settings: { batchSize: 2 },
        checkpoints: new CheckpointStore(file),
        // No shard discovery in flight to delay the stop while the held batch completes.
        timing: { shardDiscoveryMs: 600_000 },
      });
      for (let i = 0; i < 20; i++) await table.put(`r${String(i).padStart(2, '0')}`);
      await first.emulator.start();
      await until(() => invocations === 5, 'the fifth invocation, held');
      const stopping = first.emulator.stop();
      release();
      await stopping;
      const firstRun = seen.length;
      for (let i = 20; i < 30; i++) await table.put(`r${String(i).padStart(2, '0')}`);
      const second = pipeOver(fixture, table, target, {
        settings: { batchSize: 2 },
        checkpoints: new CheckpointStore(file),
      });
      await second.emulator.start();
      await until(() => new Set(seen).size === 30, 'all 30 records processed');
      await second.emulator.stop();
      const redelivered = seen.length - 30;
      expect(new Set(seen).size).toBe(30);
      // At-least-once: at most the batch in flight at the stop is delivered again.
      expect(redelivered).toBeLessThanOrEqual(2);
      expect(firstRun).toBeGreaterThanOrEqual(10);
      expect(firstRun).toBeLessThan(20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs ParallelizationFactor batches concurrently while keeping each item key in order', async () => {
    const table = await fixture.table();
    const perKey = new Map<string, number[]>();
    let concurrent = 0;
    let maxConcurrent = 0;
    // The first invocation is held until a second one runs beside it: with one lane at a time it never would, and the
    // wait below times out naming that.
    let invocations = 0;
    let release = () => {};
    const overlapped = new Promise<void>((resolve) => {
      release = resolve;
    });
    const harness = pipeOver(
      fixture,
      table,
      async (batch) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        if (concurrent > 1) release();
        if (++invocations === 1) await overlapped;
        // Batches end in a varying order (a random number of turns of the event loop, not of milliseconds).
        for (let turns = Math.floor(Math.random() * 4); turns > 0; turns--) await new Promise(setImmediate);
        for (const record of batch) {
          const list = perKey.get(orderIdOf(record)) ?? [];
          list.push(Number(record.dynamodb.NewImage?.version?.N));
          perKey.set(orderIdOf(record), list);
        }
        concurrent--;
        return ok;
      },
      { settings: { batchSize: 2, parallelizationFactor: 4 } },
    );
    await harness.emulator.start();
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
    for (let version = 1; version <= 8; version++) await Promise.all(keys.map((key) => table.put(key, { version })));
    await until(() => maxConcurrent > 1, 'a second batch in flight beside the first');
    await until(() => [...perKey.values()].reduce((n, list) => n + list.length, 0) === 48, 'all 48 updates delivered');
    await harness.emulator.stop();
    for (const key of keys) expect(perKey.get(key)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(maxConcurrent).toBeGreaterThan(1);
  });

  describe('poll cadence', () => {
    /**
     * A pipe over a fresh table whose GetRecords calls are timed: the start time (ms) of each, and how many records it
     * returned.
     */
    function timedPipe(activePollMs: number) {
      const polls: { at: number; records: number }[] = [];
      const streams = new StreamsApi(fixture.local.endpoint);
      const read = streams.records.bind(streams);
      streams.records = async (iterator, limit) => {
        const at = performance.now();
        const page = await read(iterator, limit);
        polls.push({ at, records: page.records.length });
        return page;
      };
      const delivered: string[] = [];
      const start = async ({ table }: { table?: TestTable } = {}) => {
        table ??= await fixture.table();
        const harness = pipeOver(
          fixture,
          table,
          (batch) => {
            delivered.push(...batch.map(orderIdOf));
            return ok;
          },
          { streams, timing: { pollIntervalMs: AWS_POLL_INTERVAL_MS, activePollMs } },
        );
        await harness.emulator.start();
        return { table, emulator: harness.emulator };
      };
      /** Polls after the last one that returned records: their start times relative to it. */
      const afterRecords = () => {
        const last = polls.findLastIndex((poll) => poll.records > 0);
        const at = polls[last]?.at ?? 0;
        return polls.slice(last + 1).map((poll) => poll.at - at);
      };
      const gaps = (times: number[]) => times.slice(1).map((time, i) => time - (times[i] ?? 0));
      return { polls, delivered, start, afterRecords, gaps };
    }

    it('polls an idle shard 4 times a second, and a shard that just returned records again within 10 ms, backing off to that', async () => {
      const pipe = timedPipe(10);
      const { table, emulator } = await pipe.start();
      await until(() => pipe.polls.length >= 4, 'four polls of the idle shard');
      // Idle from the start: one poll per 250 ms (the first at start), never faster.
      for (const gap of pipe.gaps(pipe.polls.map((poll) => poll.at))) {
        expect(gap).toBeGreaterThanOrEqual(AWS_POLL_INTERVAL_MS - 5);
      }
      await table.put('busy-1', { orderStatus: 'pending' });
      await until(() => pipe.delivered.length === 1, 'the record delivered');
      await until(
        () => pipe.afterRecords().filter((time) => time >= 600).length >= 3,
        'three polls once the shard has been quiet for 0.6 s',
      );
      await emulator.stop();
      const after = pipe.afterRecords();
      // About 10 ms after it, then 10, 20, 40, 80 ms apart (delays under load only spread them out; that the first waits
      // at all is checked with the 250 ms cadence below, where a read's own duration cannot hide it)...
      expect(after.filter((time) => time < 400).length).toBeGreaterThanOrEqual(3);
      // ...and once the shard has been quiet for about 0.3 s, AWS's interval again.
      for (const gap of pipe.gaps(after.filter((time) => time >= 600))) {
        expect(gap).toBeGreaterThanOrEqual(AWS_POLL_INTERVAL_MS - 5);
      }
    });

    it('with activePollMs equal to the interval (`--poll aws`), polls every 250 ms busy or not', async () => {
      const pipe = timedPipe(AWS_POLL_INTERVAL_MS);
      const { table, emulator } = await pipe.start();
      await table.put('aws-1', { orderStatus: 'pending' });
      await until(() => pipe.delivered.length === 1, 'the record delivered');
      await until(() => pipe.afterRecords().length >= 3, 'three polls after the one that returned the record');
      await emulator.stop();
      const after = pipe.afterRecords();
      // The shard was read to its end: the next read is at the base rate too.
      expect(after[0]).toBeGreaterThanOrEqual(AWS_POLL_INTERVAL_MS - 5);
      for (const gap of pipe.gaps(after)) expect(gap).toBeGreaterThanOrEqual(AWS_POLL_INTERVAL_MS - 5);
    });

    it('reads a backlog without pause: a full page of records is followed by the next read at once', async () => {
      const table = await fixture.table();
      const backlog = GET_RECORDS_LIMIT + 200;
      for (let i = 0; i < backlog; i += 25)
        await fixture.client.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [table.name]: Array.from({ length: Math.min(25, backlog - i) }, (_, j) => ({
                PutRequest: { Item: { orderId: { S: `backlog-${i + j}` }, orderStatus: { S: 'pending' } } },
              })),
            },
          }),
        );
      const pipe = timedPipe(AWS_POLL_INTERVAL_MS);
      const { emulator } = await pipe.start({ table });
      await until(() => pipe.delivered.length === backlog, 'the backlog delivered');
      await emulator.stop();
      const [full, rest] = pipe.polls;
      expect(full?.records).toBe(GET_RECORDS_LIMIT);
      expect(rest?.records).toBe(200);
      // Even with AWS's 250 ms cadence, the read after a full page does not wait for it.
      expect((rest?.at ?? Number.POSITIVE_INFINITY) - (full?.at ?? 0)).toBeLessThan(AWS_POLL_INTERVAL_MS / 2);
    });
  });

  it('refuses timing options that are not positive milliseconds, naming the pipe and the option', async () => {
    const table = await fixture.table();
    for (const [timing, message] of [
      [{ activePollMs: 0 }, 'activePollMs must be a positive number of milliseconds, got 0'],
      [{ pollIntervalMs: Number.NaN }, 'pollIntervalMs must be a positive number of milliseconds, got NaN'],
    ] as const) {
      expect(() => pipeOver(fixture, table, () => ok, { timing })).toThrow(`pipe pipe-${table.name}: ${message}`);
    }
  });
});
