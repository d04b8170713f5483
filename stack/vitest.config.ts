import { defineConfig } from 'vitest/config';

// One full synth (with esbuild bundling and cdk-nag) takes several seconds on two shared cores; test files share a
// synthesized template per file, and run one at a time so they do not starve each other.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000, fileParallelism: false },
});
