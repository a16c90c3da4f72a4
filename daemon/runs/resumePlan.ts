/**
 * The pure side of resuming (S6.1–S6.3): which runs can be resumed, how far they got, where a
 * resume brings the tree and which steps it keeps, and whether a run's record is complete
 * enough to resume at all.
 */
import type { ResultOf } from '../../shared/defineMethod.js';
import { ShadowError } from '../../shared/errors.js';
import type { Resume, ResumeList, ResumeMode } from '../../shared/methods/resume.js';
import { runRef } from '../../shared/runModel.js';
import type { RunRecord } from './runRecord.js';
import { isActive } from './runRecord.js';

/** A run's progress as run.resumable and run.resume answer it. */
export type ResumeProgress = ResultOf<typeof ResumeList>['runs'][number]['progress'];
/** The plan of a resume (S6.3). */
export type ResumePlan = NonNullable<ResultOf<typeof Resume>['plan']>;
/** One completed step of a run. */
export type CompletedStep = RunRecord['completedSteps'][number];

const OID = /^[0-9a-f]{40}$/;

/** True for a run a resume may pick up: ended without completing, marked resumable, top-level. */
export function isResumable(run: RunRecord): boolean {
  return run.resumable && !isActive(run) && run.status !== 'completed' && run.parent === null;
}

/** Progress from the phases done and steps kept; the percentage counts phases when declared (S6.1). */
export function progressOf(phases: string[], completedPhases: number, completedSteps: number): ResumeProgress {
  const total = phases.length;
  return {
    phases: { completed: completedPhases, total },
    steps: { completed: completedSteps, total: null },
    percent: total ? Math.round((100 * completedPhases) / total) : 0,
  };
}

/** A list entry of run.resumable. */
export function listEntry(run: RunRecord): ResultOf<typeof ResumeList>['runs'][number] {
  const done = run.phase === null ? 0 : Math.max(0, run.phases.indexOf(run.phase));
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    reason: run.reason,
    progress: progressOf(run.phases, done, run.completedSteps.length),
    phase: run.phase,
    phases: [...run.phases],
    completedSteps: run.completedSteps.map((s) => s.name),
    startedAt: run.startedAt,
    endedAt: run.endedAt,
  };
}

/** Resumable runs, newest first (by start, then by end, then id). */
export function resumableRuns(runs: RunRecord[]): RunRecord[] {
  return runs.filter(isResumable).sort((a, b) => b.startedAt - a.startedAt || (b.endedAt ?? 0) - (a.endedAt ?? 0) || (a.id < b.id ? 1 : -1));
}

/** Where a resume starts: the phase to run next, the phases done, the steps kept, and the phase before (whose end is the target). */
export interface ResumeStart {
  /** The phase the job runs next (null: no phases declared). */
  next: string | null;
  /** Phases already done. */
  completed: string[];
  /** Phases left, `next` first. */
  remaining: string[];
  /** Steps whose work the target checkpoint holds. */
  keptSteps: CompletedStep[];
  /** For from_phase: the phase whose phase-end checkpoint is the target (null: the base). */
  phaseEndOf: string | null;
}

/** Computes where a resume in `mode` starts; INVALID_PARAMS for an unknown or missing phase. */
export function resumeStart(run: RunRecord, mode: Exclude<ResumeMode, 'discard'>, phase: string | undefined): ResumeStart {
  const phases = run.phases;
  let index: number;
  if (mode === 'restart') index = 0;
  else if (mode === 'continue') index = run.phase === null ? 0 : Math.max(0, phases.indexOf(run.phase));
  else {
    index = phase === undefined ? -1 : phases.indexOf(phase);
    if (index < 0) {
      throw new ShadowError('INVALID_PARAMS', `Run ${run.id} (${run.name}) has no phase ${JSON.stringify(phase ?? null)} to start from: its phases are ${phases.join(', ') || '(none)'}`, {
        run: run.id,
        phase: phase ?? null,
        phases,
      });
    }
  }
  const completed = phases.slice(0, index);
  const keptSteps =
    mode === 'restart' ? [] : mode === 'continue' ? [...run.completedSteps] : run.completedSteps.filter((s) => (s.phase === null ? index > 0 : completed.includes(s.phase)));
  return { next: phases[index] ?? null, completed, remaining: phases.slice(index), keptSteps, phaseEndOf: mode === 'from_phase' && index > 0 ? phases[index - 1]! : null };
}

/** The plan answered to the client (S6.3). */
export function planOf(run: RunRecord, start: ResumeStart): ResumePlan {
  return { completed: start.completed, remaining: start.remaining, next: start.next, progress: progressOf(run.phases, start.completed.length, start.keptSteps.length) };
}

/** RESUME_INVALID unless the record holds everything a resume needs (S6.2): names the missing fields. */
export function checkMetadata(run: RunRecord): void {
  const r = run as Partial<Record<keyof RunRecord, unknown>>;
  const missing: string[] = [];
  if (typeof r.name !== 'string' || !r.name) missing.push('name');
  if (typeof r.base !== 'string' || !OID.test(r.base)) missing.push('base');
  if (r.ref !== runRef(run.id)) missing.push('ref');
  if (!Array.isArray(r.phases)) missing.push('phases');
  if (!Array.isArray(r.completedSteps) || !run.completedSteps.every((s) => typeof s?.name === 'string' && Array.isArray(s.artifacts))) missing.push('completedSteps');
  if (r.lastCheckpoint !== null && (typeof r.lastCheckpoint !== 'string' || !OID.test(r.lastCheckpoint))) missing.push('lastCheckpoint');
  if (typeof r.startedAt !== 'number') missing.push('startedAt');
  if (missing.length) {
    throw new ShadowError('RESUME_INVALID', `Run ${run.id} cannot be resumed: its record is incomplete (missing or invalid: ${missing.join(', ')})`, {
      run: run.id,
      missing: 'metadata',
      fields: missing,
    });
  }
}
