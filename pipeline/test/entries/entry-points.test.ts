import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { PIPES } from '../../src/facts.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Bundles `contents`, a module that imports the package by name as the console and the handlers do. */
async function bundle(
  contents: string,
  platform: 'browser' | 'node' = 'browser',
): Promise<{ text: string; inputs: string[] }> {
  const result = await build({
    stdin: { contents, resolveDir: here, loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    absWorkingDir: here,
    minify: true,
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.values((result.metafile as Metafile).outputs)[0];
  const inputs = Object.entries(output?.inputs ?? {})
    .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
    .map(([path]) => resolve(here, path));
  return { text: result.outputFiles[0]?.text ?? '', inputs };
}

const inPackage = (inputs: string[], folder: string) =>
  inputs.filter((path) => path.includes(`pipeline/src/${folder}`));
const fromZod = (inputs: string[]) => inputs.filter((path) => path.includes('node_modules/zod/'));

describe('entry points', () => {
  it('facts load no pattern engine, no zod and no Node.js built-in (the console bundles them for the browser)', async () => {
    // platform 'browser' fails the build on a Node.js built-in such as node:crypto.
    const { inputs } = await bundle(`export * from '@orderflow/pipeline/facts';`);
    expect(inputs.some((path) => path.includes('pipeline/src/pipes/definitions.ts'))).toBe(true);
    expect(inPackage(inputs, 'patterns/')).toEqual([]);
    expect(inPackage(inputs, 'pipes/pipe-filter.ts')).toEqual([]);
    expect(fromZod(inputs)).toEqual([]);
  });

  it('the engine loads no zod', async () => {
    const { inputs } = await bundle(`export * from '@orderflow/pipeline/engine';`);
    expect(inPackage(inputs, 'patterns/compile.ts')).toHaveLength(1);
    expect(fromZod(inputs)).toEqual([]);
  });

  it('the schemas load no pattern engine', async () => {
    const { inputs } = await bundle(`export * from '@orderflow/pipeline/schemas';`, 'node');
    expect(inPackage(inputs, 'patterns/')).toEqual([]);
    expect(fromZod(inputs).length).toBeGreaterThan(0);
  });

  it('sideEffects lets a bundler drop the schemas a consumer does not use, and keeps the zod locale', async () => {
    const { text, inputs } = await bundle(
      `import { parseOrder } from '@orderflow/pipeline/schemas'; console.log(parseOrder({}));`,
      'node',
    );
    expect(inPackage(inputs, 'orders/order.ts')).toHaveLength(1);
    expect(inPackage(inputs, 'zod-locale.ts')).toHaveLength(1);
    // The DLQ message and runtime.json schemas are built by zod calls at module load, which a bundler must keep
    // unless the package says its modules have no side effects.
    expect(inPackage(inputs, 'dlq/')).toEqual([]);
    expect(inPackage(inputs, 'runtime/')).toEqual([]);
    expect(text).not.toContain('must be a pipe ARN');
  });

  it('importing the pipe definitions derives no filter: pipeFilterOf does, on first use', async () => {
    expect(Object.keys(PIPES.standard)).not.toContain('pipeFilter');
    const { pipeFilterOf } = await import('../../src/engine.ts');
    expect(pipeFilterOf('standard')).toBe(pipeFilterOf('standard'));
  });
});
