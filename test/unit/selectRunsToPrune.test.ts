import { describe, expect, it } from 'vitest';
import { selectRunsToPrune } from '../../daemon/gc/selectRunsToPrune.js';
import type { RunRecord } from '../../daemon/runs/runRecord.js';

const DAY = 24 * 3600 * 1000;
const NOW = 1_800_000_000_000;

/** A run record with just what retention reads. */
function run(id: string, ageDays: number, extra: Partial<RunRecord> = {}): RunRecord {
  const startedAt = NOW - ageDays * DAY;
  return { id, status: 'completed', startedAt, endedAt: startedAt + 1000, resumable: false, ...extra } as RunRecord;
}

const ids = (runs: RunRecord[]) => runs.map((r) => r.id).sort();

describe('selectRunsToPrune (S1.7)', () => {
  it('S1.7 keeps the newest keepRuns finished runs and those within keepDays', () => {
    const runs = [run('a', 40), run('b', 30), run('c', 20), run('d', 2), run('e', 1)];
    expect(ids(selectRunsToPrune(runs, { keepRuns: 2, keepDays: 0, maxAutoSnapshots: 1 }, NOW).prune)).toEqual(['a', 'b', 'c']);
    expect(ids(selectRunsToPrune(runs, { keepRuns: 1, keepDays: 25, maxAutoSnapshots: 1 }, NOW).prune)).toEqual(['a', 'b']);
    expect(selectRunsToPrune(runs, { keepRuns: 10, keepDays: 0, maxAutoSnapshots: 1 }, NOW)).toEqual({ prune: [], kept: 5 });
  });

  it('S1.7 never prunes an active run, nor the newest resumable one', () => {
    const runs = [
      run('old-running', 90, { status: 'running', endedAt: null }),
      run('old-cancelling', 80, { status: 'cancelling', endedAt: null }),
      run('resumable-older', 70, { status: 'interrupted', resumable: true }),
      run('resumable-newest', 60, { status: 'cancelled', resumable: true }),
      run('done', 1),
    ];
    const { prune, kept } = selectRunsToPrune(runs, { keepRuns: 1, keepDays: 0, maxAutoSnapshots: 1 }, NOW);
    expect(ids(prune)).toEqual(['resumable-older']);
    expect(kept).toBe(4);
  });
});
