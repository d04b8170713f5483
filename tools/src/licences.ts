/**
 * Licence check of the installed tree, run by `npm run lint`. Orderflow is Apache-2.0 (LICENSE); what it ships must be
 * compatible with that:
 *
 * - Runtime (production) dependencies: everything reachable from the `dependencies` (and optional and peer
 *   dependencies) of the root and of every workspace, through the packages installed in node_modules, resolved as
 *   Node resolves them. Each must be under a permissive licence, or under a weak copyleft one (MPL, EPL, CDDL) or an
 *   unknown one only when REVIEWED below with the reason. Strong copyleft (GPL, AGPL, LGPL, SSPL, EUPL, ...) fails
 *   always: no review can make it fit. An SPDX `OR` passes when one branch does; `AND` needs every part.
 * - Development-only packages (reachable only through devDependencies: test tools, the CDK CLI, AWS's IAM simulator
 *   used for differential tests of local's evaluator) are listed, not judged: they are never distributed.
 * - Every package.json of the repository (the root and each workspace) says "license": "Apache-2.0".
 *
 * license-checker-rseidelsohn cannot separate these sets here: with npm workspaces every package is hoisted to the
 * root, whose own dependencies are empty, so `--production` at the root lists nothing and `--development` everything.
 *
 *   npx tsx tools/src/licences.ts [--write] [--root DIR]
 *
 * prints both lists' summary, checks that docs/THIRD-PARTY-LICENSES.md is what it would write (`--write` rewrites
 * it), and exits 1 naming each problem.
 */
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const PROJECT_LICENCE = 'Apache-2.0';
export const NOTICE_FILE = 'docs/THIRD-PARTY-LICENSES.md';

/** Permissive licences: compatible with distributing Orderflow under Apache-2.0 (attribution at most). */
export const PERMISSIVE = new Set([
  '0BSD',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'CC-BY-3.0',
  'CC-BY-4.0',
  'CC0-1.0',
  'ISC',
  'MIT',
  'MIT-0',
  'Python-2.0',
  'Unlicense',
  'WTFPL',
  'Zlib',
]);

/** Strong copyleft (and non-commercial/no-derivatives) licences: never compatible, whatever a review says. */
const STRONG_COPYLEFT = /^(A?GPL|LGPL|SSPL|EUPL|OSL|RPL|CPAL|Sleepycat|CC-BY-(NC|ND|SA))/i;
/** Weak (file-level) copyleft: usable unmodified, but each use is reviewed (REVIEWED) before it ships. */
const WEAK_COPYLEFT = /^(MPL|EPL|CDDL)/i;

export interface Review {
  /** The package name. */
  readonly name: string;
  /** The licence it declares, exactly as reviewed: a change of licence needs a new review. */
  readonly licence: string;
  readonly reason: string;
}

/**
 * Runtime dependencies whose licence is weak copyleft or not recognised, reviewed by a person, with the reason.
 * Empty today: every runtime dependency is under a permissive licence (or offers one: `case` is MIT OR GPL-3.0).
 */
export const REVIEWED: readonly Review[] = [];

export type Verdict = 'permissive' | 'weak-copyleft' | 'strong-copyleft' | 'unknown';

export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  /** The declared licence as an SPDX expression (legacy `licenses` arrays joined with OR), or `UNKNOWN`. */
  readonly licence: string;
  /** Repository-relative directory, with `/`. */
  readonly path: string;
  /** For runtime dependencies: the workspaces (or `(root)`) whose dependencies reach it. */
  readonly usedBy: readonly string[];
}

export interface LicenceReport {
  readonly production: readonly InstalledPackage[];
  readonly development: readonly InstalledPackage[];
  readonly problems: readonly string[];
}

interface Manifest {
  name?: string;
  version?: string;
  license?: unknown;
  licenses?: unknown;
  workspaces?: string[] | { packages?: string[] };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

function readManifest(dir: string): Manifest {
  const file = join(dir, 'package.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (error: unknown) {
    throw new Error(`licences: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** The declared licence as one SPDX expression. */
export function declaredLicence(manifest: Manifest): string {
  const name = (value: unknown): string | undefined =>
    typeof value === 'string'
      ? value.trim()
      : typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
        ? ((value as { type: string }).type.trim() as string)
        : undefined;
  const single = name(manifest.license);
  if (single) return single;
  if (Array.isArray(manifest.licenses)) {
    const names = manifest.licenses.map(name).filter((value): value is string => Boolean(value));
    if (names.length === 1) return names[0] as string;
    if (names.length > 1) return `(${names.join(' OR ')})`;
  }
  return 'UNKNOWN';
}

function verdictOfId(id: string): Verdict {
  const base = id.replace(/\+$/, '');
  if (PERMISSIVE.has(base)) return 'permissive';
  if (STRONG_COPYLEFT.test(base)) return 'strong-copyleft';
  if (WEAK_COPYLEFT.test(base)) return 'weak-copyleft';
  return 'unknown';
}

const RANK: Record<Verdict, number> = { permissive: 0, 'weak-copyleft': 1, unknown: 2, 'strong-copyleft': 3 };

/**
 * The verdict on an SPDX expression: `OR` takes the best branch (the licensee chooses), `AND` the worst part, `WITH`
 * an exception judges the licence it amends. Anything that does not parse is `unknown`.
 */
export function judge(expression: string): Verdict {
  const tokens = expression.match(/\(|\)|[^\s()]+/g) ?? [];
  let at = 0;
  const fail = (): never => {
    throw new SyntaxError(expression);
  };
  const primary = (): Verdict => {
    const token = tokens[at++];
    if (token === undefined) return fail();
    if (token === '(') {
      const inner = or();
      if (tokens[at++] !== ')') fail();
      return inner;
    }
    if (/^(AND|OR|WITH|\))$/i.test(token)) return fail();
    const verdict = verdictOfId(token);
    if (tokens[at]?.toUpperCase() === 'WITH') at += 2;
    return verdict;
  };
  const and = (): Verdict => {
    let verdict = primary();
    while (tokens[at]?.toUpperCase() === 'AND') {
      at++;
      const next = primary();
      if (RANK[next] > RANK[verdict]) verdict = next;
    }
    return verdict;
  };
  const or = (): Verdict => {
    let verdict = and();
    while (tokens[at]?.toUpperCase() === 'OR') {
      at++;
      const next = and();
      if (RANK[next] < RANK[verdict]) verdict = next;
    }
    return verdict;
  };
  try {
    const verdict = or();
    return at === tokens.length ? verdict : 'unknown';
  } catch {
    return 'unknown';
  }
}

function workspaceDirs(root: string, manifest: Manifest): string[] {
  const patterns = Array.isArray(manifest.workspaces) ? manifest.workspaces : (manifest.workspaces?.packages ?? []);
  for (const pattern of patterns)
    if (/[*?[]/.test(pattern))
      throw new Error(`licences: workspace pattern ${pattern} in ${join(root, 'package.json')}: list each workspace`);
  return patterns.map((pattern) => join(root, pattern));
}

/** Node's resolution of package `name` required from directory `from`: the nearest node_modules up to `root`. */
function resolvePackage(root: string, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dir === root || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

/** Collects the runtime and development-only packages installed under `root`, and what is wrong with them. */
export function collectLicences(rootDir: string, reviewed: readonly Review[] = REVIEWED): LicenceReport {
  const root = realpathSync(rootDir);
  const rootManifest = readManifest(root);
  const workspaces = workspaceDirs(root, rootManifest).map((dir) => realpathSync(dir));
  const own = new Set([root, ...workspaces]);
  const label = (dir: string) => (dir === root ? '(root)' : relative(root, dir).split(sep).join('/'));
  const problems: string[] = [];

  for (const dir of own) {
    const manifest = readManifest(dir);
    if (manifest.license !== PROJECT_LICENCE)
      problems.push(
        `${label(dir)}/package.json: "license" must be "${PROJECT_LICENCE}" (the LICENSE file), got ${JSON.stringify(manifest.license ?? null)}`,
      );
  }
  if (!existsSync(join(root, 'LICENSE'))) problems.push(`LICENSE: missing (the ${PROJECT_LICENCE} text)`);

  /** Walks the installed tree from `starts`: package directory → the own packages (workspaces) that reach it. */
  const walk = (starts: { from: string; names: Record<string, boolean>; by: string }[]) => {
    const reached = new Map<string, Set<string>>();
    const queue: { dir: string; by: string }[] = [];
    const visit = (from: string, names: Record<string, boolean>, by: string, requiredBy: string) => {
      for (const [name, optional] of Object.entries(names)) {
        const dir = resolvePackage(root, from, name);
        if (!dir) {
          if (!optional) problems.push(`${requiredBy} depends on ${name}, which is not installed (run npm ci)`);
          continue;
        }
        if (own.has(dir)) continue; // A workspace: its own dependencies are walked from it.
        const users = reached.get(dir) ?? new Set<string>();
        if (!users.has(by)) {
          users.add(by);
          reached.set(dir, users);
          queue.push({ dir, by });
        }
      }
    };
    for (const start of starts) visit(start.from, start.names, start.by, start.by);
    while (queue.length > 0) {
      const { dir, by } = queue.shift() as { dir: string; by: string };
      visit(dir, runtimeNames(readManifest(dir)), by, label(dir));
    }
    return reached;
  };

  const production = walk(
    [...own].map((dir) => ({ from: dir, names: runtimeNames(readManifest(dir)), by: label(dir) })),
  );
  const development = walk(
    [...own].map((dir) => ({
      from: dir,
      names: Object.fromEntries(Object.keys(readManifest(dir).devDependencies ?? {}).map((name) => [name, false])),
      by: label(dir),
    })),
  );

  const describe = (dir: string, users: Set<string>): InstalledPackage => {
    const manifest = readManifest(dir);
    return {
      name: manifest.name ?? label(dir),
      version: manifest.version ?? '?',
      licence: declaredLicence(manifest),
      path: label(dir),
      usedBy: [...users].sort(),
    };
  };
  const byName = (a: InstalledPackage, b: InstalledPackage) =>
    a.name.localeCompare(b.name) || a.version.localeCompare(b.version) || a.path.localeCompare(b.path);
  const productionList = [...production].map(([dir, users]) => describe(dir, users)).sort(byName);
  const developmentList = [...development]
    .filter(([dir]) => !production.has(dir))
    .map(([dir, users]) => describe(dir, users))
    .sort(byName);

  for (const pkg of productionList) {
    const verdict = judge(pkg.licence);
    if (verdict === 'permissive') continue;
    const where = `${pkg.name}@${pkg.version} (${pkg.path}; a runtime dependency of ${pkg.usedBy.join(', ')})`;
    if (verdict === 'strong-copyleft') {
      problems.push(`${where} is under ${pkg.licence}, a copyleft licence incompatible with ${PROJECT_LICENCE}`);
      continue;
    }
    const review = reviewed.find((entry) => entry.name === pkg.name);
    if (review?.licence === pkg.licence && review.reason.trim() !== '') continue;
    const why =
      verdict === 'weak-copyleft' ? 'weak copyleft: usable unmodified, after a review' : 'not a licence known here';
    problems.push(
      `${where} is under ${pkg.licence} (${why}); review it and add it to REVIEWED in tools/src/licences.ts with the reason` +
        (review ? ` (the review on file is for ${JSON.stringify(review.licence)})` : ''),
    );
  }
  for (const review of reviewed)
    if (!productionList.some((pkg) => pkg.name === review.name))
      problems.push(`REVIEWED lists ${review.name}, which is no runtime dependency: remove it`);
  return { production: productionList, development: developmentList, problems };
}

function runtimeNames(manifest: Manifest): Record<string, boolean> {
  const names: Record<string, boolean> = {};
  for (const name of Object.keys(manifest.dependencies ?? {})) names[name] = false;
  for (const name of Object.keys(manifest.optionalDependencies ?? {})) names[name] = true;
  for (const name of Object.keys(manifest.peerDependencies ?? {}))
    names[name] ??= manifest.peerDependenciesMeta?.[name]?.optional === true;
  return names;
}

function summary(list: readonly InstalledPackage[]): string {
  const counts = new Map<string, number>();
  for (const pkg of list) counts.set(pkg.licence, (counts.get(pkg.licence) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([licence, count]) => `${licence} ${count}`)
    .join(', ');
}

/** docs/THIRD-PARTY-LICENSES.md: both lists, generated. */
export function noticeText(report: LicenceReport): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  // Columns padded to their widest cell, as Biome formats Markdown tables.
  const table = (list: readonly InstalledPackage[], usedBy: boolean) => {
    const header = usedBy ? ['package', 'version', 'licence', 'used by'] : ['package', 'version', 'licence'];
    const rows = list.map((pkg) =>
      [pkg.name, pkg.version, pkg.licence, ...(usedBy ? [pkg.usedBy.join(', ')] : [])].map(cell),
    );
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
    );
    const line = (cells: readonly string[]) =>
      `| ${cells.map((text, column) => text.padEnd(widths[column] ?? 0)).join(' | ')} |`;
    return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
  };
  return [
    '# Third-party licences',
    '',
    `Generated by \`npm run licences:write -w tools\` from the installed tree; \`npm run lint\` fails when it is out of date.`,
    `Orderflow is ${PROJECT_LICENCE} (LICENSE). Policy: docs/ARCHITECTURE.md, "Boundaries and licences".`,
    '',
    `## Runtime dependencies (${report.production.length})`,
    '',
    'What the workspaces need at run time (their `dependencies`, transitively); each is under a licence compatible',
    `with ${PROJECT_LICENCE}. ${summary(report.production)}.`,
    '',
    ...table(report.production, true),
    '',
    `## Development-only packages (${report.development.length})`,
    '',
    'Reached only through `devDependencies` (tests, builds, linters, the CDK CLI); never distributed, listed without',
    `judgement. ${summary(report.development)}.`,
    '',
    ...table(report.development, false),
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const rootAt = args.indexOf('--root');
  const root = resolve(rootAt >= 0 ? (args[rootAt + 1] ?? '.') : fileURLToPath(new URL('../..', import.meta.url)));
  const report = collectLicences(root);
  const problems = [...report.problems];
  const notice = join(root, NOTICE_FILE);
  const text = noticeText(report);
  if (args.includes('--write')) {
    writeFileSync(notice, text);
    console.log(`licences: wrote ${NOTICE_FILE}`);
  } else if (!existsSync(notice) || readFileSync(notice, 'utf8') !== text) {
    problems.push(`${NOTICE_FILE} is not what the installed tree gives: run \`npm run licences:write -w tools\``);
  }
  console.log(`licences: ${report.production.length} runtime dependencies (${summary(report.production)})`);
  console.log(
    `licences: ${report.development.length} development-only packages, not distributed (${summary(report.development)})`,
  );
  for (const problem of problems) console.error(`licences: ${problem}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
