import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own DynamoDB Local; two cores are shared, so files run one at a time.
    fileParallelism: false,
  },
});
