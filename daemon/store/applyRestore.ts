/**
 * Carries out a restore plan on disk (S1.8): file by file, each write an atomic rename, never
 * following a symlink inside the workspace and never writing or deleting outside it.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, realpath, rename, rmdir, symlink, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { ShadowError } from '../../shared/errors.js';
import { comparePaths } from './diffFlatTrees.js';
import type { BlobReader, FlatEntry } from './flatTree.js';
import type { PreservedPath, RestorePlan } from './restorePlan.js';
import { checkTreePaths } from './restorePlan.js';
import { validateTreePath } from './validateTreePath.js';

/** Prefix of the temp names restore writes before renaming; the watcher can skip them. */
export const RESTORE_TMP_PREFIX = '.shadow-tmp-';

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
  const base = await realpath(root).catch((err: unknown) => {
    throw new ShadowError('WORKSPACE_INVALID', `Cannot restore into ${root}: ${errnoOf(err)}`, { workspace: root, errno: errnoOf(err) });
  });
  const restored: string[] = [];
  const removed: string[] = [];
  const preserved: PreservedPath[] = [...plan.preserved];
  const removable = new Set(plan.remove);
  const total = plan.remove.length + plan.write.length;
  let done = 0;
  const step = (): void => opts.onProgress?.(++done, total);
  const failed = (path: string, err: unknown): void => {
    preserved.push({ path, reason: `error: ${errnoOf(err)}` });
  };

  for (const path of plan.remove) {
    try {
      if (await removeFile(base, path)) removed.push(path);
      else preserved.push({ path, reason: `in the way: ${path}` });
    } catch (err) {
      failed(path, err);
    }
    step();
  }

  for (const { path, entry } of plan.write) {
    try {
      const outcome = await writeEntry(base, path, entry, readBlob, removable);
      if (outcome === true) restored.push(path);
      else preserved.push({ path, reason: `in the way: ${outcome}` });
    } catch (err) {
      failed(path, err);
    }
    step();
  }

  await removeEmptiedDirs(base, removed);
  restored.sort(comparePaths);
  removed.sort(comparePaths);
  preserved.sort((a, b) => comparePaths(a.path, b.path));
  return { restored, removed, preserved };
}

/**
 * Unlinks one file or symlink. True when it is gone (or was never there as a workspace path,
 * e.g. behind a symlinked parent); false when a directory stands there.
 */
async function removeFile(base: string, path: string): Promise<boolean> {
  const parents = await walkParents(base, path, false, new Set());
  if (parents.kind !== 'ok') return true;
  const abs = join(base, path);
  const st = await lstatOrNull(abs);
  if (!st) return true;
  if (st.isDirectory()) return false;
  await unlink(abs);
  return true;
}

/** Writes one entry atomically; true when written, else the workspace path standing in the way. */
async function writeEntry(base: string, path: string, entry: FlatEntry, readBlob: BlobReader, removable: Set<string>): Promise<true | string> {
  // Read first: a missing blob must not cost the user a directory.
  const content = await readBlob(entry.oid);
  const parents = await walkParents(base, path, true, removable);
  if (parents.kind === 'blocked') return parents.at;
  const abs = join(base, path);
  const st = await lstatOrNull(abs);
  if (st?.isDirectory() && !(await removeEmptyTree(abs))) return path;
  await atomicWrite(abs, entry, content);
  return true;
}

/**
 * Checks each parent component of `path` with lstat. With `create`, makes missing directories
 * and replaces a symlink or file the plan removes; anything else not a directory blocks.
 */
async function walkParents(base: string, path: string, create: boolean, removable: Set<string>): Promise<ParentState> {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    const abs = join(base, rel);
    const st = await lstatOrNull(abs);
    if (st?.isDirectory()) continue;
    if (!create) return { kind: 'absent' };
    if (st) {
      // Unlink the link itself, never what it points to; only if the plan deletes it anyway.
      if (!removable.has(rel) || !(st.isSymbolicLink() || st.isFile())) return { kind: 'blocked', at: rel };
      await unlink(abs);
    }
    await mkdir(abs, 0o755);
  }
  return { kind: 'ok' };
}

/** Removes `dir` if it holds nothing but (nested) empty directories; true when it is gone. */
async function removeEmptyTree(dir: string): Promise<boolean> {
  let empty = true;
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    // Dirent types come from lstat semantics: a symlink to a directory is not a directory here.
    if (!dirent.isDirectory() || !(await removeEmptyTree(join(dir, dirent.name)))) empty = false;
  }
  if (!empty) return false;
  try {
    await rmdir(dir);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOTEMPTY' || errnoOf(err) === 'EEXIST') return false;
    throw err;
  }
}

/** Temp file (or link) in the destination's directory, explicit mode, then rename over. */
async function atomicWrite(abs: string, entry: FlatEntry, content: Uint8Array): Promise<void> {
  const tmp = join(dirname(abs), `${RESTORE_TMP_PREFIX}${randomBytes(8).toString('hex')}`);
  try {
    if (entry.mode === '120000') {
      await symlink(Buffer.from(content), tmp);
    } else {
      // 'wx' = O_CREAT|O_EXCL: never opens an existing name, so never through a planted symlink.
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(content);
        await fh.chmod(entry.mode === '100755' ? 0o755 : 0o644); // explicit: umask must not matter
      } finally {
        await fh.close();
      }
    }
    await rename(tmp, abs);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * Removes directories left empty by the removals, deepest first, never the root and never a
 * directory that still holds anything (ignored files keep their directories).
 */
async function removeEmptiedDirs(base: string, removed: string[]): Promise<void> {
  const dirs = new Set<string>();
  for (const path of removed) {
    for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) dirs.add(path.slice(0, i));
  }
  const depth = (p: string): number => p.split('/').length;
  for (const dir of [...dirs].sort((a, b) => depth(b) - depth(a) || comparePaths(a, b))) {
    try {
      // rmdir resolves every component but the last: all of them must still be real directories.
      if ((await walkParents(base, dir, false, new Set())).kind !== 'ok') continue;
      const st = await lstatOrNull(join(base, dir));
      if (st?.isDirectory()) await rmdir(join(base, dir));
    } catch {
      // Not empty, or vanished: either way it is not ours to remove.
    }
  }
}

/** lstat that answers null for a missing path (or a parent that is not a directory). */
async function lstatOrNull(abs: string): Promise<Stats | null> {
  try {
    return await lstat(abs);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return null;
    throw err;
  }
}

/** The errno code of a failure (or a ShadowError's code) for reports. */
function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}
