import { defineMethod } from '../defineMethod.js';
import { checkpointRef, userPath } from '../schemas.js';

/** Makes the working tree (or some paths of it) equal to a checkpoint. */
export const Restore = defineMethod('restore', 'Restore the working tree, or chosen paths, to a checkpoint.', (z) => ({
  params: z.strictObject({
    checkpoint: checkpointRef(z),
    /** Workspace-relative paths (files or directories); default: everything. */
    paths: z.array(userPath(z)).max(10_000).optional(),
  }),
  result: z.strictObject({
    checkpoint: z.string(),
    /** The snapshot taken just before restoring (kind pre-abort), so the restore can be undone. */
    preRestore: z.string(),
    /** Paths written (created or overwritten). */
    restored: z.array(z.string()),
    /** Paths deleted. */
    removed: z.array(z.string()),
    /** Paths left alone on purpose (ignored, not capturable, in the way), with why. */
    preserved: z.array(z.strictObject({ path: z.string(), reason: z.string() })),
  }),
}));
