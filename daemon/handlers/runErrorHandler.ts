import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { RunError } from '../../shared/methods/index.js';
import { reportError } from '../runs/runProgress.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.error`: count an error; the threshold cancels the run with reason error (S5.1). */
export function handleRunError(ctx: DaemonContext, params: ParsedParamsOf<typeof RunError>): Promise<ResultOf<typeof RunError>> {
  return reportError(ctx.runs, params);
}
