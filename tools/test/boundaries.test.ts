import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The boundary rules of .dependency-cruiser.cjs, run as `npm run lint` runs them: each rule reports the fixture file
 * named after it (tools/test/fixtures/boundaries, a miniature of the repository), and nothing else; the real tree
 * passes.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const FIXTURE = fileURLToPath(new URL('./fixtures/boundaries', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
const require = createRequire(import.meta.url);
const ruleNames = new Set(
  (require('../../.dependency-cruiser.cjs') as { forbidden: { name: string }[] }).forbidden.map((rule) => rule.name),
);

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

function depcruise(cwd: string, args: string[]) {
  const run = spawnSync(DEPCRUISE, ['--config', CONFIG, ...args, '.'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  return run;
}

/** The violations as data (the JSON reporter, which exits 0 whatever it finds). */
function violationsIn(cwd: string, args: string[] = []): Violation[] {
  const run = depcruise(cwd, ['--output-type', 'json', ...args]);
  try {
    return (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
  } catch {
    throw new Error(`depcruise in ${cwd} printed no report (exit ${run.status}): ${run.stderr}`);
  }
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('module boundaries (.dependency-cruiser.cjs)', () => {
  it('reports each rule on the fixture that breaks it, by name, and nothing on the allowed ones', () => {
    const violations = violationsIn(FIXTURE, ['--ts-config', 'tsconfig.json']);
    const reported = new Map<string, string[]>();
    for (const violation of violations) {
      expect(violation.rule.severity).toBe('error');
      reported.set(violation.from, [...(reported.get(violation.from) ?? []), violation.rule.name].sort());
    }
    // A fixture file named `<rule>.ts` or `<rule>.<variant>.ts` breaks that rule alone; every other file breaks none.
    const expected = new Map<string, string[]>();
    for (const file of files(FIXTURE)) {
      const rule = basename(file).split('.')[0] as string;
      if (ruleNames.has(rule)) expected.set(relative(FIXTURE, file).split(sep).join('/'), [rule]);
    }
    expect(Object.fromEntries(reported)).toEqual(Object.fromEntries(expected));
    // Every rule has a fixture that breaks it.
    expect(new Set([...expected.values()].flat())).toEqual(ruleNames);
  });

  it('fails the lint (its exit status) naming each broken rule', () => {
    // The reporter `npm run lint` uses (depcruise's default, `err`).
    const run = depcruise(FIXTURE, ['--ts-config', 'tsconfig.json']);
    expect(run.status).not.toBe(0);
    for (const rule of ruleNames) expect(run.stdout).toContain(`error ${rule}: `);
  });

  it('passes on the repository itself', () => {
    const run = depcruise(ROOT, []);
    expect(run.stdout).toContain('no dependency violations found');
    expect(run.status).toBe(0);
  });
});
