/**
 * The cleanup step of a cancel (S5.6) for one run: reads what must be protected (the run's base
 * checkpoint and the checkpoint the cancel restored) and hands the run's registered paths to
 * cleanupResources. Inside `exclusive`, right after the tree action, so nothing moves between.
 */
import type { CleanupResult } from './cleanupResources.js';
import { cleanupResources } from './cleanupResources.js';
import type { RunManager } from './runManager.js';
import type { RunRecord } from './runRecord.js';

/** Cleans up (or, with `dryRun`, plans the cleanup of) `run`'s lock files and temp paths. */
export async function cleanupRun(m: RunManager, run: RunRecord, restoredTo: string | null, dryRun = false): Promise<CleanupResult> {
  const { engine, layout, config } = m.opts;
  if (!run.lockFiles.length && !(config.autoCleanTemp && run.tempPaths.length)) return { tempPaths: [], lockFiles: [], kept: [] };
  const treeOf = async (commit: string) => engine.reader.readFlatTree((await engine.reader.readCommit(commit)).tree);
  const base = await treeOf(run.base);
  const target = restoredTo ? await treeOf(restoredTo) : null;
  return cleanupResources({
    root: layout.workspace,
    lockFiles: run.lockFiles,
    tempPaths: run.tempPaths,
    cleanTemp: config.autoCleanTemp,
    startedAt: run.fsStartedAt ?? run.startedAt,
    origins: run.resourceOrigins ?? {},
    base,
    target,
    dryRun,
  });
}
