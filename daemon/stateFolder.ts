/**
 * The state folder while the daemon runs (#10.13): `.git/shadow/` or `.shadow/` may be deleted
 * under it (a `git clean -fdx`, a user's `rm -rf`). Whatever vanished is made again, and those
 * holding a stream into it (the daemon log, the cancellation log) are told to reopen, so records
 * and logs keep landing on disk instead of in unlinked files or raw ENOENT errors.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ShadowError } from '../shared/errors.js';
import { STATE_FILES } from '../shared/paths.js';
import type { WorkspaceLayout } from './workspaceLayout.js';
import { ensureStateDirs } from './workspaceLayout.js';

/** Name of the runs folder in the state folder (run records, S4.4). */
export const RUNS_DIR = 'runs';

/** A coded error for a failed write of a state file, naming the file and the errno. */
export function stateWriteFailed(file: string, err: unknown, what = 'write'): ShadowError {
  const errno = (err as NodeJS.ErrnoException)?.code;
  return new ShadowError('STATE_WRITE_FAILED', `Cannot ${what} ${file}: ${errno ?? String(err)}${errno === 'ENOSPC' ? ' (no space left on the device)' : ''}`, { file, errno: errno ?? null }, { cause: err });
}

/** Watches over one workspace's state folder. */
export class StateFolder {
  private readonly listeners: (() => void)[] = [];

  constructor(readonly layout: WorkspaceLayout) {}

  /** Calls `fn` after the folder was re-created (to reopen a stream into it). */
  onRecreated(fn: () => void): void {
    this.listeners.push(fn);
  }

  /**
   * Re-creates what of the folder vanished (itself, runs/, logs/, cookies/, a plain store's
   * skeleton) and tells the listeners; returns the folders that were missing ([] when none).
   * STATE_WRITE_FAILED when they cannot be made.
   */
  ensure(): string[] {
    const { stateDir } = this.layout;
    const missing = this.missing();
    if (!missing.length) return [];
    try {
      ensureStateDirs(this.layout);
      mkdirSync(join(stateDir, RUNS_DIR), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw stateWriteFailed(stateDir, (err as ShadowError).cause ?? err, 're-create the state folder');
    }
    this.reopened();
    return missing;
  }

  /** `ensure`, with a warning naming what was missing when anything was. */
  ensureLogged(logger: { warn(obj: object, msg: string): void }): void {
    const missing = this.ensure();
    if (missing.length) logger.warn({ missing }, 'state folder deleted under the daemon: re-created');
  }

  /** True when a folder of the state folder is missing (a cheap check for a timer). */
  incomplete(): boolean {
    return this.missing().length > 0;
  }

  /** Tells the listeners the folder was made again by someone else (a repair from the backup store). */
  reopened(): void {
    for (const fn of this.listeners) fn();
  }

  private missing(): string[] {
    const { stateDir } = this.layout;
    const wanted = [stateDir, join(stateDir, RUNS_DIR), join(stateDir, STATE_FILES.logs), join(stateDir, STATE_FILES.cookies)];
    return wanted.filter((d) => !existsSync(d));
  }
}
