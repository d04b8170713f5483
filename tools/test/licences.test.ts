import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { collectLicences, judge, NOTICE_FILE, noticeText, type Review } from '../src/licences.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const trees: string[] = [];
afterEach(() => {
  for (const tree of trees.splice(0)) rmSync(tree, { recursive: true, force: true });
});

type Manifest = Record<string, unknown>;

/**
 * A repository with one workspace (`app`) in a temporary folder: `installed` maps a node_modules path (relative to
 * the root) to the package.json installed there. The workspace is linked into node_modules as npm does.
 */
function tree(app: Manifest, installed: Record<string, Manifest>, rootManifest: Manifest = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'orderflow-licences-'));
  trees.push(root);
  const write = (path: string, manifest: Manifest) => {
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), JSON.stringify(manifest));
  };
  write('package.json', { name: 'fixture', license: 'Apache-2.0', workspaces: ['app'], ...rootManifest });
  write('app/package.json', { name: '@fixture/app', version: '1.0.0', license: 'Apache-2.0', ...app });
  writeFileSync(join(root, 'LICENSE'), 'Apache License 2.0\n');
  mkdirSync(join(root, 'node_modules/@fixture'), { recursive: true });
  symlinkSync('../../app', join(root, 'node_modules/@fixture/app'));
  for (const [path, manifest] of Object.entries(installed)) write(`${path}/package.json`, manifest);
  return root;
}

const pkg = (name: string, license: unknown, extra: Manifest = {}): Manifest => ({
  name,
  version: '1.0.0',
  license,
  ...extra,
});

describe('licence check (tools/src/licences.ts)', () => {
  it('fails on a copyleft runtime dependency, however deep, naming it and the workspace using it', () => {
    const root = tree(
      { dependencies: { web: '1' } },
      {
        'node_modules/web': pkg('web', 'MIT', { dependencies: { 'gpl-lib': '1' } }),
        'node_modules/gpl-lib': pkg('gpl-lib', 'AGPL-3.0-or-later'),
      },
    );
    const report = collectLicences(root);
    expect(report.production.map((p) => `${p.name} ${p.licence} ${p.usedBy.join()}`)).toEqual([
      'gpl-lib AGPL-3.0-or-later app',
      'web MIT app',
    ]);
    expect(report.problems).toEqual([
      'gpl-lib@1.0.0 (node_modules/gpl-lib; a runtime dependency of app) is under AGPL-3.0-or-later, a copyleft licence incompatible with Apache-2.0',
    ]);
  });

  it('lists a copyleft development-only package without failing: AGPL test tools are not distributed', () => {
    const root = tree(
      { dependencies: { web: '1' }, devDependencies: { 'iam-simulator': '1' } },
      {
        'node_modules/web': pkg('web', 'MIT'),
        'node_modules/iam-simulator': pkg('iam-simulator', 'AGPL-3.0-or-later', { dependencies: { web: '1' } }),
      },
    );
    const report = collectLicences(root);
    expect(report.problems).toEqual([]);
    expect(report.production.map((p) => p.name)).toEqual(['web']);
    expect(report.development.map((p) => `${p.name} ${p.licence}`)).toEqual(['iam-simulator AGPL-3.0-or-later']);
  });

  it('resolves as Node does: a nested copy is judged on its own licence', () => {
    const root = tree(
      { dependencies: { web: '1', lib: '2' } },
      {
        'node_modules/lib': pkg('lib', 'MIT', { version: '2.0.0' }),
        'node_modules/web': pkg('web', 'MIT', { dependencies: { lib: '1' } }),
        'node_modules/web/node_modules/lib': pkg('lib', 'GPL-2.0-only'),
      },
    );
    expect(collectLicences(root).problems).toEqual([
      'lib@1.0.0 (node_modules/web/node_modules/lib; a runtime dependency of app) is under GPL-2.0-only, a copyleft licence incompatible with Apache-2.0',
    ]);
  });

  it('fails on an unknown or weak copyleft licence until reviewed with the reason, never on reviewed GPL', () => {
    const root = tree(
      { dependencies: { custom: '1', mpl: '1', gpl: '1' } },
      {
        'node_modules/custom': pkg('custom', 'SEE LICENSE IN EULA.txt'),
        'node_modules/mpl': pkg('mpl', 'MPL-2.0'),
        'node_modules/gpl': pkg('gpl', 'GPL-3.0-only'),
      },
    );
    const unreviewed = collectLicences(root, []);
    expect(unreviewed.problems).toHaveLength(3);
    expect(unreviewed.problems[0]).toContain('custom@1.0.0');
    expect(unreviewed.problems[0]).toContain('(not a licence known here); review it and add it to REVIEWED');
    expect(unreviewed.problems[2]).toContain(
      'mpl@1.0.0 (node_modules/mpl; a runtime dependency of app) is under MPL-2.0',
    );
    const reviews: Review[] = [
      { name: 'custom', licence: 'SEE LICENSE IN EULA.txt', reason: 'the EULA allows redistribution' },
      { name: 'mpl', licence: 'MPL-2.0', reason: 'used unmodified from npm, never vendored' },
      { name: 'gpl', licence: 'GPL-3.0-only', reason: 'no review makes this fit' },
    ];
    expect(collectLicences(root, reviews).problems).toEqual([
      'gpl@1.0.0 (node_modules/gpl; a runtime dependency of app) is under GPL-3.0-only, a copyleft licence incompatible with Apache-2.0',
    ]);
    // A review is for one declared licence: a package that changes its licence is reviewed again.
    const changed = collectLicences(root, [{ name: 'mpl', licence: 'MPL-1.1', reason: 'old review' }]);
    expect(changed.problems.find((p) => p.startsWith('mpl@'))).toContain('(the review on file is for "MPL-1.1")');
  });

  it('asks for Apache-2.0 in every package.json and a LICENSE file, and names what is missing', () => {
    const root = tree({ license: 'MIT', dependencies: { gone: '1' } }, {});
    rmSync(join(root, 'LICENSE'));
    expect(collectLicences(root).problems).toEqual([
      'app/package.json: "license" must be "Apache-2.0" (the LICENSE file), got "MIT"',
      'LICENSE: missing (the Apache-2.0 text)',
      'app depends on gone, which is not installed (run npm ci)',
    ]);
  });

  it('judges SPDX expressions: OR takes the best branch, AND the worst part, WITH the licence', () => {
    expect(judge('MIT')).toBe('permissive');
    expect(judge('(MIT OR GPL-3.0-or-later)')).toBe('permissive');
    expect(judge('(MIT AND CC-BY-3.0)')).toBe('permissive');
    expect(judge('MIT AND LGPL-2.1-only')).toBe('strong-copyleft');
    expect(judge('(MPL-2.0 OR EPL-2.0)')).toBe('weak-copyleft');
    expect(judge('Apache-2.0 WITH LLVM-exception')).toBe('permissive');
    expect(judge('GPL-2.0+')).toBe('strong-copyleft');
    expect(judge('SSPL-1.0')).toBe('strong-copyleft');
    expect(judge('EUPL-1.2')).toBe('strong-copyleft');
    expect(judge('UNKNOWN')).toBe('unknown');
    expect(judge('(MIT OR')).toBe('unknown');
  });

  it('passes on the repository: the AGPL IAM simulator is development-only, and the notice is current', () => {
    const report = collectLicences(ROOT);
    expect(report.problems).toEqual([]);
    expect(report.production.some((p) => p.name === '@cloud-copilot/iam-simulate')).toBe(false);
    expect(report.development.find((p) => p.name === '@cloud-copilot/iam-simulate')?.licence).toMatch(/^AGPL/);
    expect(readFileSync(join(ROOT, NOTICE_FILE), 'utf8')).toBe(noticeText(report));
  });
});
