/** Resuming a run (S6): the list of resumable runs and the resume itself. */
import { defineMethod } from '../defineMethod.js';
import type { Zod } from '../defineMethod.js';

/** How far a run got (S6.1): phases and steps done, and a percentage (of phases, when declared). */
const resumeProgress = (z: Zod) =>
  z.strictObject({
    phases: z.strictObject({ completed: z.number().int(), total: z.number().int() }),
    /** Steps are not declared ahead, so their total is unknown (null). */
    steps: z.strictObject({ completed: z.number().int(), total: z.number().int().nullable() }),
    percent: z.number().int(),
  });

/** The ways to resume (S6.4). */
export const RESUME_MODES = ['continue', 'restart', 'from_phase', 'discard'] as const;
/** A resume mode. */
export type ResumeMode = (typeof RESUME_MODES)[number];

/** Resumable runs, newest first (S6.1). */
export const ResumeList = defineMethod('run.resumable', 'Resumable runs (cancelled, failed, interrupted), newest first, with progress.', (z) => ({
  params: z.strictObject({}),
  result: z.strictObject({
    runs: z.array(
      z.strictObject({
        id: z.string(),
        name: z.string(),
        status: z.string(),
        reason: z.string().nullable(),
        progress: resumeProgress(z),
        phase: z.string().nullable(),
        phases: z.array(z.string()),
        completedSteps: z.array(z.string()),
        startedAt: z.number(),
        endedAt: z.number().nullable(),
      }),
    ),
  }),
}));

/** Resumes a run (S6.3, S6.4): continue, restart from the base, start from a phase, or discard. */
export const Resume = defineMethod('run.resume', 'Resume a run from its last checkpoint, its base or a phase; or discard it.', (z) => ({
  params: z.strictObject({
    run: z.string().max(100).optional(),
    mode: z.enum(RESUME_MODES).default('continue'),
    /** With mode from_phase: the phase to start from. */
    phase: z.string().min(1).max(200).optional(),
  }),
  result: z.strictObject({
    run: z.string(),
    mode: z.enum(RESUME_MODES),
    status: z.string(),
    /** Null for discard. */
    plan: z
      .strictObject({
        completed: z.array(z.string()),
        remaining: z.array(z.string()),
        next: z.string().nullable(),
        progress: resumeProgress(z),
      })
      .nullable(),
    /** The checkpoint the tree was brought to (null for discard). */
    restoredTo: z.string().nullable(),
    /** The snapshot of the tree taken before it moved, on refs/shadow/undo (null for discard). */
    preAbort: z.string().nullable(),
    /** Refs deleted by discard. */
    deletedRefs: z.array(z.string()),
  }),
}));
