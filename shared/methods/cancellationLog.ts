import { defineMethod } from '../defineMethod.js';

/** Reads the cancellation log (S5.8), newest first. */
export const CancellationLog = defineMethod('log.cancellations', 'Cancellation log entries, newest first.', (z) => ({
  params: z.strictObject({ run: z.string().max(100).optional(), n: z.number().int().min(1).max(100_000).default(20) }),
  result: z.strictObject({
    entries: z.array(
      z.strictObject({
        time: z.string(),
        run: z.string(),
        name: z.string(),
        reason: z.string(),
        trigger: z.string(),
        action: z.string(),
        /** The run's state at the cancel: status, phase k/n, steps. */
        state: z.strictObject({ status: z.string(), phase: z.string().nullable(), phaseIndex: z.number().int(), phases: z.number().int(), steps: z.number().int() }),
        cleanup: z.strictObject({ removed: z.number().int(), restored: z.number().int(), preserved: z.number().int(), processes: z.number().int(), tempPaths: z.number().int(), lockFiles: z.number().int() }),
        inconsistent: z.boolean(),
        resume: z.string().nullable(),
        message: z.string().nullable(),
      }),
    ),
  }),
}));
