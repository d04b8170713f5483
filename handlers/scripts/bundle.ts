import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { HANDLER_ENTRIES, LAMBDA_BUNDLING, type ProcessorFunctionId } from '../src/bundling.ts';

export const DIST_DIR = fileURLToPath(new URL('../dist', import.meta.url));

export interface BundleOutput {
  readonly functionId: ProcessorFunctionId;
  readonly file: string;
  readonly bytes: number;
}

/** Bundles both processors with the stack's esbuild options into `dist/<FunctionId>/index.mjs`. */
export async function bundleProcessors(outDir = DIST_DIR): Promise<BundleOutput[]> {
  const outputs: BundleOutput[] = [];
  for (const [functionId, entry] of Object.entries(HANDLER_ENTRIES) as [ProcessorFunctionId, string][]) {
    const dir = join(outDir, functionId);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const file = join(dir, LAMBDA_BUNDLING.outputFile);
    await build({
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
      logLevel: 'warning',
    });
    outputs.push({ functionId, file, bytes: statSync(file).size });
  }
  return outputs;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const output of await bundleProcessors()) {
    console.log(`${output.functionId}: ${output.file} ${(output.bytes / 1024).toFixed(1)} KB`);
  }
}
