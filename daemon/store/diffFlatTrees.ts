import type { FlatTree } from './flatTree.js';

/** Paths that differ between two snapshots, by kind of change (S1.8); each list sorted. */
export interface FlatTreeDiff {
  /** In `to` only. */
  added: string[];
  /** In both, with different content, or swapped between file and symlink. */
  modified: string[];
  /** In `from` only. */
  deleted: string[];
  /** In both with the same content; only the executable bit changed. */
  modeChanged: string[];
}

/** Compares two flat trees (S1.8): what changed going from `from` to `to`. */
export function diffFlatTrees(from: FlatTree, to: FlatTree): FlatTreeDiff {
  const diff: FlatTreeDiff = { added: [], modified: [], deleted: [], modeChanged: [] };
  for (const [path, a] of from) {
    const b = to.get(path);
    if (!b) diff.deleted.push(path);
    // A file and a symlink can share a blob (content == link target): that swap is still a
    // change of what the path is, so it counts as modified rather than a mode change.
    else if (a.oid !== b.oid || (a.mode !== b.mode && (a.mode === '120000' || b.mode === '120000'))) diff.modified.push(path);
    else if (a.mode !== b.mode) diff.modeChanged.push(path);
  }
  for (const path of to.keys()) if (!from.has(path)) diff.added.push(path);
  for (const list of Object.values(diff)) list.sort(comparePaths);
  return diff;
}

/** Orders paths by UTF-16 code units, deterministic and locale-independent. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
