import { defineMethod } from '../defineMethod.js';

/** Snapshots the working tree now, proving every earlier write is included. */
export const Checkpoint = defineMethod('checkpoint', 'Take a checkpoint of the working tree.', (z) => ({
  params: z.strictObject({
    /** Subject line of the checkpoint commit. */
    message: z.string().max(10_000).optional(),
    /** Commit on this run's ref (default: the active run's, if any). */
    run: z.string().max(100).optional(),
  }),
  result: z.strictObject({
    commit: z.string(),
    tree: z.string(),
    ref: z.string(),
    run: z.string().nullable(),
    /** Files in the snapshot. */
    files: z.number().int(),
    /** Paths re-hashed for this checkpoint. */
    hashed: z.number().int(),
    /** Whether the whole tree was rescanned (the watcher could not vouch). */
    rescanned: z.boolean(),
    /** Files that could not be captured (too large, unreadable): never deleted by a restore. */
    uncaptured: z.array(z.strictObject({ path: z.string(), reason: z.string() })),
  }),
}));
