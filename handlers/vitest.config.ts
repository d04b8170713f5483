import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Integration tests share one DynamoDB Local (a JVM) per file; files run one at a time on the shared 2-core machine.
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000, fileParallelism: false },
});
