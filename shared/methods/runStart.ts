import { defineMethod } from '../defineMethod.js';

/** Starts a run: takes its base checkpoint (S4.2). */
export const RunStart = defineMethod('run.start', 'Start a run (base checkpoint); RUN_ACTIVE if a top-level run is active.', (z) => ({
  params: z.strictObject({
    name: z.string().min(1).max(200).optional(),
    phases: z.array(z.string().min(1).max(200)).max(100).optional(),
    /** Run time limit in ms: past it the run is cancelled with reason timeout. */
    timeoutMs: z.number().int().positive().max(31 * 24 * 3600 * 1000).optional(),
    /** Parent run id: this run is its child (S4.5). */
    parent: z.string().max(100).optional(),
    /** The command the run wraps, recorded for reports and resume. */
    command: z.array(z.string().max(10_000)).max(1000).optional(),
  }),
  result: z.strictObject({ run: z.string(), base: z.string(), ref: z.string(), name: z.string(), phases: z.array(z.string()) }),
}));
