/**
 * Which runs retention prunes (S1.7), as a pure function of the records and the policy. Kept:
 * every active run (running, cancelling), the newest resumable one (what `resume` would pick),
 * the newest `keepRuns` finished runs, and every run that ended less than `keepDays` days ago.
 * Everything else goes. Newest is by start time, then id (ids sort by time too).
 */
import type { ShadowConfig } from '../../shared/config.js';
import type { RunRecord } from '../runs/runRecord.js';
import { isActive } from '../runs/runRecord.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The runs to prune and the number kept. */
export interface RunSelection {
  prune: RunRecord[];
  kept: number;
}

/** Splits `runs` into pruned and kept by the retention policy. */
export function selectRunsToPrune(runs: RunRecord[], retention: ShadowConfig['retention'], now = Date.now()): RunSelection {
  const newestFirst = [...runs].sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1));
  const newestResumable = newestFirst.find((r) => !isActive(r) && r.resumable && r.status !== 'completed');
  const prune: RunRecord[] = [];
  let finished = 0;
  for (const run of newestFirst) {
    if (isActive(run)) continue;
    finished++;
    const age = now - (run.endedAt ?? run.startedAt);
    const keep = run === newestResumable || finished <= retention.keepRuns || age < retention.keepDays * DAY_MS;
    if (!keep) prune.push(run);
  }
  return { prune, kept: runs.length - prune.length };
}
