/**
 * Diff and restore of the working tree against a checkpoint (S1.8), on top of the engine.
 * Both refresh the index first, so they see every write made before the request.
 */
import { ShadowError } from '../../shared/errors.js';
import type { RestoreResult } from './applyRestore.js';
import { applyRestore } from './applyRestore.js';
import type { FlatTreeDiff } from './diffFlatTrees.js';
import { diffFlatTrees } from './diffFlatTrees.js';
import type { FlatTree } from './flatTree.js';
import type { IgnoreRules } from './ignoreRules.js';
import { readerFromMap } from './ignoreRules.js';
import { planRestore } from './restorePlan.js';
import type { SnapshotEngine } from './snapshotEngine.js';
import { REFS } from './snapshotEngine.js';
import { splitPath } from './snapshotIndex.js';

/** A diff result naming the checkpoint compared. */
export interface WorkingTreeDiff extends FlatTreeDiff {
  checkpoint: string;
}

/** A restore result with the checkpoint and the undo snapshot. */
export interface WorkingTreeRestore extends RestoreResult {
  checkpoint: string;
  preRestore: string;
}

/** Resolves `spec`, or the newest checkpoint when absent. */
async function resolveOrLatest(engine: SnapshotEngine, spec: string | undefined): Promise<string> {
  if (spec) return (await engine.reader.resolve(spec)).commit;
  // The undo chain records states *before* restores: "the latest checkpoint" means the user's.
  const latest = await engine.reader.newestHead([REFS.undo]);
  if (!latest) throw new ShadowError('CHECKPOINT_NOT_FOUND', 'No checkpoint yet in this workspace: take one with `shadowctl checkpoint`', {});
  return latest.commit;
}

/** Paths added, modified, deleted and mode-changed in the working tree since a checkpoint. */
export function diffWorkingTree(engine: SnapshotEngine, spec?: string): Promise<WorkingTreeDiff> {
  return engine.exclusive(async () => {
    const commit = await resolveOrLatest(engine, spec);
    const target = await engine.reader.readFlatTree((await engine.reader.readCommit(commit)).tree);
    await engine.refresh();
    return { checkpoint: commit, ...diffFlatTrees(target, engine.index.flat()) };
  });
}

/** The ignore rules recorded in a checkpoint: its `.gitignore` files with today's other sources. */
async function rulesOfTree(engine: SnapshotEngine, live: IgnoreRules, tree: FlatTree): Promise<IgnoreRules> {
  const texts = new Map<string, string>();
  for (const [path, entry] of tree) {
    const [dir, name] = splitPath(path);
    if (name === '.gitignore' && entry.mode !== '120000') texts.set(dir, Buffer.from(await engine.reader.readBlob(entry.oid)).toString('utf8'));
  }
  return live.withIgnoreFiles(readerFromMap(texts));
}

/**
 * Makes the working tree (or `paths` of it) equal to a checkpoint. The current state is first
 * committed on refs/shadow/undo (kind pre-abort), so the restore itself can be undone (S5.4).
 */
export function restoreWorkingTree(engine: SnapshotEngine, live: IgnoreRules, spec: string, paths?: string[]): Promise<WorkingTreeRestore> {
  return engine.exclusive(async () => {
    const commit = (await engine.reader.resolve(spec)).commit;
    const target = await engine.reader.readFlatTree((await engine.reader.readCommit(commit)).tree);
    const targetRules = await rulesOfTree(engine, live, target);
    const pre = await engine.commitWorkingTree(REFS.undo, `before restore to ${commit.slice(0, 12)}`, { kind: 'pre-abort', reason: 'restore' });
    const plan = planRestore({
      target,
      current: engine.index.flat(),
      uncaptured: engine.scanner.uncaptured,
      isIgnoredNow: (p, isDir) => live.isIgnoredDeep(p, isDir),
      isIgnoredInTarget: (p, isDir) => targetRules.isIgnoredDeep(p, isDir),
      ...(paths ? { paths } : {}),
    });
    const result = await applyRestore(engine.layout.workspace, plan, (oid) => engine.reader.readBlob(oid));
    // Re-read what the restore touched so the index (and the next checkpoint) match the disk.
    const touched = new Set<string>();
    for (const p of [...result.restored, ...result.removed]) {
      touched.add(p);
      for (let d = splitPath(p)[0]; d !== ''; d = splitPath(d)[0]) touched.add(d);
    }
    engine.scanner.scanPaths(touched);
    return { checkpoint: commit, preRestore: pre.commit, ...result };
  });
}
