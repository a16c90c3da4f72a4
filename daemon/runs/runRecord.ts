/**
 * The run record (S4.1): the `runDetail` shape of shared/schemas.ts, persisted as is, and the
 * pure rules about it (which statuses are active, which status a cancel ends in).
 */
import type { ResultOf } from '../../shared/defineMethod.js';
import type { RunGet, Status } from '../../shared/methods/index.js';
import type { CancelReason, RunStatus } from '../../shared/runModel.js';
import { FINAL_STATUSES } from '../../shared/runModel.js';

/** A run in full, as persisted in `<stateDir>/runs/<id>.json` and returned by run.get. */
export type RunRecord = ResultOf<typeof RunGet>['run'];

/** A run as `status` shows it. */
export type RunSummary = NonNullable<ResultOf<typeof Status>['run']>;

/** True while a run can still change: running or cancelling. */
export function isActive(run: RunRecord): boolean {
  return !FINAL_STATUSES.includes(run.status);
}

/** The status a cancel ends in (S4.4): error → failed, shutdown → interrupted, else cancelled. */
export function finalStatusFor(reason: CancelReason | string): RunStatus {
  if (reason === 'error') return 'failed';
  if (reason === 'shutdown') return 'interrupted';
  return 'cancelled';
}

/** The summary fields of a run, for `status` (S7). */
export function toSummary(run: RunRecord): RunSummary {
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    phase: run.phase,
    phases: [...run.phases],
    checkpoints: run.checkpoints,
    steps: run.steps,
    parent: run.parent,
    startedAt: run.startedAt,
    deadline: run.deadline,
    unsafe: run.unsafe,
  };
}

/** "k/n" position of the current phase (0 before the first phase). */
export function phasePosition(run: RunRecord): { index: number; total: number } {
  const index = run.phase === null ? 0 : run.phases.indexOf(run.phase) + 1;
  return { index, total: run.phases.length };
}

/** The command that resumes a run (S5.7, S6). */
export function resumeCommand(runId: string): string {
  return `shadowctl resume --run ${runId}`;
}
