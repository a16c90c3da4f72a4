/**
 * Computes what a restore does (S1.8, S5.3, S5.12) without touching the disk, so a dry run
 * shows exactly what a real one would do.
 */
import { ShadowError } from '../../shared/errors.js';
import { comparePaths } from './diffFlatTrees.js';
import type { FlatEntry, FlatTree } from './flatTree.js';
import { validateTreePath } from './validateTreePath.js';

/** What a restore starts from. */
export interface RestoreInput {
  /** The checkpoint to restore. */
  target: FlatTree;
  /** The working tree as just snapshotted (ignored files are never in it). */
  current: FlatTree;
  /** path -> reason: files present but not capturable (too large, unreadable); never deleted nor overwritten. */
  uncaptured: Map<string, string>;
  /** Current ignore rules, deep (parents included). */
  isIgnoredNow: (path: string, isDir: boolean) => boolean;
  /** The checkpoint's ignore rules, deep. */
  isIgnoredInTarget: (path: string, isDir: boolean) => boolean;
  /**
   * Whether anything stands at a path on disk (lstat). A checkpoint path that today's rules
   * ignore is restored when nothing is there (S1.1a); absent, such paths are all preserved.
   */
  onDisk?: (path: string) => boolean;
  /** Optional filters (workspace-relative, '' = all): a filter matches the path itself or anything below it. Absent = all; [] = nothing. */
  paths?: string[];
}

/** One file to create or overwrite. */
export interface PlannedWrite {
  /** Workspace-relative path. */
  path: string;
  /** Mode and blob to write there. */
  entry: FlatEntry;
}

/** A path left alone on purpose, with why. */
export interface PreservedPath {
  /** Workspace-relative path. */
  path: string;
  /** 'ignored', 'ignored-in-checkpoint', 'uncaptured: <reason>', 'unsafe path: <why>', 'in the way: <path>', 'changed during restore', 'error: <errno>'. */
  reason: string;
}

/** What a restore will do; every list sorted by path. */
export interface RestorePlan {
  /** Create or overwrite (content and/or mode). */
  write: PlannedWrite[];
  /** Files/symlinks to delete. */
  remove: string[];
  /** Left alone on purpose, with why. */
  preserved: PreservedPath[];
}

/**
 * Plans a restore of `target` over `current` (S1.8): removes what the checkpoint lacks, writes
 * what differs, never touches ignored or uncaptured files (an ignored path of the checkpoint is
 * written only where nothing stands on disk). Throws PATH_INVALID before anything
 * is planned when the checkpoint holds an unsafe path or a path both a file and a directory.
 */
export function planRestore(input: RestoreInput): RestorePlan {
  const { target, current, uncaptured } = input;
  checkTreePaths(target, 'checkpoint');
  const inScope = scopeMatcher(input.paths);

  const write: PlannedWrite[] = [];
  const remove: string[] = [];
  const preserved = new Map<string, string>();

  for (const [path, reason] of uncaptured) {
    // Whatever the checkpoint says about it, an uncapturable file is neither deleted nor
    // overwritten: its bytes are in no snapshot, so nothing could bring them back.
    if (inScope(path)) preserved.set(path, `uncaptured: ${reason}`);
  }
  for (const path of current.keys()) {
    if (target.has(path) || !inScope(path) || preserved.has(path)) continue;
    // A name git itself refuses (e.g. `x/.GIT/y` on a case-sensitive disk) must not block the
    // whole restore, and is not ours to delete either.
    const unsafe = unsafeReason(path);
    if (unsafe) preserved.set(path, `unsafe path: ${unsafe}`);
    // Ignored under either rule set is never deleted (S1.8): the checkpoint may lack the path
    // only because it was ignored then.
    else if (input.isIgnoredNow(path, false)) preserved.set(path, 'ignored');
    else if (input.isIgnoredInTarget(path, false)) preserved.set(path, 'ignored-in-checkpoint');
    else remove.push(path);
  }
  for (const [path, entry] of target) {
    if (!inScope(path) || preserved.has(path)) continue;
    const now = current.get(path);
    if (now && now.oid === entry.oid && now.mode === entry.mode) continue;
    // Ignored now means absent from `current` but maybe on disk: writing would clobber it. When
    // nothing is there, the checkpoint's path comes back whatever today's rules say (S1.1a: a
    // checkout may have added the rule together with the deletion).
    if (!now && input.isIgnoredNow(path, false) && (input.onDisk?.(path) ?? true)) {
      preserved.set(path, 'ignored');
      continue;
    }
    write.push({ path, entry });
  }

  write.sort((a, b) => comparePaths(a.path, b.path));
  remove.sort(comparePaths);
  const kept = [...preserved].map(([path, reason]) => ({ path, reason })).sort((a, b) => comparePaths(a.path, b.path));
  return { write, remove, preserved: kept };
}

/** True when the plan changes nothing on disk. */
export function isEmptyPlan(plan: RestorePlan): boolean {
  return plan.write.length === 0 && plan.remove.length === 0;
}

/**
 * Validates every path of a tree and rejects a path that is both a file and a directory
 * (`a` and `a/b`): no real tree has it, and restoring one would be ambiguous.
 */
export function checkTreePaths(tree: Iterable<string> | FlatTree, what: string): void {
  const paths = tree instanceof Map ? [...tree.keys()] : [...tree];
  const files = new Set(paths);
  for (const path of paths) {
    validateTreePath(path);
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
      const parent = path.slice(0, i);
      if (files.has(parent)) {
        throw new ShadowError('PATH_INVALID', `The ${what} names ${JSON.stringify(parent)} both as a file and as a directory (${JSON.stringify(path)})`, { path, parent, what });
      }
    }
  }
}

/** Why a path fails validateTreePath, or null when it is valid. */
function unsafeReason(path: string): string | null {
  try {
    validateTreePath(path);
    return null;
  } catch (err) {
    return String((err as { details?: { why?: unknown } }).details?.why ?? 'invalid');
  }
}

/** A predicate for the optional path filters: a filter matches itself and everything below it. */
export function scopeMatcher(filters: string[] | undefined): (path: string) => boolean {
  if (filters === undefined) return () => true;
  const clean = filters.map((f) => f.replace(/^(\.\/)+/, '').replace(/\/+$/, ''));
  if (clean.some((f) => f === '' || f === '.')) return () => true;
  for (const f of clean) validateTreePath(f);
  return (path) => clean.some((f) => path === f || path.startsWith(`${f}/`));
}
