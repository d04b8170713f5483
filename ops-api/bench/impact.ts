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
import { bursts, syntheticStreamRecords } from '@orderflow/pipeline/testing';
import { ImpactEvaluator } from '../src/services/impact.ts';

const RECORDS = 100_000;
const TARGET_RECORDS_PER_SECOND = 1_000_000;

/**
 * Stream records as JSON text in the member order GetRecords answers them (`dynamodb` first), plus eventSourceARN,
 * as Pipes delivers them: the order decides how far the JSON-text scanner reads.
 */
function makeTexts(): string[] {
  return syntheticStreamRecords({
    count: RECORDS,
    seed: 20261124,
    firstEpochSeconds: 1_795_000_000,
    streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-24T00:00:00.000',
  }).map(({ eventSourceARN, awsRegion, dynamodb, eventID, eventName, eventSource, eventVersion }) =>
    JSON.stringify({ eventSourceARN, awsRegion, dynamodb, eventID, eventName, eventSource, eventVersion }),
  );
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
  const jsonText = bursts(texts.length, (i) => typed.matchesJson(texts[i] as string));
  const parsed = bursts(texts.length, (i) => typed.matches(typedView(JSON.parse(texts[i] as string))));
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
  const rate = bursts(texts.length, run);
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
