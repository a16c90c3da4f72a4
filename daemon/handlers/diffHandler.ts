import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { Diff } from '../../shared/methods/index.js';
import { diffWorkingTree } from '../store/workingTreeOps.js';
import type { DaemonContext } from './daemonContext.js';

/** `diff`: the working tree against a checkpoint (default: the newest). */
export function handleDiff(ctx: DaemonContext, params: ParsedParamsOf<typeof Diff>): Promise<ResultOf<typeof Diff>> {
  return diffWorkingTree(ctx.engine, params.checkpoint);
}
