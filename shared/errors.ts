/**
 * The one error type of Shadow. Codes are permanent (tests and clients match on them);
 * messages carry context for people; details carry the same context as data.
 */

/** Every error code Shadow can produce, with the CLI exit code class it maps to. */
export const ERROR_CODES = {
  /** Wrong command-line usage. */
  USAGE: 'usage',
  /** The workspace directory does not exist or is not a directory. */
  WORKSPACE_INVALID: 'failure',
  /** shadow.config.json is malformed or has a bad value. */
  CONFIG_INVALID: 'failure',
  /** Another daemon already serves this workspace. */
  DAEMON_RUNNING: 'failure',
  /** No daemon answers and none could be started. */
  DAEMON_UNREACHABLE: 'unreachable',
  /** The daemon did not start within its deadline. */
  DAEMON_START_FAILED: 'unreachable',
  /** The runtime (socket) directory is unsafe: wrong owner or mode. */
  RUNTIME_DIR_UNSAFE: 'failure',
  /** A frame could not be parsed as JSON. */
  PARSE_ERROR: 'failure',
  /** A message exceeded the frame size limit. */
  MESSAGE_TOO_LARGE: 'failure',
  /** A message had the wrong shape (not a request). */
  INVALID_REQUEST: 'failure',
  /** The request named a method the daemon does not have. */
  UNKNOWN_METHOD: 'failure',
  /** The request's params failed validation. */
  INVALID_PARAMS: 'failure',
  /** A request arrived before the hello handshake. */
  HANDSHAKE_REQUIRED: 'failure',
  /** The client speaks a protocol version the daemon does not. */
  PROTOCOL_MISMATCH: 'failure',
  /** The connection closed before a response arrived. */
  CONNECTION_CLOSED: 'unreachable',
  /** A request did not get its response in time. */
  TIMEOUT: 'failure',
  /** The named checkpoint (oid, ref or ref~N) does not exist. */
  CHECKPOINT_NOT_FOUND: 'nothing',
  /** A path argument escapes the workspace or is malformed. */
  PATH_INVALID: 'usage',
  /** A stored object is missing or corrupt. */
  OBJECT_CORRUPT: 'failure',
  /** A ref could not be updated (lock held, value moved under us). */
  REF_LOCKED: 'failure',
  /** A top-level run is already active; details name it. */
  RUN_ACTIVE: 'failure',
  /** No run is active (and none was named). */
  NO_ACTIVE_RUN: 'nothing',
  /** The named run does not exist. */
  RUN_NOT_FOUND: 'nothing',
  /** The run exists but is not running (finished, cancelled, cancelling). */
  RUN_NOT_RUNNING: 'failure',
  /** A run cannot be resumed: its checkpoint, metadata or an artifact is missing (S6.2); details name it. */
  RESUME_INVALID: 'failure',
  /** The daemon is shutting down and takes no new work. */
  SHUTTING_DOWN: 'failure',
  /** A file of the state folder (restore journal, run record) is corrupt: it was set aside, not used; details name it. */
  STATE_CORRUPT: 'failure',
  /** The user's git index is damaged (checksum, truncation, a split index's shared index missing): not used; tracked-but-ignored files are not captured and no oid is reused until git rewrites it. */
  GIT_INDEX_CORRUPT: 'failure',
  /** The user's git index uses a format Shadow does not read (unknown version or required extension): not used, as for GIT_INDEX_CORRUPT. */
  GIT_INDEX_UNSUPPORTED: 'failure',
  /** The backup store outside the work tree cannot be written, read, or put back (issue #10.8); details name it. */
  BACKUP_FAILED: 'failure',
  /** No backup store matches what `recover` was asked for; details say what was looked for. */
  BACKUP_NOT_FOUND: 'nothing',
  /** `recover --into` names a directory that exists and is not empty (nothing is ever overwritten). */
  RECOVER_TARGET_INVALID: 'usage',
  /** A file of the state folder (run record, report, cookie) could not be written (ENOSPC, EACCES, EROFS...); details name the file and errno. */
  STATE_WRITE_FAILED: 'failure',
  /** An unexpected internal failure; details say where. */
  INTERNAL: 'failure',
} as const;

/** A permanent error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The wire form of an error: `{code, message, details}`. */
export interface WireError {
  /** Permanent code from ERROR_CODES. */
  code: string;
  /** Human message with context. */
  message: string;
  /** The context as data. */
  details: Record<string, unknown>;
}

/** The error every layer of Shadow throws. */
export class ShadowError extends Error {
  /** Permanent code; never changes meaning. */
  readonly code: ErrorCode;
  /** The context of the error as data (paths, ids, values). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ShadowError';
    this.code = code;
    this.details = details;
  }

  /** The error as sent on the wire. */
  toWire(): WireError {
    return { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds an error received from the wire; unknown codes become INTERNAL with the original kept. */
  static fromWire(wire: WireError): ShadowError {
    const known = Object.hasOwn(ERROR_CODES, wire.code);
    const details = known ? wire.details : { ...wire.details, remoteCode: wire.code };
    return new ShadowError(known ? (wire.code as ErrorCode) : 'INTERNAL', wire.message, details);
  }
}

/** Narrows an unknown thrown value to a ShadowError. */
export function isShadowError(err: unknown): err is ShadowError {
  return err instanceof ShadowError;
}

/** Wraps any thrown value into a ShadowError, keeping ShadowErrors as they are. */
export function toShadowError(err: unknown, context: Record<string, unknown> = {}): ShadowError {
  if (err instanceof ShadowError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  return new ShadowError('INTERNAL', message, { ...context, ...(errno ? { errno } : {}) }, { cause: err });
}
