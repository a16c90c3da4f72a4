import { defineMethod } from '../defineMethod.js';
import { checkpointRef, pathChanges } from '../schemas.js';

/** Compares a checkpoint with the working tree. */
export const Diff = defineMethod('diff', 'Paths added, modified, deleted or mode-changed since a checkpoint.', (z) => ({
  params: z.strictObject({
    /** Checkpoint to compare with; default: the latest. */
    checkpoint: checkpointRef(z).optional(),
  }),
  result: z.strictObject({
    checkpoint: z.string(),
    ...pathChanges(z),
  }),
}));
