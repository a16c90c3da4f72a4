/** Methods that move a run along (S4.3). `run` defaults to the active top-level run. */
import { defineMethod } from '../defineMethod.js';
import { cancelResult, userPath } from '../schemas.js';

/** Enters a phase; the previous phase ends with a phase-end checkpoint. */
export const RunPhase = defineMethod('run.phase', 'Enter a phase (phase-end checkpoint of the previous one).', (z) => ({
  params: z.strictObject({ run: z.string().max(100).optional(), name: z.string().min(1).max(200) }),
  result: z.strictObject({ run: z.string(), phase: z.string(), index: z.number().int(), total: z.number().int(), checkpoint: z.string().nullable() }),
}));

/** Records a completed step and its artifacts (workspace-relative paths). */
export const RunStep = defineMethod('run.step', 'Record a completed step with its artifacts.', (z) => ({
  params: z.strictObject({ run: z.string().max(100).optional(), name: z.string().min(1).max(200), artifacts: z.array(userPath(z)).max(1000).optional() }),
  result: z.strictObject({ run: z.string(), step: z.string(), artifacts: z.array(z.string()), steps: z.number().int() }),
}));

/** Opens or closes an unsafe section (S5.5). */
export const RunUnsafe = defineMethod('run.unsafe', 'Open (begin) or close (end) an unsafe section.', (z) => ({
  params: z.strictObject({ run: z.string().max(100).optional(), section: z.enum(['begin', 'end']) }),
  result: z.strictObject({ run: z.string(), depth: z.number().int() }),
}));

/** Reports an error; `errorThreshold` consecutive errors cancel the run (reason error). */
export const RunError = defineMethod('run.error', 'Report an error; the threshold cancels the run.', (z) => ({
  params: z.strictObject({ run: z.string().max(100).optional(), message: z.string().max(10_000).optional() }),
  result: z.strictObject({ run: z.string(), errors: z.number().int(), threshold: z.number().int(), cancelled: cancelResult(z).nullable() }),
}));

/** Ends a run successfully with a final checkpoint. */
export const RunFinish = defineMethod('run.finish', 'Finish the run (final checkpoint, completed).', (z) => ({
  params: z.strictObject({ run: z.string().max(100).optional() }),
  result: z.strictObject({ run: z.string(), status: z.string(), final: z.string() }),
}));

/** Registers resources a run owns: processes to terminate, lock files to release, temp paths to delete (S4.1, S5.6). */
export const RunRegister = defineMethod('run.register', 'Register processes, lock files and temp paths the run owns.', (z) => ({
  params: z.strictObject({
    run: z.string().max(100).optional(),
    pid: z.number().int().positive().optional(),
    lockFiles: z.array(userPath(z)).max(1000).optional(),
    tempPaths: z.array(userPath(z)).max(1000).optional(),
  }),
  result: z.strictObject({ run: z.string() }),
}));
