import { defineConfig } from 'vitest/config';

export default defineConfig({
  // dependency-cruiser over the whole repository takes 10-40 s on a shared 2-core machine.
  test: { include: ['test/**/*.test.ts'], testTimeout: 180_000 },
});
