import { defineConfig } from 'vitest/config';

/**
 * Tests that bound the daemon's latency under a storm it makes itself (S2.2): run after the rest,
 * one file at a time. On 2 cores, a neighbouring test file's daemon and writers starve the
 * `shadowctl status` processes these tests start (CLI round trips of 2.2 s with the daemon's own
 * answers under 0.2 s), and that measures the neighbour, not Shadow.
 */
const ALONE = ['test/integration/eventStorm.test.ts'];

export default defineConfig({
  test: {
    // Integration tests run the built daemon and CLI (Node 20 cannot run .ts): build once first.
    globalSetup: ['test/globalSetup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: ALONE, maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
