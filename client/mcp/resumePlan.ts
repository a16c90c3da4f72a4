/**
 * The resume plan of a run (S6.3), computed from its run.get detail: which phases are done,
 * which remain, where a resume would pick up and how far the run got. Pure, so it is unit-tested
 * without a daemon.
 */
import type { ResultOf } from '../../shared/defineMethod.js';
import type { RunGet } from '../../shared/methods/runGet.js';

/** A run as run.get returns it. */
export type RunDetail = ResultOf<typeof RunGet>['run'];

/** What resuming a run would do (S6.3). */
export interface ResumePlan {
  /** The run id. */
  run: string;
  /** The run's name. */
  name: string;
  /** Its status (cancelled, interrupted, running, ...). */
  status: RunDetail['status'];
  /** Why it ended (a cancel reason), or null. */
  reason: string | null;
  /** Whether the daemon considers it resumable. */
  resumable: boolean;
  /** The checkpoint a resume continues from: the last one of the run, else its base. */
  checkpoint: string;
  /** The phase the run was in when it stopped, or null before the first phase. */
  phase: string | null;
  /** Phases finished (the run moved past them, or the run completed). */
  completed: string[];
  /** Phases still to do, the interrupted one first. */
  remaining: string[];
  /** The phase a resume starts in, or null when nothing remains (or the run has no phases). */
  next: string | null;
  /** Names of the steps recorded as completed, in order. */
  completedSteps: string[];
  /** How far the run got, in the shape run.resumable uses (S6.1). */
  progress: ResumeProgress;
}

/** Phases and steps done, and a whole percentage of phases (100 for a completed run). */
export interface ResumeProgress {
  /** Phases done over phases declared. */
  phases: { completed: number; total: number };
  /** Steps done; their total is not declared ahead, so null. */
  steps: { completed: number; total: null };
  /** Completed phases over all phases, as a whole percentage. */
  percent: number;
}

/** Computes the resume plan of a run from its detail. */
export function resumePlan(run: RunDetail): ResumePlan {
  const total = run.phases.length;
  // The current phase is not done: its phase-end checkpoint is only taken when the next phase starts.
  let done: number;
  if (run.status === 'completed') done = total;
  else if (run.phase === null) done = 0;
  else done = Math.max(0, run.phases.indexOf(run.phase));
  const completed = run.phases.slice(0, done);
  const remaining = run.phases.slice(done);
  const percent = total > 0 ? Math.round((100 * done) / total) : run.status === 'completed' ? 100 : 0;
  return {
    run: run.id,
    name: run.name,
    status: run.status,
    reason: run.reason,
    resumable: run.resumable,
    checkpoint: run.lastCheckpoint ?? run.base,
    phase: run.phase,
    completed,
    remaining,
    next: remaining[0] ?? null,
    completedSteps: run.completedSteps.map((s) => s.name),
    progress: { phases: { completed: done, total }, steps: { completed: run.completedSteps.length, total: null }, percent },
  };
}
