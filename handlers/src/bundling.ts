import { fileURLToPath } from 'node:url';
import type { PipeDefinition } from '@orderflow/pipeline/facts';

/**
 * Entry file of each bundle: the processors by their function's logical id (`PIPES[k].functionId`), and the
 * dead-letter archiver, one bundle that the stack deploys once per pipe (`PIPES[k].archiverFunctionId`). Each entry
 * is bundled on its own, so the archiver's code and dependencies never enter a processor's bundle.
 */
export const HANDLER_ENTRIES = {
  OrderProcessorFunction: fileURLToPath(new URL('./functions/order-processor.ts', import.meta.url)),
  PremiumOrderProcessorFunction: fileURLToPath(new URL('./functions/premium-order-processor.ts', import.meta.url)),
  DeadLetterArchiverFunction: fileURLToPath(new URL('./functions/dead-letter-archiver.ts', import.meta.url)),
} as const satisfies Record<PipeDefinition['functionId'] | 'DeadLetterArchiverFunction', string>;

export type BundleId = keyof typeof HANDLER_ENTRIES;
export type ProcessorFunctionId = PipeDefinition['functionId'];

/**
 * The esbuild options of every bundle, used by the stack's `NodejsFunction` and by `npm run build -w handlers`,
 * so what is tested locally is what is deployed. The output is `index.mjs` with handler `index.handler`.
 * - ESM for Node.js 22 (the Lambda runtime), which this machine's Node 20 also runs.
 * - `@aws-sdk/*` stays external: the Lambda Node.js 22 runtime provides AWS SDK v3 (Lambda developer guide,
 *   "Building Lambda functions with Node.js", runtime-included SDK); locally the bundle sits inside the repo
 *   (`handlers/dist`, `stack/cdk.out/asset.*`), so the bare imports resolve to the repo's node_modules.
 * - The banner gives CommonJS dependencies bundled into ESM (aws-xray-sdk-core) a working `require`.
 * - `legalComments: 'none'`: esbuild otherwise gathers the dependencies' license comments (`/*!` ones) at the end of
 *   the bundle (0.8 KB here); the licenses stay with the packages in the repository.
 * Measured composition per package: `npm run bench -w handlers` (`bundles[].composition`), docs/ARCHITECTURE.md.
 */
export const LAMBDA_BUNDLING = {
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  external: ['@aws-sdk/*'],
  mainFields: ['module', 'main'],
  banner:
    "import { createRequire as __orderflowCreateRequire } from 'node:module'; const require = __orderflowCreateRequire(import.meta.url);",
  outputFile: 'index.mjs',
  handler: 'index.handler',
} as const;
