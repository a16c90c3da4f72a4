import { defineMethod } from '../defineMethod.js';
import { logEntry } from '../schemas.js';

/** Lists checkpoints, newest first. */
export const Log = defineMethod('log', 'List checkpoints, newest first.', (z) => ({
  params: z.strictObject({
    /** Maximum number of entries. */
    n: z.number().int().min(1).max(100_000).default(20),
    /** Only this ref (e.g. "auto", "manual"); default: every shadow ref. */
    ref: z.string().max(256).optional(),
  }),
  result: z.strictObject({ entries: z.array(logEntry(z)) }),
}));
