import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALLOWED, checkComputedImports, describeReport, findInSource } from '../src/computed-imports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/computed-imports', import.meta.url));
const ALLOW_LOADER = { 'src/allowed-loader.ts': 'a fixture: loads the file it is given' };

describe('computed module specifiers (tools/src/computed-imports.ts)', () => {
  it('are invisible to dependency-cruiser: why this check exists', () => {
    const run = spawnSync(
      join(ROOT, 'node_modules/.bin/depcruise'),
      ['--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json', 'src/dynamic-variable.ts'],
      { cwd: FIXTURE, encoding: 'utf8' },
    );
    const report = JSON.parse(run.stdout) as { modules: { source: string; dependencies: unknown[] }[] };
    expect(report.modules).toEqual([expect.objectContaining({ source: 'src/dynamic-variable.ts', dependencies: [] })]);
  });

  it('reports import(variable), a template with a substitution, require(variable) and createRequire calls', () => {
    const report = checkComputedImports(FIXTURE, ALLOW_LOADER);
    expect(report.violations.map((found) => `${found.file}:${found.line} ${found.call}`).sort()).toEqual([
      'src/create-require.ts:5 load(name)',
      'src/create-require.ts:6 createRequire(...)(name)',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal, reported as is
      'src/dynamic-template.ts:2 import(`./${which}.ts`)',
      'src/dynamic-variable.ts:2 import(name)',
      'src/require-variable.cjs:2 require(name)',
    ]);
    expect(report.allowed.map((found) => found.file)).toEqual(['src/allowed-loader.ts']);
    expect(report.staleAllowances).toEqual([]);
    const { ok, lines } = describeReport(report);
    expect(ok).toBe(false);
    expect(lines[0]).toMatch(
      /^src\/\S+:\d+:\d+ .+: a computed specifier hides this dependency from dependency-cruiser/,
    );
  });

  it('refuses a file loading through a variable unless allowed with a reason, and a stale allowance', () => {
    const unlisted = checkComputedImports(FIXTURE, {});
    expect(unlisted.violations.map((found) => found.file)).toContain('src/allowed-loader.ts');
    const stale = checkComputedImports(FIXTURE, { ...ALLOW_LOADER, 'src/literal.ts': 'it used to load a variable' });
    expect(stale.staleAllowances).toEqual(['src/literal.ts']);
    expect(describeReport(stale).lines).toContain(
      'src/literal.ts: allowed in tools/src/computed-imports.ts (ALLOWED) but has no computed specifier: remove it',
    );
    expect(() => checkComputedImports(FIXTURE, { 'src/allowed-loader.ts': ' ' })).toThrow(
      'computed-imports: the allowance for src/allowed-loader.ts gives no reason',
    );
  });

  it('accepts string literals, templates without substitutions and require.resolve', () => {
    expect(findInSource('a.ts', "await import('x'); await import(`y`); require('z'); require.resolve(name);")).toEqual(
      [],
    );
  });

  it('passes on the repository itself, every allowance used', () => {
    const report = checkComputedImports(ROOT);
    expect(report.violations).toEqual([]);
    expect(report.staleAllowances).toEqual([]);
    expect(new Set(report.allowed.map((found) => found.file))).toEqual(new Set(Object.keys(ALLOWED)));
  });
});
