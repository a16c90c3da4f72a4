/**
 * Which workspace a command acts on: `-C DIR` if given, else the nearest enclosing directory
 * that holds `.git` (file or directory, as in worktrees) or `.shadow/` (a plain workspace's state
 * folder), found the way git finds a repository; else the current directory.
 */
import { realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ShadowError } from '../../shared/errors.js';
import { PLAIN_STATE_DIR } from '../../shared/paths.js';

/** Where the workspace came from. */
export interface FoundWorkspace {
  /** Absolute real path of the workspace. */
  workspace: string;
  /** True when given with -C, false when discovered. */
  explicit: boolean;
}

/** Resolves the workspace from an optional -C value and the current directory. */
export function findWorkspace(cwd: string, dirOption?: string): FoundWorkspace {
  if (dirOption !== undefined) return { workspace: realDirectory(resolve(cwd, dirOption)), explicit: true };
  const start = realDirectory(cwd);
  for (let dir = start; ; dir = dirname(dir)) {
    if (isMarker(join(dir, '.git'), false) || isMarker(join(dir, PLAIN_STATE_DIR), true)) return { workspace: dir, explicit: false };
    if (dirname(dir) === dir) return { workspace: start, explicit: false };
  }
}

/** True when `path` exists (as a directory when `mustBeDir`). */
function isMarker(path: string, mustBeDir: boolean): boolean {
  try {
    const st = statSync(path);
    return mustBeDir ? st.isDirectory() : true;
  } catch {
    return false;
  }
}

/** The real path of an existing directory; WORKSPACE_INVALID otherwise. */
function realDirectory(path: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    throw new ShadowError('WORKSPACE_INVALID', `Workspace ${path} does not exist`, { path, errno }, { cause: err });
  }
  if (!statSync(real).isDirectory()) throw new ShadowError('WORKSPACE_INVALID', `Workspace ${path} is not a directory`, { path });
  return real;
}
