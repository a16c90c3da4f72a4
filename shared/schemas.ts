/**
 * Schema builders shared by several methods. Each takes the zod instance so that nothing here
 * loads zod at import time (see defineMethod.ts).
 */
import type { Zod } from './defineMethod.js';

/** A full 40-hex git object id. */
export const oid = (z: Zod) => z.string().regex(/^[0-9a-f]{40}$/, 'expected a 40-hex object id');

/**
 * A checkpoint reference as a user types it: an object id (4–40 hex), a shadow ref name
 * (`auto`, `manual`, `refs/shadow/...`), optionally followed by `~N`.
 */
export const checkpointRef = (z: Zod) =>
  z.string().min(1).max(256).regex(/^[A-Za-z0-9._/-]+(~[0-9]{1,6})?$/, 'expected an object id or shadow ref, optionally ~N');

/** A workspace-relative path as given by a user: no NUL, bounded length. */
export const userPath = (z: Zod) =>
  z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'path contains a NUL byte');

/** The daemon's identity, as reported by `status` and `daemon status`. */
export const daemonInfo = (z: Zod) =>
  z.strictObject({
    /** Process id of the daemon. */
    pid: z.number().int(),
    /** Absolute real path of the workspace. */
    workspace: z.string(),
    /** Path of the daemon's Unix socket. */
    socket: z.string(),
    /** Shadow version. */
    version: z.string(),
    /** Absolute path of the state folder. */
    stateDir: z.string(),
    /** Milliseconds since the daemon started. */
    uptimeMs: z.number(),
  });

/** One entry of `log`: a checkpoint commit and its trailers. */
export const logEntry = (z: Zod) =>
  z.strictObject({
    commit: z.string(),
    tree: z.string(),
    parents: z.array(z.string()),
    /** Unix time in seconds. */
    time: z.number(),
    /** First line of the message. */
    subject: z.string(),
    /** Shadow trailers (Shadow-Kind, Shadow-Run, ...) keyed without the prefix, lower-case. */
    kind: z.string().nullable(),
    run: z.string().nullable(),
    reason: z.string().nullable(),
    /** The ref this entry was reached from. */
    ref: z.string(),
  });

/** Lists of paths by change type, as in `diff`. */
export const pathChanges = (z: Zod) => ({
  added: z.array(z.string()),
  modified: z.array(z.string()),
  deleted: z.array(z.string()),
  modeChanged: z.array(z.string()),
});
