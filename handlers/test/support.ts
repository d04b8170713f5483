import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { guardFor } from '@orderflow/pipeline/engine';
import { METRICS_NAMESPACE, PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { buildStreamRecord } from '@orderflow/pipeline/schemas';
import type { BatchDependencies } from '../src/processing/batch.ts';
import type { EffectsResult, GuardedOrder } from '../src/processing/effects.ts';
import type { FailureJournal, RecordFailure } from '../src/processing/journal.ts';
import { maskingJsonReplacer } from '../src/processing/masking.ts';

/**
 * Runs `fn` and returns every line the process wrote to stdout and stderr meanwhile (both reach CloudWatch Logs in
 * Lambda): Powertools' Logger and Metrics write through their own `Console` bound to these streams, so this is the
 * real log and EMF output.
 */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  let text = '';
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof stream.write;
  }
  try {
    const result = await fn();
    return { result, lines: text.split('\n').filter((line) => line.trim() !== '') };
  } finally {
    streams.forEach((stream, i) => {
      stream.write = originals[i] as typeof stream.write;
    });
  }
}

export function jsonLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** EMF documents among output lines: metric name → summed values, with the document's dimension values. */
export function emfMetrics(
  lines: readonly string[],
): { name: string; value: number; dimensions: Record<string, string> }[] {
  const out: { name: string; value: number; dimensions: Record<string, string> }[] = [];
  for (const doc of jsonLines(lines)) {
    const aws = doc._aws as
      | { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }
      | undefined;
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      if (directive.Namespace !== METRICS_NAMESPACE) continue;
      const dimensions = Object.fromEntries((directive.Dimensions[0] ?? []).map((d) => [d, String(doc[d])]));
      for (const metric of directive.Metrics) {
        const raw = doc[metric.Name];
        const value = Array.isArray(raw) ? raw.reduce((a: number, b: number) => a + b, 0) : Number(raw);
        out.push({ name: metric.Name, value, dimensions });
      }
    }
  }
  return out;
}

export function recordingJournal(): FailureJournal & { failures: RecordFailure[] } {
  const failures: RecordFailure[] = [];
  return {
    failures,
    async recordFailure(failure) {
      failures.push(failure);
    },
  };
}

/** Batch dependencies with real Powertools Logger/Metrics (writing to stdout) and in-memory effects and journal. */
export function testDependencies(
  pipe: PipeKey,
  overrides: Partial<BatchDependencies> = {},
): BatchDependencies & { applied: GuardedOrder[]; journal: ReturnType<typeof recordingJournal> } {
  const applied: GuardedOrder[] = [];
  const journal = recordingJournal();
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'orderflow-test' });
  metrics.setDefaultDimensions({ Pipe: pipe });
  return {
    pipe,
    guard: guardFor(PIPES[pipe].rule),
    applyEffects: async (input): Promise<EffectsResult> => {
      applied.push(input);
      return { notificationId: `${pipe}:${input.eventId}`, notified: true };
    },
    journal,
    journalTtlDays: 14,
    logger: new Logger({ serviceName: 'orderflow-test', jsonReplacerFn: maskingJsonReplacer }),
    metrics,
    now: () => new Date('2026-11-24T10:00:00Z'),
    applied,
    ...overrides,
  } as BatchDependencies & { applied: GuardedOrder[]; journal: ReturnType<typeof recordingJournal> };
}

let sequence = 1000;

/** A standard-pipe record that passes the full rule unless `image` overrides make it fail. */
export function standardRecord(image: Record<string, unknown> = {}, eventName: 'INSERT' | 'MODIFY' = 'INSERT') {
  sequence += 1;
  return buildStreamRecord({
    eventName,
    eventID: `evt-${sequence}`,
    sequenceNumber: `${100000000000000000000n + BigInt(sequence)}`,
    approximateCreationDateTime: 1_795_000_000,
    newImage: {
      orderId: `order-${sequence}`,
      customerEmail: 'jane.doe@example.org',
      orderAmount: 150,
      orderStatus: 'pending',
      orderDate: '2026-11-24T09:00:00Z',
      ...image,
    },
    ...(eventName === 'MODIFY' ? { oldImage: { orderId: `order-${sequence}`, orderStatus: 'paid' } } : {}),
  });
}

/** A premium-pipe record: a MODIFY from pending to shipped over 1,000. */
export function premiumRecord(image: Record<string, unknown> = {}) {
  sequence += 1;
  const orderId = `vip-${sequence}`;
  return buildStreamRecord({
    eventName: 'MODIFY',
    eventID: `evt-${sequence}`,
    sequenceNumber: `${100000000000000000000n + BigInt(sequence)}`,
    approximateCreationDateTime: 1_795_000_000,
    oldImage: {
      orderId,
      customerEmail: 'vip@example.com',
      orderAmount: 2500,
      orderStatus: 'pending',
      orderDate: '2026-11-24T09:00:00Z',
    },
    newImage: {
      orderId,
      customerEmail: 'vip@example.com',
      orderAmount: 2500,
      orderStatus: 'shipped',
      orderDate: '2026-11-24T09:00:00Z',
      ...image,
    },
  });
}
