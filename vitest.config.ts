import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites share one PostgreSQL and one MariaDB server; two workers match the
    // two cores of the CI machine without starving the servers.
    maxWorkers: 2,
  },
});
