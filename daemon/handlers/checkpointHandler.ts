import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { Checkpoint } from '../../shared/methods/index.js';
import { REFS } from '../store/snapshotEngine.js';
import type { DaemonContext } from './daemonContext.js';

/** `checkpoint`: commits the working tree on refs/shadow/manual (runs come with issue 3). */
export async function handleCheckpoint(ctx: DaemonContext, params: ParsedParamsOf<typeof Checkpoint>): Promise<ResultOf<typeof Checkpoint>> {
  const { engine } = ctx;
  const c = await engine.exclusive(() => engine.commitWorkingTree(REFS.manual, params.message ?? 'checkpoint', { kind: 'checkpoint' }));
  ctx.logger.info({ commit: c.commit, files: c.files, hashed: c.hashed, rescanned: c.rescanned }, 'checkpoint');
  return { commit: c.commit, tree: c.tree, ref: c.ref, run: c.run, files: c.files, hashed: c.hashed, rescanned: c.rescanned, uncaptured: c.uncaptured };
}
