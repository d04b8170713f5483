/**
 * Rule impact preview (POST /api/filters/impact): records evaluated per second on the engine's JSON-text path, as the
 * preview matches them (`compilePattern(rule, 'eventbridge', { typedNumbers: true }).matchesJson(text)` on a record's
 * raw JSON text, `N` values as strings), against JSON.parse + typedView + matches in the same run (the result the
 * JSON-text path must equal, and what a preview would do without it). Prints one JSON object.
 *
 * Cases, over 100,000 seeded DynamoDB stream records shaped as Pipes delivers them:
 * - each pipe's real rule alone (the matching itself);
 * - the preview's evaluator (`ImpactEvaluator.text`): the pipe's current rule and a candidate on every record, the
 *   counts, and the samples of changed records (parsed and explained, at most 25).
 *
 * Rates are measured in 15 bursts of at least 100 ms after a warm-up pass; the best and the median burst are reported
 * (the machine is shared, so the best is the least disturbed). Reproduce: `npx tsx ops-api/bench/impact.ts`
 * (from the repository root).
 */
import os from 'node:os';
import { compilePattern, typedView } from '@orderflow/pipeline/engine';
import { PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { ImpactEvaluator } from '../src/services/impact.ts';

const RECORDS = 100_000;
const TARGET_RECORDS_PER_SECOND = 1_000_000;

/** mulberry32: a small seeded PRNG, so every run measures the same records. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stream records as JSON text, as GetRecords answers them (plus eventSourceARN, as Pipes delivers them). */
function makeTexts(): string[] {
  const random = prng(20261124);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const statuses = ['pending', 'shipped', 'delivered', 'cancelled'] as const;
  const domains = ['example.com', 'mail.example.org', 'test.com', 'corp.test.com', 'shop.example.net'] as const;
  const image = (orderId: string, status: string) => ({
    orderId: { S: orderId },
    customerEmail: { S: `c${Math.floor(random() * 5000)}@${pick(domains)}` },
    orderAmount: { N: (random() * 2000).toFixed(2) },
    orderStatus: { S: status },
    orderDate: { S: new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 3e10)).toISOString().slice(0, 10) },
  });
  return Array.from({ length: RECORDS }, (_, i) => {
    const roll = random();
    const eventName = roll < 0.4 ? 'INSERT' : roll < 0.85 ? 'MODIFY' : 'REMOVE';
    const orderId = `ord-${String(i).padStart(8, '0')}`;
    const newImage = eventName === 'REMOVE' ? undefined : image(orderId, pick(statuses));
    const oldImage = eventName === 'INSERT' ? undefined : image(orderId, pick(statuses));
    return JSON.stringify({
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-24T00:00:00.000',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: 1_795_000_000 + i,
        Keys: { orderId: { S: orderId } },
        ...(newImage && { NewImage: newImage }),
        ...(oldImage && { OldImage: oldImage }),
        SequenceNumber: String(100000000000000000000 + i * 100),
        SizeBytes: 180 + Math.floor(random() * 120),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventID: `${i.toString(16).padStart(8, '0')}c4ca4238a0b923820dcc509a`,
      eventName,
      eventSource: 'aws:dynamodb',
      eventVersion: '1.1',
    });
  });
}

interface Rate {
  best: number;
  median: number;
}

function throughput(count: number, run: (i: number) => void): Rate {
  for (let i = 0; i < count; i++) run(i);
  const rates: number[] = [];
  let i = 0;
  for (let burst = 0; burst < 15; burst++) {
    let done = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      for (let n = 0; n < 1000; n++, i = (i + 1) % count) run(i);
      done += 1000;
      elapsed = performance.now() - start;
    } while (elapsed < 100);
    rates.push(done / (elapsed / 1000));
  }
  rates.sort((a, b) => a - b);
  return { best: Math.round(rates.at(-1) ?? 0), median: Math.round(rates[7] ?? 0) };
}

/** The standard rule with a threshold of 200 and delivered orders too: a candidate an operator might try. */
const CANDIDATE = {
  dynamodb: {
    NewImage: {
      orderStatus: { S: ['pending', 'shipped', 'delivered'] },
      orderAmount: { N: [{ numeric: ['>', 200] }] },
      customerEmail: { S: [{ 'anything-but': { wildcard: '*test.com*' } }] },
    },
  },
};

const texts = makeTexts();
const results: Record<string, unknown>[] = [];
for (const pipe of Object.keys(PIPES) as PipeKey[]) {
  const rule = PIPES[pipe].rule.pattern;
  const typed = compilePattern(rule, 'eventbridge', { typedNumbers: true });
  let disagreements = 0;
  let accepted = 0;
  for (const text of texts) {
    const fast = typed.matchesJson(text);
    if (fast) accepted++;
    if (fast !== typed.matches(typedView(JSON.parse(text)))) disagreements++;
  }
  const jsonText = throughput(texts.length, (i) => typed.matchesJson(texts[i] as string));
  const parsed = throughput(texts.length, (i) => typed.matches(typedView(JSON.parse(texts[i] as string))));
  results.push({
    case: `${pipe} rule`,
    rule: JSON.stringify(rule),
    accepted,
    disagreements,
    jsonTextPath: { recordsPerSecond: jsonText },
    baselineParseTypedViewMatches: { recordsPerSecond: parsed },
    speedup: { best: round(jsonText.best / parsed.best), median: round(jsonText.median / parsed.median) },
    meetsTarget: jsonText.median >= TARGET_RECORDS_PER_SECOND,
  });
}

// The evaluator as a preview runs it: both rules on every record, counts and samples. A fresh evaluator per pass over
// the records keeps the sample bookkeeping what a preview of that many records does.
for (const pipe of Object.keys(PIPES) as PipeKey[]) {
  let evaluator = new ImpactEvaluator(pipe, CANDIDATE);
  const run = (i: number) => {
    if (i === 0) evaluator = new ImpactEvaluator(pipe, CANDIDATE);
    evaluator.text(texts[i] as string);
  };
  const rate = throughput(texts.length, run);
  const once = new ImpactEvaluator(pipe, CANDIDATE);
  for (const text of texts) once.text(text);
  results.push({
    case: `${pipe} preview evaluator (current rule and candidate per record)`,
    candidate: JSON.stringify(CANDIDATE),
    counts: { evaluated: once.evaluated, current: once.current, candidate: once.candidate, changed: once.changedCount },
    recordsPerSecond: rate,
  });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

console.log(
  JSON.stringify(
    {
      bench: 'rule impact preview: JSON-text path',
      command: 'npx tsx ops-api/bench/impact.ts',
      node: process.version,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      loadAverage: os.loadavg().map((load) => Math.round(load * 10) / 10),
      records: RECORDS,
      targetRecordsPerSecond: TARGET_RECORDS_PER_SECOND,
      results,
    },
    null,
    2,
  ),
);
