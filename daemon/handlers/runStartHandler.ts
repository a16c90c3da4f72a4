import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { RunStart } from '../../shared/methods/index.js';
import { startRun } from '../runs/runProgress.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.start`: a new run with its base checkpoint (S4.2). */
export function handleRunStart(ctx: DaemonContext, params: ParsedParamsOf<typeof RunStart>): Promise<ResultOf<typeof RunStart>> {
  return startRun(ctx.runs, params);
}
