import { defineMethod } from '../defineMethod.js';

/** Restores the latest pre-abort snapshot exactly (S5.4). */
export const Undo = defineMethod('undo', 'Restore the state saved before the last destructive cancel or restore.', (z) => ({
  params: z.strictObject({}),
  result: z.strictObject({
    restoredTo: z.string(),
    preRestore: z.string(),
    restored: z.array(z.string()),
    removed: z.array(z.string()),
    preserved: z.array(z.strictObject({ path: z.string(), reason: z.string() })),
  }),
}));
