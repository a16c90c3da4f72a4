import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { RunFinish } from '../../shared/methods/index.js';
import { finishRun } from '../runs/runProgress.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.finish`: final checkpoint, status completed (S4.3). */
export function handleRunFinish(ctx: DaemonContext, params: ParsedParamsOf<typeof RunFinish>): Promise<ResultOf<typeof RunFinish>> {
  return finishRun(ctx.runs, params);
}
