import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { Checkpoint } from '../../shared/methods/index.js';
import { checkpointRun } from '../runs/runProgress.js';
import { REFS } from '../store/snapshotEngine.js';
import type { DaemonContext } from './daemonContext.js';

/**
 * `checkpoint`: commits the working tree on the run's ref when a run is active (or named), which
 * resets its consecutive-error count (S4.3); otherwise on refs/shadow/manual.
 */
export async function handleCheckpoint(ctx: DaemonContext, params: ParsedParamsOf<typeof Checkpoint>): Promise<ResultOf<typeof Checkpoint>> {
  const { engine, runs } = ctx;
  const c = await engine.exclusive(async () => {
    const run = params.run ? runs.find(params.run) : runs.activeTopLevel();
    if (run) return checkpointRun(runs, run, params);
    return engine.commitWorkingTree(REFS.manual, params.message ?? 'checkpoint', { kind: 'checkpoint' });
  });
  ctx.logger.info({ commit: c.commit, ref: c.ref, run: c.run, files: c.files, hashed: c.hashed, rescanned: c.rescanned }, 'checkpoint');
  return { commit: c.commit, tree: c.tree, ref: c.ref, run: c.run, files: c.files, hashed: c.hashed, rescanned: c.rescanned, uncaptured: c.uncaptured };
}
