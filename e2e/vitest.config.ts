import { defineConfig } from 'vitest/config';

// Unit tests of the suites' own logic; the suites themselves run with `npm run test:e2e`.
export default defineConfig({ test: { include: ['chaos/**/*.test.ts', 'support/**/*.test.ts'] } });
