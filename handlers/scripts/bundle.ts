import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { type BundleId, HANDLER_ENTRIES, LAMBDA_BUNDLING } from '../src/bundling.ts';

export const DIST_DIR = fileURLToPath(new URL('../dist', import.meta.url));

export interface BundleOutput {
  readonly functionId: BundleId;
  readonly file: string;
  readonly bytes: number;
  /** Bytes of the output file per source package, largest first (from esbuild's metafile). */
  readonly composition: readonly { readonly group: string; readonly bytes: number }[];
}

/** Bundles every entry (the processors, the dead-letter archiver) with the stack's esbuild options into `dist/<id>/index.mjs`. */
export async function bundleProcessors(outDir = DIST_DIR): Promise<BundleOutput[]> {
  const outputs: BundleOutput[] = [];
  for (const [functionId, entry] of Object.entries(HANDLER_ENTRIES) as [BundleId, string][]) {
    const dir = join(outDir, functionId);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const file = join(dir, LAMBDA_BUNDLING.outputFile);
    const { metafile } = await build({
      entryPoints: [entry],
      outfile: file,
      bundle: true,
      platform: LAMBDA_BUNDLING.platform,
      format: LAMBDA_BUNDLING.format,
      target: LAMBDA_BUNDLING.target,
      minify: LAMBDA_BUNDLING.minify,
      sourcemap: LAMBDA_BUNDLING.sourcemap,
      external: [...LAMBDA_BUNDLING.external],
      mainFields: [...LAMBDA_BUNDLING.mainFields],
      banner: { js: LAMBDA_BUNDLING.banner },
      legalComments: LAMBDA_BUNDLING.legalComments,
      metafile: true,
      logLevel: 'warning',
    });
    outputs.push({ functionId, file, bytes: statSync(file).size, composition: composition(metafile) });
  }
  return outputs;
}

/**
 * Groups the output's bytes by npm package (`zod`, `aws-xray-sdk-core`, `@aws-lambda-powertools/logger`, ...) and,
 * for this repository's code, by workspace folder (`pipeline/patterns`, `handlers`), so a size change can be traced
 * to its source.
 */
function composition(metafile: Metafile): BundleOutput['composition'] {
  const output = Object.values(metafile.outputs)[0];
  const groups = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const group = groupOf(path);
    groups.set(group, (groups.get(group) ?? 0) + bytesInOutput);
  }
  return [...groups]
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([group, bytes]) => ({ group, bytes }));
}

function groupOf(path: string): string {
  // The last node_modules segment names the package that owns the file, also for nested copies.
  const inPackage = path.match(/.*node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (inPackage?.[1]) return inPackage[1];
  const pipeline = path.match(/pipeline\/src\/([^/.]+)/);
  if (pipeline?.[1]) return `pipeline/${pipeline[1]}`;
  return path.includes('handlers/') || !path.startsWith('..') ? 'handlers' : path;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const output of await bundleProcessors()) {
    console.log(`${output.functionId}: ${output.file} ${(output.bytes / 1024).toFixed(1)} KB`);
    for (const { group, bytes } of output.composition)
      console.log(`  ${(bytes / 1024).toFixed(1).padStart(6)} KB  ${group}`);
  }
}
