/**
 * Times `npx cdk synth` of the Orderflow app from the repo root, as a person or CI runs it (CLI start, TypeScript via
 * tsx, esbuild bundling of every function, cdk-nag and CloudFormation validation). Prints one JSON object.
 *
 * Baseline in the same run: `cdk synth` of an app with one empty stack, so the ratio separates this stack's own cost
 * from the CLI and tsx start-up that every CDK app pays.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, repoPath } from '../src/paths.ts';

const TARGET_SECONDS = 30;
const RUNS = Number(process.env.ORDERFLOW_BENCH_RUNS ?? 3);

function timeSynth(args: string[]): number {
  const outdir = mkdtempSync(join(tmpdir(), 'orderflow-bench-'));
  const started = process.hrtime.bigint();
  const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', outdir, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`cdk synth ${args.join(' ')} failed:\n${result.stderr}`);
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const baselineApp = repoPath('stack', 'bench', 'empty-app.ts');
// The stack uploads the built console; without a build (e.g. in a fresh clone) a one-page stand-in keeps the synth
// representative (the console's size does not change synth time: CDK only hashes and copies it).
const consoleBuilt = existsSync(repoPath('console', 'dist', 'index.html'));
const consoleArgs: string[] = [];
if (!consoleBuilt) {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-bench-console-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Orderflow</title>');
  consoleArgs.push('-c', `consoleDir=${dir}`);
}
const extraArgs = [...consoleArgs, ...process.argv.slice(2)];
const baseline: number[] = [];
const orderflow: number[] = [];
for (let run = 0; run < RUNS; run += 1) {
  baseline.push(timeSynth(['--app', `npx tsx ${baselineApp}`]));
  orderflow.push(timeSynth(extraArgs));
}
const synthSeconds = median(orderflow);
console.log(
  JSON.stringify(
    {
      benchmark: 'cdk synth of the Orderflow stack',
      runs: RUNS,
      results: {
        synthSecondsMedian: Number(synthSeconds.toFixed(2)),
        synthSecondsAll: orderflow.map((s) => Number(s.toFixed(2))),
        emptyAppSynthSecondsMedian: Number(median(baseline).toFixed(2)),
        ratioToEmptyApp: Number((synthSeconds / median(baseline)).toFixed(2)),
      },
      targets: { synthSecondsAtMost: TARGET_SECONDS, met: synthSeconds <= TARGET_SECONDS },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
      node: process.version,
      consoleBuild: consoleBuilt ? 'console/dist' : 'one-page stand-in (console/dist not built)',
      reproduce: 'npm run bench -w stack',
    },
    null,
    2,
  ),
);
