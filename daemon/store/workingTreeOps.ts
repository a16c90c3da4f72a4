/**
 * Diff and restore of the working tree against a checkpoint (S1.8), on top of the engine.
 * Both refresh the index first, so they see every write made before the request.
 */
import { ShadowError } from '../../shared/errors.js';
import type { RestoreResult } from './applyRestore.js';
import type { FlatTreeDiff } from './diffFlatTrees.js';
import { diffFlatTrees } from './diffFlatTrees.js';
import type { IgnoreRules } from './ignoreRules.js';
import { journaledRestore } from './journaledRestore.js';
import type { SnapshotEngine } from './snapshotEngine.js';
import { REFS } from './snapshotEngine.js';

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

/**
 * Makes the working tree (or `paths` of it) equal to a checkpoint. The current state is first
 * committed on refs/shadow/undo (kind pre-abort), so the restore itself can be undone (S5.4),
 * and the restore is journaled so a crash in the middle is completed at the next start (S2.5).
 */
export function restoreWorkingTree(engine: SnapshotEngine, live: IgnoreRules, spec: string, paths?: string[]): Promise<WorkingTreeRestore> {
  return engine.exclusive(async () => {
    const commit = (await engine.reader.resolve(spec)).commit;
    const r = await journaledRestore(engine, live, {
      commit,
      paths: paths ?? null,
      preAbort: { subject: `before restore to ${commit.slice(0, 12)}`, meta: { kind: 'pre-abort', reason: 'restore' } },
      op: 'restore',
    });
    return { checkpoint: commit, preRestore: r.preAbort, restored: r.restored, removed: r.removed, preserved: r.preserved };
  });
}
