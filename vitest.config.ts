import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.browser.test.ts', 'node_modules/**'],
    environment: 'node',
    // A temporary XDG_STATE_HOME per test file: no test writes into the real state directory.
    setupFiles: ['test/setup/state-home.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // A worker kept alive by an open socket must not hang CI: give teardown a bound too.
    teardownTimeout: 10_000,
  },
});
