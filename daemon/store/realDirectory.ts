/**
 * Whether a workspace path is reached through real directories only. `lstat('a/b/c')` and
 * `readdir('a/b')` follow a symlink in any component but the last: after the user replaced the
 * directory `a` by a symlink to somewhere else, the watcher's dirty path `a/b/c` would otherwise
 * be taken in as a file of the workspace, read through the link, and the index would keep `a` as a
 * directory (a restore then left the symlink in place: "in the way"). A checkpoint must see `a` as
 * the symlink it is (S1.1), and nothing outside the workspace (S1.8).
 */
import { realpathSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * The first prefix of `dir` (workspace-relative, '' is the root; `dir` itself included) that is
 * not a real directory — gone, a file or a symlink — or null when every one is. One realpath(3)
 * in the usual case; a walk with `lstat` (which never follows the last component) otherwise, which
 * also decides where realpath is inconclusive (a case-folding file system).
 */
export function firstNonDirectory(root: string, realRoot: string, dir: string, lstat: (path: string) => Stats | undefined): string | null {
  if (dir === '') return null;
  try {
    if (realpathSync.native(join(root, dir)) === join(realRoot, dir)) return null;
  } catch {
    // gone, or not a directory: the walk says which component
  }
  const parts = dir.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (!lstat(prefix)?.isDirectory()) return prefix;
  }
  return null;
}
