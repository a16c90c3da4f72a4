/**
 * Carries out a restore plan on disk (S1.8): file by file, each write an atomic rename, never
 * following a symlink inside the workspace and never writing or deleting outside it.
 *
 * File system calls are synchronous on purpose (S5.9): a restore's own writes make the watcher
 * re-read every touched directory, lstat-ing each entry on the libuv thread pool, and async calls
 * queued behind that flood made a 150-file restore take a second. The work yields to the event
 * loop every YIELD_MS so requests such as `status` are still answered during a big restore.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, linkSync, mkdirSync, openSync, realpathSync, renameSync, rmdirSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { ShadowError } from '../../shared/errors.js';
import { exceedsPathMax, fsDirname, fsJoin, fsPath } from '../../shared/pathBytes.js';
import { faultPoint } from '../faultPoint.js';
import { comparePaths } from './diffFlatTrees.js';
import type { BlobReader, FlatEntry } from './flatTree.js';
import { lstatOrNull } from './lstatOrNull.js';
import { readDirEntries } from './readDirEntries.js';
import type { CapturedLookup } from './pathRecheck.js';
import { CHANGED_DURING_RESTORE, recheckPath } from './pathRecheck.js';
import type { PreservedPath, RestorePlan } from './restorePlan.js';
import { checkTreePaths } from './restorePlan.js';
import { validateTreePath } from './validateTreePath.js';
import type { CommitPerms } from './permsMetadata.js';
import { restoredPerms } from './permsMetadata.js';

/** Prefix of the temp names restore writes before renaming; the watcher can skip them. */
export const RESTORE_TMP_PREFIX = '.shadow-tmp-';

/** Longest stretch of synchronous restore work between two yields to the event loop, ms. */
const YIELD_MS = 50;

/** What a restore did. Failures are not thrown: they are listed in `preserved` as 'error: <errno>'. */
export interface RestoreResult {
  /** Paths written (created or overwritten), sorted. */
  restored: string[];
  /** Paths deleted (or already gone), sorted. */
  removed: string[];
  /** Paths left alone (the plan's own plus those in the way or failed), sorted. */
  preserved: PreservedPath[];
}

/** Options of applyRestore. */
export interface ApplyRestoreOptions {
  /** Called after each planned path is handled. */
  onProgress?(done: number, total: number): void;
  /** The target commit's permission bits (null: a commit without them; see permsMetadata.ts). */
  perms?: CommitPerms | null;
  /**
   * What the pre-abort commit captured at each path (S1.1a). When given, every path is checked
   * again right before it is overwritten or removed, and one that changed since is left alone and
   * reported as `changed during restore`; a file the plan creates is linked into place, never
   * renamed over something that appeared meanwhile.
   */
  captured?: CapturedLookup;
}

/** What lies on the way to a path: all real directories, something missing, or a blocker. */
type ParentState = { kind: 'ok' } | { kind: 'absent' } | { kind: 'blocked'; at: string };

/**
 * Applies `plan` under `root`: removals, then directories that must become files, then writes.
 * Throws PATH_INVALID (before touching anything) when the plan names an unsafe path.
 */
export async function applyRestore(root: string, plan: RestorePlan, readBlob: BlobReader, opts: ApplyRestoreOptions = {}): Promise<RestoreResult> {
  // Re-validate: the plan may come from anywhere (a journal replay, a client's dry run).
  checkTreePaths(plan.write.map((w) => w.path), 'restore plan');
  for (const path of plan.remove) validateTreePath(path);
  for (const { path, entry } of plan.write) {
    if (!['100644', '100755', '120000'].includes(entry.mode)) {
      throw new ShadowError('INTERNAL', `Refusing to restore ${path} with unsupported mode ${entry.mode}`, { path, mode: entry.mode });
    }
  }
  // Work from the real root so that a symlinked workspace path is followed once, here, and never below.
  let base: string;
  try {
    base = realpathSync(root);
  } catch (err) {
    throw new ShadowError('WORKSPACE_INVALID', `Cannot restore into ${root}: ${errnoOf(err)}`, { workspace: root, errno: errnoOf(err) });
  }
  const restored: string[] = [];
  const removed: string[] = [];
  const preserved: PreservedPath[] = [...plan.preserved];
  const removable = new Set(plan.remove);
  const total = plan.remove.length + plan.write.length;
  let done = 0;
  let slice = Date.now();
  const step = async (): Promise<void> => {
    faultPoint('restore.apply-step');
    opts.onProgress?.(++done, total);
    if (Date.now() - slice >= YIELD_MS) {
      await new Promise((r) => setImmediate(r));
      slice = Date.now();
    }
  };
  const failed = (path: string, err: unknown): void => {
    preserved.push({ path, reason: `error: ${errnoOf(err)}` });
  };

  for (const path of plan.remove) {
    try {
      const outcome = removeFile(base, path, opts.captured);
      if (outcome === true) removed.push(path);
      else {
        preserved.push({ path, reason: outcome });
        // Kept on purpose: a write below it must not unlink it on the way (walkParents).
        removable.delete(path);
      }
    } catch (err) {
      failed(path, err);
      removable.delete(path);
    }
    await step();
  }

  for (const { path, entry } of plan.write) {
    try {
      const outcome = await writeEntry(base, path, entry, readBlob, removable, opts.perms ?? null, opts.captured);
      if (outcome === true) restored.push(path);
      else preserved.push({ path, reason: outcome });
    } catch (err) {
      failed(path, err);
    }
    await step();
  }

  removeEmptiedDirs(base, removed);
  restored.sort(comparePaths);
  removed.sort(comparePaths);
  preserved.sort((a, b) => comparePaths(a.path, b.path));
  return { restored, removed, preserved };
}

/**
 * Removes the `.shadow-tmp-*` files that a restore killed between a file's temp write and its
 * rename left beside `paths` (S2.5): the files the restore writes. A journal replay calls it first: a partial
 * restore's replay would otherwise never look at them, and they would stay in the tree (found by
 * the fault injection, docs/RELIABILITY.md). Returns the workspace paths removed.
 */
export function sweepRestoreTemps(root: string, paths: Iterable<string>): string[] {
  const base = realpathSync(root);
  const dirs = new Set<string>();
  for (const path of paths) dirs.add(path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
  const swept: string[] = [];
  for (const dir of dirs) {
    // Only real directories of the workspace: never through a symlink (S1.8).
    // Nor one past PATH_MAX, which no call can reach (its temps could not have been written).
    if (dir && (exceedsPathMax(base, dir) || walkParents(base, `${dir}/-`, false, new Set()).kind !== 'ok')) continue;
    try {
      for (const d of readDirEntries(fsPath(base, dir))) {
        if (!d.name.startsWith(RESTORE_TMP_PREFIX) || !(d.isFile() || d.isSymbolicLink())) continue;
        unlinkSync(fsJoin(fsPath(base, dir), d.name));
        swept.push(dir ? `${dir}/${d.name}` : d.name);
      }
    } catch {
      // Vanished or unreadable meanwhile: the replay reports what it cannot restore.
    }
  }
  return swept;
}

/**
 * Unlinks one file or symlink. True when it is gone (or was never there as a workspace path,
 * e.g. behind a symlinked parent); else why it was left: a directory stands there, or (with
 * `captured`) it changed since the pre-abort commit.
 */
function removeFile(base: string, path: string, captured?: CapturedLookup): true | string {
  const parents = walkParents(base, path, false, new Set());
  if (parents.kind !== 'ok') return true;
  const abs = fsPath(base, path);
  const st = lstatOrNull(abs);
  if (!st) return true;
  if (st.isDirectory()) return `in the way: ${path}`;
  if (captured) {
    faultPoint('restore.before-recheck');
    const state = recheckPath(abs, captured(path));
    if (state === 'absent') return true;
    if (state === 'changed') return CHANGED_DURING_RESTORE;
  }
  unlinkSync(abs);
  return true;
}

/** Writes one entry atomically; true when written, else why it was left alone. */
async function writeEntry(base: string, path: string, entry: FlatEntry, readBlob: BlobReader, removable: Set<string>, perms: CommitPerms | null, captured?: CapturedLookup): Promise<true | string> {
  // Read first: a missing blob must not cost the user a directory.
  const content = await readBlob(entry.oid);
  // Fails before any parent directory is made for it: reported as 'error: ENAMETOOLONG'.
  if (exceedsPathMax(base, path)) throw Object.assign(new Error(`path too long: ${path}`), { code: 'ENAMETOOLONG' });
  const parents = walkParents(base, path, true, removable);
  if (parents.kind === 'blocked') return `in the way: ${parents.at}`;
  const abs = fsPath(base, path);
  const st = lstatOrNull(abs);
  if (st?.isDirectory() && !removeEmptyTree(abs)) return `in the way: ${path}`;
  const wantPerms = restoredPerms(perms, path, entry.mode, st);
  if (!captured) {
    atomicWrite(abs, entry, content, wantPerms, renameInto);
    return true;
  }
  const was = captured(path);
  // The check runs once the new content is in its temp file, right before it takes the name.
  const place = (tmp: string | Buffer, dest: string | Buffer): boolean => {
    faultPoint('restore.before-recheck');
    const state = recheckPath(dest, was);
    if (state === 'changed') return false;
    if (state === 'same') renameInto(tmp, dest);
    else if (!linkInto(tmp, dest)) return false;
    return true;
  };
  return atomicWrite(abs, entry, content, wantPerms, place) ? true : CHANGED_DURING_RESTORE;
}

/** Puts the temp file in place, replacing what is there. */
function renameInto(tmp: string | Buffer, dest: string | Buffer): boolean {
  renameSync(tmp, dest);
  return true;
}

/**
 * Puts the temp file in place only if nothing has the name (link fails with EEXIST, where a
 * rename would clobber a file created meanwhile); false when something has. Then drops the temp
 * name. A file system without hard links falls back to a check and a rename.
 */
function linkInto(tmp: string | Buffer, dest: string | Buffer): boolean {
  try {
    linkSync(tmp, dest);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK', 'ENOSYS'].includes(code)) throw err;
    if (lstatOrNull(dest)) return false;
    renameSync(tmp, dest);
    return true;
  }
  unlinkSync(tmp);
  return true;
}

/**
 * Checks each parent component of `path` with lstat. With `create`, makes missing directories
 * and replaces a symlink or file the plan removes; anything else not a directory blocks.
 */
function walkParents(base: string, path: string, create: boolean, removable: Set<string>): ParentState {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    const abs = fsPath(base, rel);
    const st = lstatOrNull(abs);
    if (st?.isDirectory()) continue;
    if (!create) return { kind: 'absent' };
    if (st) {
      // Unlink the link itself, never what it points to; only if the plan deletes it anyway.
      if (!removable.has(rel) || !(st.isSymbolicLink() || st.isFile())) return { kind: 'blocked', at: rel };
      unlinkSync(abs);
    }
    mkdirSync(abs, 0o755);
  }
  return { kind: 'ok' };
}

/** Removes `dir` if it holds nothing but (nested) empty directories; true when it is gone. */
function removeEmptyTree(dir: string | Buffer): boolean {
  let empty = true;
  for (const dirent of readDirEntries(dir)) {
    // Dirent types come from lstat semantics: a symlink to a directory is not a directory here.
    if (!dirent.isDirectory() || !removeEmptyTree(fsJoin(dir, dirent.name))) empty = false;
  }
  if (!empty) return false;
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOTEMPTY' || errnoOf(err) === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Temp file (or link) in the destination's directory, explicit mode, then `place` puts it at
 * `abs` (false: it declined, and the temp file is removed). True when placed.
 */
function atomicWrite(abs: string | Buffer, entry: FlatEntry, content: Uint8Array, perms: number, place: (tmp: string | Buffer, dest: string | Buffer) => boolean): boolean {
  const tmp = fsJoin(fsDirname(abs), `${RESTORE_TMP_PREFIX}${randomBytes(8).toString('hex')}`);
  try {
    if (entry.mode === '120000') {
      symlinkSync(Buffer.from(content), tmp);
    } else {
      // 'wx' = O_CREAT|O_EXCL: never opens an existing name, so never through a planted symlink.
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        for (let off = 0; off < content.length; ) off += writeSync(fd, content, off, content.length - off);
        fchmodSync(fd, perms); // exactly as captured (permsMetadata.ts): umask must not matter
      } finally {
        closeSync(fd);
      }
    }
    faultPoint('restore.temp-written');
    if (place(tmp, abs)) return true;
    unlinkSync(tmp);
    return false;
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw err;
  }
}

/**
 * Removes directories left empty by the removals, deepest first, never the root and never a
 * directory that still holds anything (ignored files keep their directories).
 */
function removeEmptiedDirs(base: string, removed: string[]): void {
  const dirs = new Set<string>();
  for (const path of removed) {
    for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) dirs.add(path.slice(0, i));
  }
  const depth = (p: string): number => p.split('/').length;
  for (const dir of [...dirs].sort((a, b) => depth(b) - depth(a) || comparePaths(a, b))) {
    try {
      // rmdir resolves every component but the last: all of them must still be real directories.
      if (walkParents(base, dir, false, new Set()).kind !== 'ok') continue;
      const st = lstatOrNull(fsPath(base, dir));
      if (st?.isDirectory()) rmdirSync(fsPath(base, dir));
    } catch {
      // Not empty, or vanished: either way it is not ours to remove.
    }
  }
}

/** The errno code of a failure (or a ShadowError's code) for reports. */
function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}
