import { defineMethod } from '../defineMethod.js';

/** Asks the daemon to shut down gracefully; it answers first, then exits. */
export const Shutdown = defineMethod('shutdown', 'Stop the daemon gracefully.', (z) => ({
  params: z.strictObject({}),
  result: z.strictObject({ pid: z.number().int() }),
}));
