import { defineMethod } from '../defineMethod.js';

/** Applies the retention policy now (S1.7): prunes old runs, bounds the auto chain, prunes objects. */
export const Gc = defineMethod('gc', 'Apply the retention policy: prune old runs, bound the auto-snapshot chain, prune unreachable objects.', (z) => ({
  params: z.strictObject({}),
  result: z.strictObject({
    /** Ids of the runs pruned (record, report and ref gone). */
    runsPruned: z.array(z.string()),
    /** Refs deleted (loose and packed). */
    refsDeleted: z.array(z.string()),
    /** Auto snapshots dropped from the chain. */
    autoSnapshotsDropped: z.number().int(),
    /** Loose objects pruned; null in a git repository, where `git gc` prunes. */
    objectsPruned: z.number().int().nullable(),
    kept: z.strictObject({ runs: z.number().int(), autoSnapshots: z.number().int() }),
  }),
}));
