/**
 * Restores that survive a SIGKILL at any instant (S2.5) and never trust the watcher (S1.1a).
 * Before the first file is touched, the whole tree is rescanned against the stat cache (the
 * watcher misses writes through mmap or another hard link), the result is committed as the
 * pre-abort commit, and a journal `<stateDir>/journal.json` records the target and that commit;
 * it is deleted once the restore is done. Each path is checked again right before it is written
 * or removed (applyRestore's `captured`): what changed since the pre-abort commit is left alone.
 *
 * A daemon that finds a journal at start completes the restore before serving, after a fresh
 * pre-abort commit of the tree as it finds it (the user may have edited files since the crash).
 * A path holding content that is neither the journal's pre-abort nor the target's was changed
 * after the crash: it is preserved, not restored. `undo` then restores that fresh pre-abort
 * (the tree as the restart found it); the journal's own pre-abort, the state before the
 * interrupted restore, is its parent on refs/shadow/undo.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ShadowError, toShadowError } from '../../shared/errors.js';
import { decodePathBytes, fsPath } from '../../shared/pathBytes.js';
import { faultPoint } from '../faultPoint.js';
import { stateWriteFailed } from '../stateFolder.js';
import { writeTempFile } from '../writeTempFile.js';
import type { RestoreResult } from './applyRestore.js';
import type { CapturedFile, CapturedLookup } from './pathRecheck.js';
import { CHANGED_DURING_RESTORE } from './pathRecheck.js';
import { applyRestore, sweepRestoreTemps } from './applyRestore.js';
import type { CheckpointMeta } from './commitCodec.js';
import { comparePaths } from './diffFlatTrees.js';
import type { FlatTree } from './flatTree.js';
import type { IgnoreRules } from './ignoreRules.js';
import { readerFromMap } from './ignoreRules.js';
import { lstatOrNull } from './lstatOrNull.js';
import { restorePerms } from './restorePerms.js';
import type { RestorePlan } from './restorePlan.js';
import { planRestore, scopeMatcher } from './restorePlan.js';
import type { ReplayTrees } from './replayUndoPoint.js';
import { changedAfterCrash, commitUndoPoint, undoTreeAfterReplay } from './replayUndoPoint.js';
import type { SnapshotEngine } from './snapshotEngine.js';
import { REFS } from './snapshotEngine.js';
import { splitPath } from './snapshotIndex.js';
import { validateTreePath } from './validateTreePath.js';

/** Name of the restore journal in the state folder. */
export const JOURNAL_FILE = 'journal.json';

/** What an interrupted restore needs to be completed (S2.5). */
export interface RestoreJournalEntry {
  /** What started the restore. */
  op: 'cancel' | 'undo' | 'restore';
  /** The run being cancelled, if any. */
  run: string | null;
  /** The commit the tree is being brought to. */
  target: string;
  /** The commit holding the state before the restore (on refs/shadow/undo). */
  preAbort: string;
  /** Path filters of a partial restore; null for the whole tree. */
  paths: string[] | null;
  /** ISO time the restore began. */
  startedAt: string;
}

/** The pre-abort snapshot a restore takes first: its subject and trailers. */
export interface PreAbortSpec {
  subject: string;
  meta: CheckpointMeta;
}

/** A planned restore of the whole tree (or `paths`) to `commit`, against the refreshed index. */
export interface PlannedRestore {
  commit: string;
  target: FlatTree;
  plan: RestorePlan;
}

/** What journaledRestore did. */
export interface JournaledRestoreResult extends RestoreResult {
  /** The commit restored. */
  checkpoint: string;
  /** The pre-abort commit taken first. */
  preAbort: string;
}

/** Path of the journal of a state folder. */
export function journalPath(stateDir: string): string {
  return join(stateDir, JOURNAL_FILE);
}

/**
 * The pending journal entry, or null. A journal that is not exactly what writeJournal writes
 * (truncated, garbage, a path escaping the workspace) is STATE_CORRUPT: never guess a restore.
 */
export function readJournal(stateDir: string): RestoreJournalEntry | null {
  const file = journalPath(stateDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ShadowError('STATE_CORRUPT', `Restore journal ${file} is unreadable: ${(err as Error).message}`, { file, errno: (err as NodeJS.ErrnoException).code }, { cause: err });
  }
  const corrupt = (why: string): never => {
    throw new ShadowError('STATE_CORRUPT', `Restore journal ${file} is corrupt: ${why}`, { file, why });
  };
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    return corrupt(`not JSON (${(err as Error).message})`);
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return corrupt('not an object');
  const { op, run, target, preAbort, paths, startedAt } = entry;
  if (op !== 'cancel' && op !== 'undo' && op !== 'restore') corrupt(`bad op ${JSON.stringify(op)}`);
  if (!(run === null || typeof run === 'string')) corrupt('bad run');
  if (!isOid(target)) corrupt('no target commit');
  // The pre-abort commit is what makes the restore undoable (S5.4): a journal without one is not ours.
  if (!isOid(preAbort)) corrupt('no pre-abort commit');
  if (typeof startedAt !== 'string') corrupt('bad startedAt');
  if (paths !== null) {
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) corrupt('bad paths');
    for (const p of paths as string[]) {
      try {
        validateTreePath(p);
      } catch (err) {
        corrupt(`path ${JSON.stringify(p)} is not inside the workspace (${(err as Error).message})`);
      }
    }
  }
  return { op: op as RestoreJournalEntry['op'], run: run as string | null, target: target as string, preAbort: preAbort as string, paths: paths as string[] | null, startedAt: startedAt as string };
}

function isOid(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{40}$/.test(value);
}

function writeJournal(stateDir: string, entry: RestoreJournalEntry): void {
  // Temp file + rename: a journal is either absent or whole, never half written.
  const write = (): void => renameSync(writeTempFile(journalPath(stateDir), JSON.stringify(entry)), journalPath(stateDir));
  try {
    write();
  } catch (err) {
    // A state folder deleted under the daemon is made again; ENOSPC and the like are coded (#10.13).
    rmSync(`${journalPath(stateDir)}.${process.pid}.tmp`, { force: true });
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw stateWriteFailed(journalPath(stateDir), err, 'write the restore journal');
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      write();
    } catch (again) {
      throw stateWriteFailed(journalPath(stateDir), again, 'write the restore journal');
    }
  }
}

function clearJournal(stateDir: string): void {
  try {
    unlinkSync(journalPath(stateDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Moves a journal that cannot be completed (its target unreadable, a corrupt file) aside, so the
 * daemon can still start; returns the new path. The pre-abort commit it names is still on
 * refs/shadow/undo, so `undo` brings back the state from before the restore.
 */
export function setJournalAside(stateDir: string): string {
  const aside = join(stateDir, `journal.failed-${Date.now()}.json`);
  renameSync(journalPath(stateDir), aside);
  return aside;
}

/**
 * The start-up half of S2.5: returns the recovery to queue before the first scan, or undefined
 * when there is no journal. A journal that cannot be trusted (corrupt, naming a missing commit or
 * a path outside the workspace) is never acted on: it is set aside, the working tree is left
 * exactly as it is, and `onRefused` gets the coded error and where the journal went (null when it
 * could not be moved; the next start then refuses it again, the same way).
 */
export function journalRecovery(
  engine: SnapshotEngine,
  live: IgnoreRules,
  onRefused: (err: ShadowError, aside: string | null) => void,
): (() => Promise<RecoveredJournal | null>) | undefined {
  const stateDir = engine.layout.stateDir;
  const refuse = (err: unknown): null => {
    let aside: string | null = null;
    try {
      aside = setJournalAside(stateDir);
    } catch {
      // Left in place: refused again at the next start, never applied.
    }
    onRefused(toShadowError(err, { file: journalPath(stateDir) }), aside);
    return null;
  };
  try {
    if (!readJournal(stateDir)) return undefined;
  } catch (err) {
    refuse(err);
    return undefined;
  }
  return () => recoverJournal(engine, live).catch(refuse);
}

/** The ignore rules recorded in a checkpoint: its `.gitignore` files with today's other sources. */
export async function rulesOfTree(engine: SnapshotEngine, live: IgnoreRules, tree: FlatTree): Promise<IgnoreRules> {
  const texts = new Map<string, string>();
  for (const [path, entry] of tree) {
    const [dir, name] = splitPath(path);
    if (name === '.gitignore' && entry.mode !== '120000') texts.set(dir, decodePathBytes(await engine.reader.readBlob(entry.oid)));
  }
  return live.withIgnoreFiles(readerFromMap(texts));
}

/** Plans a restore to `commit` against the index as it is now. Must run inside `exclusive`, after a refresh. */
async function planAgainstIndex(engine: SnapshotEngine, live: IgnoreRules, commit: string, paths: string[] | null): Promise<PlannedRestore> {
  const target = await engine.reader.readFlatTree((await engine.reader.readCommit(commit)).tree);
  const targetRules = await rulesOfTree(engine, live, target);
  const plan = planRestore({
    target,
    current: engine.index.flat(),
    uncaptured: engine.scanner.uncaptured,
    isIgnoredNow: (p, isDir) => live.isIgnoredDeep(p, isDir),
    isIgnoredInTarget: (p, isDir) => targetRules.isIgnoredDeep(p, isDir),
    onDisk: (p) => existsAt(engine.layout.workspace, p),
    ...(paths ? { paths } : {}),
  });
  return { commit, target, plan };
}

/**
 * The index's records of the paths a plan touches, copied now (the index changes as the restore
 * rescans): what the pre-abort commit just captured, for applyRestore's per-path check.
 */
function capturedOf(engine: SnapshotEngine, plan: RestorePlan): CapturedLookup {
  const records = new Map<string, CapturedFile>();
  for (const path of [...plan.remove, ...plan.write.map((w) => w.path)]) {
    const r = engine.index.get(path);
    if (r) records.set(path, { mode: r.mode, oid: r.oid, size: r.size, mtimeMs: r.mtimeMs, ctimeMs: r.ctimeMs, ino: r.ino, hashedAt: r.hashedAt });
  }
  return (path) => records.get(path) ?? null;
}

/**
 * Commits the whole tree on refs/shadow/undo after a full stat rescan against the cache (S1.1a):
 * the watcher is a hint, not a proof (writes through mmap or another hard link raise no event),
 * and a restore destroys what the pre-abort commit does not hold. Must run inside `exclusive`.
 */
async function verifiedPreAbort(engine: SnapshotEngine, spec: PreAbortSpec): Promise<string> {
  engine.watcher.requestRescan('verify before a restore');
  faultPoint('restore.before-verify');
  const pre = await engine.commitWorkingTree(REFS.undo, spec.subject, spec.meta);
  faultPoint('restore.pre-abort-taken');
  return pre.commit;
}

/** Refreshes the index and plans a restore to `commit`, changing nothing (dry runs, S5.12). Must run inside `exclusive`. */
export async function planRestoreTo(engine: SnapshotEngine, live: IgnoreRules, commit: string, paths: string[] | null = null): Promise<PlannedRestore> {
  await engine.refresh();
  return planAgainstIndex(engine, live, commit, paths);
}

/** Applies a plan and re-reads what it touched so the index (and the next checkpoint) match the disk. */
async function applyAndRescan(engine: SnapshotEngine, planned: PlannedRestore, paths: string[] | null): Promise<RestoreResult> {
  const { plan, target } = planned;
  const perms = (await engine.reader.readCommit(planned.commit)).perms;
  const captured = capturedOf(engine, plan);
  const result = await applyRestore(engine.layout.workspace, plan, (oid) => engine.reader.readBlob(oid), { perms, captured });
  const chmod = restorePerms(engine.layout.workspace, target, perms, engine.index, plan, paths);
  if (chmod.changed.length || chmod.failed.length) {
    result.restored = [...result.restored, ...chmod.changed].sort(comparePaths);
    result.preserved = [...result.preserved, ...chmod.failed].sort((a, b) => comparePaths(a.path, b.path));
  }
  // The files alone: the index creates and prunes their directories itself, and re-reading every
  // parent directory would cost a scan of each one's entries (S5.9). The watcher's events for
  // these writes come later and are checked like any others.
  await engine.scanner.scanPaths([...result.restored, ...result.removed]);
  // Written files that today's rules hide (the checkpoint's .gitignore did not): captured from now
  // on, so an `undo` takes them away again rather than leaving them as ignored leftovers.
  const hidden = engine.noteRestored(result.restored, result.removed);
  if (hidden.length) await engine.scanner.scanPaths(hidden);
  return result;
}

/**
 * Makes the working tree (or `paths` of it) equal to `commit`: a pre-abort commit on
 * refs/shadow/undo first (S5.4), then the journal, the restore, and the journal's removal.
 * Must run inside `exclusive`.
 */
export async function journaledRestore(
  engine: SnapshotEngine,
  live: IgnoreRules,
  req: { commit: string; paths?: string[] | null; preAbort: PreAbortSpec; op: RestoreJournalEntry['op']; run?: string | null; onPreAbort?: (commit: string) => void },
): Promise<JournaledRestoreResult> {
  const paths = req.paths ?? null;
  // Read the target before committing anything: an unreadable checkpoint must not leave a pre-abort behind.
  await engine.reader.readFlatTree((await engine.reader.readCommit(req.commit)).tree);
  const pre = await verifiedPreAbort(engine, req.preAbort);
  req.onPreAbort?.(pre);
  const planned = await planAgainstIndex(engine, live, req.commit, paths);
  const stateDir = engine.layout.stateDir;
  writeJournal(stateDir, { op: req.op, run: req.run ?? null, target: req.commit, preAbort: pre, paths, startedAt: new Date().toISOString() });
  faultPoint('restore.journal-written');
  const result = await applyAndRescan(engine, planned, paths);
  engine.nested.restoreInto(result, req.commit, paths); // nested .git dirs and files (#10.7)
  clearJournal(stateDir);
  return { checkpoint: req.commit, preAbort: pre, ...result };
}

/**
 * A journal entry completed at start-up, what its replay did, the pre-abort the replay took
 * first, and the commit `undo` now restores (see replayUndoPoint.ts).
 */
export type RecoveredJournal = RestoreJournalEntry & { result: RestoreResult; replayPreAbort: string; undoPoint: string };

/**
 * Completes a restore a crash interrupted (S2.5): removes the temp files a kill left, takes a
 * fresh verified pre-abort commit of the tree as found (it holds whatever the user wrote after
 * the crash; its parent on refs/shadow/undo is the journal's pre-abort), restores to the
 * journal's target again, leaving alone every path whose content is neither the journal's
 * pre-abort nor the target's, then removes the journal. Returns null when there was none.
 * Must run inside `exclusive`.
 */
export async function recoverJournal(engine: SnapshotEngine, live: IgnoreRules): Promise<RecoveredJournal | null> {
  const entry = readJournal(engine.layout.stateDir);
  if (!entry) return null;
  // Both commits must be readable before any file is touched: the target to restore at all, the
  // pre-abort so the completed restore can still be undone (S5.4). Either missing: refuse.
  const target = await engine.reader.readFlatTree((await engine.reader.readCommit(entry.target)).tree);
  const before = await engine.reader.readFlatTree((await engine.reader.readCommit(entry.preAbort)).tree);
  // A kill between a file's temp write and its rename left a `.shadow-tmp-*` beside one of the
  // target's paths (the target's bytes, in the store): remove it before the pre-abort commit
  // could capture it. The scan below never saw it: no refresh has run yet.
  const inScope = scopeMatcher(entry.paths ?? undefined);
  sweepRestoreTemps(engine.layout.workspace, [...target.keys()].filter(inScope));
  const replayPreAbort = await verifiedPreAbort(engine, {
    subject: `before completing an interrupted ${entry.op} to ${entry.target.slice(0, 12)}`,
    meta: { kind: 'pre-abort', run: entry.run, reason: `replay of ${entry.op}` },
  });
  faultPoint('replay.pre-abort-taken');
  const trees: ReplayTrees = { before, target, found: engine.index.flat(), inScope };
  const planned = await planAgainstIndex(engine, live, entry.target, entry.paths);
  const result = await applyAndRescan(engine, { ...planned, plan: keepLaterEdits(planned.plan, trees) }, entry.paths);
  engine.nested.restoreInto(result, entry.target, entry.paths); // nested .git dirs and files (#10.7)
  // `undo` now brings back the state before the interrupted restore, edits made since the crash kept.
  const undoPoint = commitUndoPoint(engine, undoTreeAfterReplay(trees), replayPreAbort, `undo point of the interrupted ${entry.op}: the state before it, with the edits made after the crash`, {
    kind: 'pre-abort',
    run: entry.run,
    reason: `replay of ${entry.op}`,
  });
  clearJournal(engine.layout.stateDir);
  return { ...entry, result, replayPreAbort, undoPoint };
}

/**
 * The replay's plan without the paths changed after the crash: a path the interrupted restore
 * would touch holds either what it held before (the journal's pre-abort) or what the restore
 * already wrote (the target); anything else there was written since, and is preserved.
 */
function keepLaterEdits(plan: RestorePlan, trees: ReplayTrees): RestorePlan {
  // A path absent now loses nothing when written: only what stands on disk is kept.
  const later = new Set([...plan.remove, ...plan.write.map((w) => w.path)].filter((p) => trees.found.has(p) && changedAfterCrash(trees, p)));
  if (later.size === 0) return plan;
  const preserved = [...plan.preserved, ...[...later].map((path) => ({ path, reason: CHANGED_DURING_RESTORE }))].sort((a, b) => comparePaths(a.path, b.path));
  return { write: plan.write.filter((w) => !later.has(w.path)), remove: plan.remove.filter((p) => !later.has(p)), preserved };
}


/** Whether anything (file, symlink, directory) is at a workspace path; never follows the last component. */
function existsAt(root: string, path: string): boolean {
  return lstatOrNull(fsPath(root, path)) !== null;
}
