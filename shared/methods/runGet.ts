import { defineMethod } from '../defineMethod.js';
import { runDetail } from '../schemas.js';

/** A run in full (default: the active one, else the newest). */
export const RunGet = defineMethod('run.get', 'A run in full (default: the active or newest run).', (z) => ({
  params: z.strictObject({ run: z.string().max(100).optional() }),
  result: z.strictObject({ run: runDetail(z) }),
}));
