import { defineConfig } from 'vitest/config';

/**
 * Tests that bound the daemon's latency (S2.2 storms, S5.9 cancel): run after the rest, one file
 * at a time. On 2 cores a neighbouring test file's daemon and writers starve them (`shadowctl
 * status` round trips of 2.2 s while the daemon's own answers took under 0.2 s), as other load
 * does (a cancel's daemon-side median of 502 ms beside two busy loops, about 160 ms alone). That
 * measures the neighbour, not Shadow.
 */
const ALONE = ['test/integration/eventStorm.test.ts', 'test/integration/cancelLatency.test.ts'];

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
