/**
 * Retention (S1.7), on daemon start and on `gc`: prunes runs by policy (record, report, ref),
 * bounds the auto-snapshot chain, and in a plain workspace prunes unreachable loose objects.
 * Everything runs in the engine's queue, so no checkpoint or restore interleaves with it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ShadowConfig } from '../../shared/config.js';
import type { ResultOf } from '../../shared/defineMethod.js';
import type { Gc } from '../../shared/methods/index.js';
import { runRef } from '../../shared/runModel.js';
import { REPORTS_DIR } from '../runs/cancelReport.js';
import type { RunManager } from '../runs/runManager.js';
import type { SnapshotEngine } from '../store/snapshotEngine.js';
import type { WorkspaceLayout } from '../workspaceLayout.js';
import { compactAutoChain } from './autoChain.js';
import { pruneLooseObjects } from './pruneLooseObjects.js';
import { selectRunsToPrune } from './selectRunsToPrune.js';

/** What retention needs of the daemon. */
export interface GcContext {
  layout: WorkspaceLayout;
  config: ShadowConfig;
  engine: SnapshotEngine;
  runs: RunManager;
  logger: { info(obj: object, msg: string): void };
}

/** The result of a gc pass (the `gc` method's result). */
export type GcResult = ResultOf<typeof Gc>;

/** Applies the retention policy once, inside the engine's queue. */
export function collectGarbage(ctx: GcContext, now = Date.now()): Promise<GcResult> {
  const { engine, config, layout } = ctx;
  return engine.exclusive(async () => {
    const { prune, kept } = selectRunsToPrune(ctx.runs.list(), config.retention, now);
    const ids = prune.map((r) => r.id);
    // Refs first: a run record without its ref is unreadable, a ref without a record is harmless.
    const refsDeleted = engine.refs.delete(ids.map(runRef));
    if (refsDeleted.length) engine.forgetLatest();
    for (const id of ids) {
      ctx.runs.forget(id);
      rmSync(join(layout.stateDir, REPORTS_DIR, `${id}.md`), { force: true });
    }
    const chain = await compactAutoChain(engine, config.retention.maxAutoSnapshots);
    engine.autoChainLength = chain.kept;
    const objectsPruned = layout.kind === 'plain' ? await pruneLooseObjects(engine) : null;
    // Nested repositories' captures (#10.7): kept while a checkpoint on a ref names them; kept whole on any doubt.
    const nested = await engine.nested.prune(engine).catch((err: unknown) => ({ error: String(err) }));
    // The backup store follows: pruned refs and the objects only they reached go there too (issue #10.8).
    if (engine.backup) await engine.backup.prune(engine).catch((err: unknown) => ctx.logger.info({ err: String(err) }, 'backup store prune failed'));
    const result: GcResult = {
      runsPruned: ids,
      refsDeleted,
      autoSnapshotsDropped: chain.dropped,
      objectsPruned,
      kept: { runs: kept, autoSnapshots: chain.kept },
    };
    ctx.logger.info({ nested, runsPruned: ids.length, refsDeleted: refsDeleted.length, autoSnapshotsDropped: chain.dropped, objectsPruned, kept: result.kept }, 'gc');
    return result;
  });
}
