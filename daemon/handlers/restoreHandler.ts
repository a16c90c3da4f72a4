import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { Restore } from '../../shared/methods/index.js';
import { validateTreePath } from '../store/validateTreePath.js';
import { restoreWorkingTree } from '../store/workingTreeOps.js';
import type { DaemonContext } from './daemonContext.js';

/** `restore`: the working tree, or some paths of it, back to a checkpoint (S1.8). */
export async function handleRestore(ctx: DaemonContext, params: ParsedParamsOf<typeof Restore>): Promise<ResultOf<typeof Restore>> {
  let paths: string[] | undefined;
  if (params.paths) {
    // Client paths are workspace-relative; anything escaping it is refused before any work.
    paths = params.paths.map((p) => p.replace(/^\.\/+/, '').replace(/\/+$/, ''));
    if (paths.some((p) => p === '' || p === '.')) paths = undefined;
    else for (const p of paths) validateTreePath(p);
  }
  const r = await restoreWorkingTree(ctx.engine, ctx.ignore, params.checkpoint, paths);
  ctx.logger.info({ checkpoint: r.checkpoint, restored: r.restored.length, removed: r.removed.length, preserved: r.preserved.length }, 'restore');
  return { checkpoint: r.checkpoint, preRestore: r.preRestore, restored: r.restored, removed: r.removed, preserved: r.preserved };
}
