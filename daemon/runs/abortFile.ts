/**
 * The abort file (S5.1): any tool may write `.shadow-abort` in the workspace root (atomically,
 * temp file + rename) to cancel the active run. Its content is the message; a first line naming a
 * reason (`timeout`, or `reason: timeout`) sets the reason, else it is user_cancel.
 */
import { closeSync, constants, lstatSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { CancelReason } from '../../shared/runModel.js';
import { ABORT_FILE, CANCEL_REASONS } from '../../shared/runModel.js';

/** What an abort file asks for. */
export interface AbortRequest {
  reason: CancelReason;
  /** The file's content, trimmed; null when empty. */
  message: string | null;
}

/** Parses an abort file's content. */
export function parseAbortFile(text: string): AbortRequest {
  const trimmed = text.trim();
  const first = (trimmed.split(/\r?\n/)[0] ?? '').trim();
  const named = /^(?:reason\s*[:=]\s*)?([a-z_]+)$/i.exec(first)?.[1]?.toLowerCase();
  const reason = (CANCEL_REASONS as readonly string[]).includes(named ?? '') ? (named as CancelReason) : 'user_cancel';
  return { reason, message: trimmed === '' ? null : trimmed.slice(0, 10_000) };
}

/** Path of the abort file of a workspace. */
export function abortFilePath(root: string): string {
  return join(root, ABORT_FILE);
}

/**
 * Whether the abort file is present: a regular file. Anything else is not a request — a symlink
 * above all, which could make the daemon read a file outside the workspace into its report.
 */
export function abortFilePresent(root: string): boolean {
  return lstatSync(abortFilePath(root), { throwIfNoEntry: false })?.isFile() === true;
}

/** Reads the abort file's request, or null when it is gone (or was swapped for a symlink: O_NOFOLLOW). */
export function readAbortFile(root: string): AbortRequest | null {
  let fd: number | null = null;
  try {
    fd = openSync(abortFilePath(root), constants.O_RDONLY | constants.O_NOFOLLOW);
    return parseAbortFile(readFileSync(fd, 'utf8'));
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Removes the abort file (a stale one at run start, or one handled); true when one was removed. */
export function removeAbortFile(root: string): boolean {
  try {
    unlinkSync(abortFilePath(root));
    return true;
  } catch {
    return false;
  }
}
