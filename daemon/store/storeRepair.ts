/**
 * Puts a vanished primary store back from the backup store (issue #10.8). A job's
 * `rm -rf .git && git init`, `rm -rf .shadow`, or an emptied project takes Shadow's state folder,
 * objects and refs with it; the daemon notices (the state folder or objects directory is gone)
 * and, before anything else uses the store, re-creates the folders, hard-links the backup's
 * objects and packs back (copies across filesystems), writes back every refs/shadow/* ref the
 * primary lacks, and the run records. The user's own history is not in the backup: when `.git`
 * itself was deleted, it comes back as an empty repository holding only Shadow's refs and
 * objects (what `git init` would make), and that is reported.
 */
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ShadowError, toShadowError } from '../../shared/errors.js';
import { RUNS_DIR } from '../runs/runStore.js';
import type { WorkspaceLayout } from '../workspaceLayout.js';
import { ensureStateDirs } from '../workspaceLayout.js';
import { writeTempFile } from '../writeTempFile.js';
import { BACKUP_RUNS_DIR } from './backupLocation.js';
import type { BackupStore } from './backupStore.js';
import { linkOrCopy } from './backupFiles.js';
import type { RefStore } from './refStore.js';

/** What a repair put back. */
export interface StoreRepair {
  /** Why the store counted as vanished. */
  reason: string;
  /** True when the repository's git dir itself was gone and was re-created empty. */
  recreatedGitDir: boolean;
  /** Objects (loose files and pack entries' packs) put back. */
  objects: number;
  /** Refs written back. */
  refs: string[];
  /** Run records put back. */
  runRecords: number;
  /** True when there was no backup to take anything from: the store starts empty, its checkpoints are lost. */
  empty: boolean;
}

/**
 * Why the primary store of `layout` counts as vanished, or null when it is in place. Cheap: two
 * stats. Throws WORKSPACE_INVALID when the workspace folder itself is gone.
 */
export function storeVanished(layout: WorkspaceLayout): string | null {
  if (!existsSync(layout.stateDir) && !existsSync(layout.workspace)) {
    // Never re-create a deleted project's folder by writing the store into it: recover it elsewhere.
    throw new ShadowError('WORKSPACE_INVALID', `The workspace ${layout.workspace} was deleted; its checkpoints are in the backup store: shadowctl recover --from ${layout.workspace} --into DIR`, { workspace: layout.workspace });
  }
  if (!existsSync(layout.stateDir)) return `state folder ${layout.stateDir} is gone`;
  if (!existsSync(layout.objectsDir)) return `objects directory ${layout.objectsDir} is gone`;
  return null;
}

/**
 * Re-creates the primary store of `layout` from `backup`. Must run inside the engine's queue.
 * Without a backup (none written yet, or turned off) the store is re-created empty, so the daemon
 * goes on working; what named the lost checkpoints then fails with CHECKPOINT_NOT_FOUND. Throws
 * BACKUP_FAILED (with the reason) when the store cannot be re-created or copied back.
 */
export function repairStore(layout: WorkspaceLayout, refs: RefStore, backup: BackupStore | null, reason: string): StoreRepair {
  try {
    const recreatedGitDir = layout.kind === 'git' && !existsSync(join(layout.gitDir, 'HEAD'));
    if (recreatedGitDir) initEmptyRepository(layout.gitDir);
    ensureStateDirs(layout);
    mkdirSync(join(layout.objectsDir, 'pack'), { recursive: true });
    mkdirSync(join(layout.stateDir, RUNS_DIR), { recursive: true, mode: 0o700 });
    if (!backup?.exists()) return { reason, recreatedGitDir, objects: 0, refs: [], runRecords: 0, empty: true };
    const objects = linkObjects(backup.objectsDir, layout.objectsDir);
    const restoredRefs: string[] = [];
    for (const [ref, oid] of backup.refs.list()) {
      if (refs.read(ref) !== null) continue;
      refs.update(ref, oid, null);
      restoredRefs.push(ref);
    }
    const runRecords = copyMissing(join(backup.dir, BACKUP_RUNS_DIR), join(layout.stateDir, RUNS_DIR));
    return { reason, recreatedGitDir, objects, refs: restoredRefs, runRecords, empty: false };
  } catch (err) {
    const e = toShadowError(err);
    const store = backup?.dir ?? null;
    throw new ShadowError('BACKUP_FAILED', `Cannot put Shadow's store for ${layout.workspace} back${store ? ` from ${store}` : ''} (${reason}): ${e.message}`, { workspace: layout.workspace, store, reason, ...e.details }, { cause: err });
  }
}

/** A minimal non-bare repository at `gitDir` (as `git init` makes), so git sees a repository again. */
function initEmptyRepository(gitDir: string): void {
  for (const sub of ['objects/pack', 'objects/info', 'refs/heads', 'refs/tags']) mkdirSync(join(gitDir, sub), { recursive: true });
  for (const [name, text] of [
    ['HEAD', 'ref: refs/heads/main\n'],
    ['config', '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n'],
  ] as const) {
    if (!existsSync(join(gitDir, name))) renameSync(writeTempFile(join(gitDir, name), text, 0o644), join(gitDir, name));
  }
}

/** Links every loose object and pack of `fromObjects` into `toObjects` that is not there; returns how many files. */
function linkObjects(fromObjects: string, toObjects: string): number {
  let n = 0;
  mkdirSync(join(toObjects, 'pack'), { recursive: true });
  for (const fan of readdirSync(fromObjects)) {
    if (!/^[0-9a-f]{2}$/.test(fan)) continue;
    for (const name of readdirSync(join(fromObjects, fan))) {
      if (!/^[0-9a-f]{38}$/.test(name) || existsSync(join(toObjects, fan, name))) continue;
      if (linkOrCopy(join(fromObjects, fan, name), join(toObjects, fan, name))) n++;
    }
  }
  const packs = readdirSync(join(fromObjects, 'pack'));
  // Each pack before its index, as git writes them: a reader never sees an index without its pack.
  for (const name of packs.filter((p) => p.endsWith('.pack')).concat(packs.filter((p) => p.endsWith('.idx')))) {
    if (!existsSync(join(toObjects, 'pack', name)) && linkOrCopy(join(fromObjects, 'pack', name), join(toObjects, 'pack', name))) n++;
  }
  return n;
}

/** Copies the files of `from` missing in `to` (creating it); returns how many. */
function copyMissing(from: string, to: string): number {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(from);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.endsWith('.json') || existsSync(join(to, name))) continue;
    // A link is safe: run records are rewritten through a temp file and a rename, never in place.
    if (linkOrCopy(join(from, name), join(to, name))) n++;
  }
  return n;
}

