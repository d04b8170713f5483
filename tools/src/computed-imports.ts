/**
 * Refuses modules loaded through a computed specifier: `import(name)`, `require(name)`, or a `createRequire(...)`
 * function called with a variable. dependency-cruiser and the type checker see only string-literal specifiers, so a
 * computed one hides a dependency from the boundary rules (.dependency-cruiser.cjs) and from types. The few places
 * whose job is to load code named at run time are listed in ALLOWED with the reason; an entry that no longer matches
 * anything fails too, so the list cannot rot.
 *
 *   npx tsx tools/src/computed-imports.ts [root]    exit 0, or 1 with one line per computed specifier
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** Repository-relative path (with `/`) → why that file loads a module named at run time. */
export const ALLOWED: Readonly<Record<string, string>> = {
  'local/src/lambda/lambda-worker.mjs':
    "the Lambda emulator's worker loads the function's handler file named by the template, as Lambda does",
  'local/src/services/sqs.ts':
    "fauxqs's store module is not among its package exports, so it is loaded by its file URL next to the entry",
  'handlers/test/integration.test.ts':
    'each test container loads a freshly built bundle by file URL (with a query, so that it is a new module instance)',
  'handlers/test/dead-letter-archiver.test.ts':
    'the archiver is also tested as bundled: the freshly built bundle is loaded by file URL, as a cold start',
};

const SOURCE_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs']);
/** Directories never read: installed packages, build outputs, test artifacts and the lint's own fixtures. */
const SKIPPED_DIRECTORIES = new Set([
  'node_modules',
  '.git',
  'dist',
  'cdk.out',
  'coverage',
  '.turbo',
  '.orderflow',
  'artifacts',
  'test-results',
  'playwright-report',
]);
const SKIPPED_PATHS = new Set(['tools/test/fixtures']);

export interface ComputedImport {
  /** Repository-relative, with `/`. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** `import(...)`, `require(...)` or `createRequire(...)(...)` with the argument's text. */
  readonly call: string;
}

export interface ComputedImportReport {
  readonly filesChecked: number;
  /** Computed specifiers in files that are not allowed. */
  readonly violations: readonly ComputedImport[];
  /** Computed specifiers in allowed files. */
  readonly allowed: readonly ComputedImport[];
  /** Allowed files that have no computed specifier (any more), or do not exist. */
  readonly staleAllowances: readonly string[];
}

function sourceFiles(root: string, dir = root): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const relativePath = relative(root, path).split(sep).join('/');
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name) && !SKIPPED_PATHS.has(relativePath))
        files.push(...sourceFiles(root, path));
    } else if (entry.isFile() && SOURCE_EXTENSIONS.has(extname(entry.name)) && !entry.name.endsWith('.d.ts')) {
      files.push(path);
    }
  }
  return files;
}

const isLiteral = (node: ts.Node | undefined): boolean =>
  node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node));

const isCreateRequireCall = (node: ts.Node): boolean =>
  ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'createRequire';

/** The computed specifiers of one file's text. */
export function findInSource(fileName: string, text: string): Omit<ComputedImport, 'file'>[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  // Names bound to createRequire(...) in this file: `const require = createRequire(import.meta.url)`.
  const requireFunctions = new Set<string>(['require']);
  const found: Omit<ComputedImport, 'file'>[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer)
      if (isCreateRequireCall(node.initializer)) requireFunctions.add(node.name.text);
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const kind =
        callee.kind === ts.SyntaxKind.ImportKeyword
          ? 'import'
          : ts.isIdentifier(callee) && requireFunctions.has(callee.text)
            ? callee.text
            : isCreateRequireCall(callee)
              ? 'createRequire(...)'
              : undefined;
      if (kind !== undefined && !isLiteral(node.arguments[0])) {
        const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
        const argument = node.arguments[0]?.getText(source) ?? '';
        found.push({ line: line + 1, column: character + 1, call: `${kind}(${argument})` });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every computed specifier under `root`, sorted into violations and allowed ones. */
export function checkComputedImports(
  root: string,
  allowed: Readonly<Record<string, string>> = ALLOWED,
): ComputedImportReport {
  for (const [file, reason] of Object.entries(allowed))
    if (reason.trim() === '') throw new Error(`computed-imports: the allowance for ${file} gives no reason`);
  const files = sourceFiles(root);
  const violations: ComputedImport[] = [];
  const allowedFound: ComputedImport[] = [];
  for (const path of files) {
    const file = relative(root, path).split(sep).join('/');
    for (const found of findInSource(path, readFileSync(path, 'utf8'))) {
      (file in allowed ? allowedFound : violations).push({ file, ...found });
    }
  }
  const staleAllowances = Object.keys(allowed).filter((file) => !allowedFound.some((found) => found.file === file));
  return { filesChecked: files.length, violations, allowed: allowedFound, staleAllowances };
}

/** The report as lines for the terminal; `ok` is whether the lint passes. */
export function describeReport(report: ComputedImportReport): { ok: boolean; lines: string[] } {
  const lines = report.violations.map(
    (found) =>
      `${found.file}:${found.line}:${found.column} ${found.call}: a computed specifier hides this dependency from ` +
      'dependency-cruiser and the type checker; import a string literal, take the module as a parameter, or allow ' +
      'the file in tools/src/computed-imports.ts (ALLOWED) with the reason',
  );
  for (const file of report.staleAllowances)
    lines.push(`${file}: allowed in tools/src/computed-imports.ts (ALLOWED) but has no computed specifier: remove it`);
  const ok = lines.length === 0;
  lines.push(
    `computed-imports: ${report.filesChecked} files, ${report.violations.length} refused, ` +
      `${report.allowed.length} allowed (${[...new Set(report.allowed.map((found) => found.file))].join(', ')})`,
  );
  return { ok, lines };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('../..', import.meta.url)));
  const { ok, lines } = describeReport(checkComputedImports(root));
  for (const line of lines) (ok ? console.log : console.error)(line);
  process.exitCode = ok ? 0 : 1;
}
