/**
 * Releases what a cancelled run owned (S5.6): its lock files and, with `autoCleanTemp`, its temp
 * paths. Only inside the workspace, never through a symlinked parent, and an ignored path may
 * go (a temp path usually is ignored) because the run declared it as its own.
 */
import { lstatSync, realpathSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { validateTreePath } from '../store/validateTreePath.js';

/** What cleanup removed and what it could not. */
export interface CleanupResult {
  /** Temp paths deleted (or already gone). */
  tempPaths: string[];
  /** Lock files deleted (or already gone). */
  lockFiles: string[];
  /** Paths left in place, with why. */
  failed: { path: string; reason: string }[];
}

/** Normalizes a client's workspace-relative path; throws PATH_INVALID when it escapes. */
export function normalizeRunPath(path: string): string {
  const clean = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  validateTreePath(clean);
  return clean;
}

/** Whether `abs`'s parent directory really lies inside `root` (no symlink on the way out). */
function parentInside(root: string, abs: string): boolean {
  try {
    const parent = realpathSync(dirname(abs));
    return parent === root || parent.startsWith(root + sep);
  } catch {
    return false;
  }
}

/** Deletes one path (a directory with what it holds); true when gone. */
function removePath(root: string, rel: string, dirsToo: boolean): true | string {
  const abs = join(root, rel);
  if (!parentInside(root, abs)) return 'outside the workspace or parent missing';
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    return true; // already gone
  }
  try {
    if (st.isDirectory()) {
      if (!dirsToo) return 'is a directory';
      // rm does not follow symlinks inside the tree it removes.
      rmSync(abs, { recursive: true, force: true });
    } else {
      unlinkSync(abs);
    }
    return true;
  } catch (err) {
    return `error: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}

/**
 * Deletes lock files, and temp paths when `cleanTemp`; `root` is the workspace's real path.
 * Synchronous, like the restore, so it never queues behind the watcher's thread-pool work (S5.9).
 */
export function cleanupResources(root: string, lockFiles: string[], tempPaths: string[], cleanTemp: boolean): CleanupResult {
  const out: CleanupResult = { tempPaths: [], lockFiles: [], failed: [] };
  for (const path of lockFiles) {
    const r = removePath(root, path, false);
    if (r === true) out.lockFiles.push(path);
    else out.failed.push({ path, reason: r });
  }
  if (cleanTemp) {
    for (const path of tempPaths) {
      const r = removePath(root, path, true);
      if (r === true) out.tempPaths.push(path);
      else out.failed.push({ path, reason: r });
    }
  }
  return out;
}
