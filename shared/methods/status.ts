import { defineMethod } from '../defineMethod.js';
import { daemonInfo, runSummary } from '../schemas.js';

/** Daemon identity, watcher health and the active top-level run (null when none). */
export const Status = defineMethod('status', 'Daemon identity, watcher state and the active run.', (z) => ({
  params: z.strictObject({}),
  result: z.strictObject({
    daemon: daemonInfo(z),
    /** The active top-level run (running or cancelling), or null. */
    run: runSummary(z).nullable(),
    watcher: z.strictObject({
      /** "events" when the watcher vouches for completeness, "scan" when the next checkpoint rescans. */
      mode: z.enum(['events', 'scan']),
      /** Paths reported changed since the last checkpoint. */
      pending: z.number().int(),
      /** Why the watcher cannot vouch, when mode is "scan". */
      reason: z.string().nullable(),
      /**
       * "inotify" while file events are used; "scanning" once they cannot be (inotify limit
       * reached, watcher error): every checkpoint rescans, auto snapshots poll, `reason` says why.
       * Optional only for daemons older than the field.
       */
      backend: z.enum(['inotify', 'scanning']).optional(),
    }),
    /** The latest checkpoint on any shadow ref, or null. */
    lastCheckpoint: z.strictObject({ commit: z.string(), ref: z.string(), time: z.number() }).nullable(),
    /** Files tracked in the last snapshot. */
    files: z.number().int(),
    /**
     * What the daemon found wrong in its state folder at start and did about it (a corrupt
     * journal or run record set aside, an interrupted restore refused), as coded errors
     * (STATE_CORRUPT, CHECKPOINT_NOT_FOUND, ...). Absent when there was nothing.
     */
    problems: z.array(z.strictObject({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) })).optional(),
  }),
}));
