/**
 * Restores that survive a SIGKILL at any instant (S2.5). Before the first file is touched, a
 * journal `<stateDir>/journal.json` records the target and the pre-abort commit; it is deleted
 * once the restore is done. A daemon that finds a journal at start restores to its target again
 * before serving: a restore is idempotent (it compares the tree with the target afresh), so
 * redoing a half-applied one completes it, and the pre-abort commit still undoes it (S5.4).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ShadowError, toShadowError } from '../../shared/errors.js';
import { decodePathBytes } from '../../shared/pathBytes.js';
import { faultPoint } from '../faultPoint.js';
import { stateWriteFailed } from '../stateFolder.js';
import { writeTempFile } from '../writeTempFile.js';
import type { RestoreResult } from './applyRestore.js';
import { applyRestore, sweepRestoreTemps } from './applyRestore.js';
import type { CheckpointMeta } from './commitCodec.js';
import type { FlatTree } from './flatTree.js';
import type { IgnoreRules } from './ignoreRules.js';
import { readerFromMap } from './ignoreRules.js';
import { restorePerms } from './restorePerms.js';
import { comparePaths } from './diffFlatTrees.js';
import type { RestorePlan } from './restorePlan.js';
import { planRestore } from './restorePlan.js';
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
): (() => Promise<(RestoreJournalEntry & { result: RestoreResult }) | null>) | undefined {
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
    ...(paths ? { paths } : {}),
  });
  return { commit, target, plan };
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
  const result = await applyRestore(engine.layout.workspace, plan, (oid) => engine.reader.readBlob(oid), { perms });
  const chmod = restorePerms(engine.layout.workspace, target, perms, engine.index, plan, paths);
  if (chmod.changed.length || chmod.failed.length) {
    result.restored = [...result.restored, ...chmod.changed].sort(comparePaths);
    result.preserved = [...result.preserved, ...chmod.failed].sort((a, b) => comparePaths(a.path, b.path));
  }
  // The files alone: the index creates and prunes their directories itself, and re-reading every
  // parent directory would cost a scan of each one's entries (S5.9). The watcher's events for
  // these writes come later and are checked like any others.
  await engine.scanner.scanPaths([...result.restored, ...result.removed]);
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
  const pre = await engine.commitWorkingTree(REFS.undo, req.preAbort.subject, req.preAbort.meta);
  req.onPreAbort?.(pre.commit);
  const planned = await planAgainstIndex(engine, live, req.commit, paths);
  const stateDir = engine.layout.stateDir;
  writeJournal(stateDir, { op: req.op, run: req.run ?? null, target: req.commit, preAbort: pre.commit, paths, startedAt: new Date().toISOString() });
  faultPoint('restore.journal-written');
  const result = await applyAndRescan(engine, planned, paths);
  engine.nested.restoreInto(result, req.commit, paths); // nested .git dirs and files (#10.7)
  clearJournal(stateDir);
  return { checkpoint: req.commit, preAbort: pre.commit, ...result };
}

/**
 * Completes a restore a crash interrupted (S2.5): restores to the journal's target again, with
 * no new pre-abort commit (the journal's own still holds the state before it), then removes the
 * journal. Returns the entry handled, or null when there was none. Must run inside `exclusive`.
 */
export async function recoverJournal(engine: SnapshotEngine, live: IgnoreRules): Promise<(RestoreJournalEntry & { result: RestoreResult }) | null> {
  const entry = readJournal(engine.layout.stateDir);
  if (!entry) return null;
  // Both commits must be readable before any file is touched: the target to restore at all, the
  // pre-abort so the completed restore can still be undone (S5.4). Either missing: refuse.
  await engine.reader.readFlatTree((await engine.reader.readCommit(entry.target)).tree);
  await engine.reader.readCommit(entry.preAbort);
  await engine.refresh();
  let planned = await planAgainstIndex(engine, live, entry.target, entry.paths);
  // A kill between a file's temp write and its rename left a `.shadow-tmp-*` beside it: remove, forget, plan again.
  const swept = sweepRestoreTemps(engine.layout.workspace, planned.plan);
  if (swept.length) {
    await engine.scanner.scanPaths(swept);
    planned = await planAgainstIndex(engine, live, entry.target, entry.paths);
  }
  const result = await applyAndRescan(engine, planned, entry.paths);
  engine.nested.restoreInto(result, entry.target, entry.paths); // nested .git dirs and files (#10.7)
  clearJournal(engine.layout.stateDir);
  return { ...entry, result };
}
