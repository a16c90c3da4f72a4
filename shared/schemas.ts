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

/** A run as `status` shows it (S7): the fields every consumer may rely on, and progress. */
export const runSummary = (z: Zod) =>
  z.strictObject({
    id: z.string(),
    name: z.string(),
    status: z.enum(['running', 'cancelling', 'cancelled', 'failed', 'completed', 'interrupted']),
    /** Current phase name, or null before the first phase. */
    phase: z.string().nullable(),
    phases: z.array(z.string()),
    /** Checkpoints taken in the run (base included). */
    checkpoints: z.number().int(),
    /** Completed steps. */
    steps: z.number().int(),
    parent: z.string().nullable(),
    startedAt: z.number(),
    /** Epoch ms when the run times out, or null. */
    deadline: z.number().nullable(),
    /** Open unsafe sections (S5.5). */
    unsafe: z.number().int(),
  });

/** A run in full, as persisted in the state folder and returned by run.get (S4.1). */
export const runDetail = (z: Zod) =>
  runSummary(z).extend({
    base: z.string(),
    lastCheckpoint: z.string().nullable(),
    ref: z.string(),
    completedSteps: z.array(z.strictObject({ name: z.string(), phase: z.string().nullable(), artifacts: z.array(z.string()), at: z.number(), checkpoint: z.string().nullable() })),
    /** The step announced but not finished, if any (for the report). */
    currentStep: z.string().nullable(),
    errors: z.number().int(),
    children: z.array(z.string()),
    pids: z.array(z.number().int()),
    lockFiles: z.array(z.string()),
    tempPaths: z.array(z.string()),
    /** The run's start on the file system's clock (a stamp file's birth time), to compare file birth times with (S5.6). */
    fsStartedAt: z.number().optional(),
    /** What each registered path was at registration (S5.6): cleanup deletes only what the run provably made. */
    resourceOrigins: z.record(z.string(), z.enum(['absent', 'created', 'preexisting', 'unknown'])).optional(),
    command: z.array(z.string()).nullable(),
    endedAt: z.number().nullable(),
    reason: z.string().nullable(),
    trigger: z.string().nullable(),
    action: z.string().nullable(),
    message: z.string().nullable(),
    inconsistent: z.boolean(),
    preAbort: z.string().nullable(),
    report: z.string().nullable(),
    resumable: z.boolean(),
  });

/** The answer to a cancel (S7): what happened, path by path. */
export const cancelResult = (z: Zod) =>
  z.strictObject({
    run: z.string(),
    status: z.string(),
    reason: z.string(),
    trigger: z.string(),
    action: z.string(),
    removed: z.array(z.string()),
    restored: z.array(z.string()),
    preserved: z.array(z.string()),
    /** Why each preserved path was left alone. */
    preservedReasons: z.record(z.string(), z.string()),
    /** Registered temp paths and lock files deleted, and those kept with why (S5.6). */
    cleanup: z.strictObject({ tempPaths: z.array(z.string()), lockFiles: z.array(z.string()), kept: z.record(z.string(), z.string()) }),
    /** The pre-abort commit (S5.4), null when the action touched nothing. */
    preAbort: z.string().nullable(),
    /** The checkpoint the tree was brought back to, null when it was not moved. */
    restoredTo: z.string().nullable(),
    /** Path of the markdown report (S5.7); null for a dry run. */
    report: z.string().nullable(),
    /** Every run id cancelled: this one and its children (S4.5). */
    cancelled: z.array(z.string()),
    /** Processes terminated (or, for a dry run, to terminate). */
    processes: z.array(z.number().int()),
    /** True after a forced cancel inside an unsafe section (S5.5). */
    inconsistent: z.boolean(),
    dryRun: z.boolean(),
    /** The command that resumes the run, when resumable. */
    resume: z.string().nullable(),
  });
