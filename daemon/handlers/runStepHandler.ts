import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { RunStep } from '../../shared/methods/index.js';
import { completeStep } from '../runs/runProgress.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.step`: record a completed step and its artifacts (S4.3). */
export function handleRunStep(ctx: DaemonContext, params: ParsedParamsOf<typeof RunStep>): Promise<ResultOf<typeof RunStep>> {
  return completeStep(ctx.runs, params);
}
