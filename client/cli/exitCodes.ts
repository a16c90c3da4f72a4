/**
 * The one table of shadowctl exit codes (S7). Commands never pick a number: they throw a
 * ShadowError, and its code's class in ERROR_CODES decides the exit code here.
 */
import { ERROR_CODES, isShadowError } from '../../shared/errors.js';

/** Every exit code shadowctl uses, by meaning. */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** The operation failed. */
  failure: 1,
  /** Wrong usage: unknown flag, missing argument, path outside the workspace. */
  usage: 2,
  /** Nothing to act on: no active run, unknown run or checkpoint, no daemon to report on. */
  nothing: 3,
  /** No daemon answers and none could be started (sysexits EX_UNAVAILABLE). */
  unreachable: 69,
  /** Reserved for `run`: the run's timeout fired. */
  timeout: 124,
  /** Reserved for `run`: interrupted by Ctrl+C (128 + SIGINT). */
  interrupted: 130,
  /** Reserved for `run`: terminated by SIGTERM (128 + SIGTERM). */
  terminated: 143,
} as const;

/** One shadowctl exit code. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The wrapped command's own exit code, which `run` passes through (S7): outside the table by design. */
export type PassThroughCode = number & { readonly __passThrough: true };

/** Marks `code` as the wrapped command's own exit code (the only way around the table). */
export function passThrough(code: number): PassThroughCode {
  return code as PassThroughCode;
}

/** The exit code for a thrown value: its ShadowError code's class, else failure. */
export function exitCodeFor(err: unknown): ExitCode {
  if (!isShadowError(err)) return EXIT.failure;
  return EXIT[ERROR_CODES[err.code]] ?? EXIT.failure;
}
