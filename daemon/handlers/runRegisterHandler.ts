import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { RunRegister } from '../../shared/methods/index.js';
import { registerResources } from '../runs/runProgress.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.register`: processes, lock files and temp paths the run owns (S4.1, S5.6). */
export function handleRunRegister(ctx: DaemonContext, params: ParsedParamsOf<typeof RunRegister>): ResultOf<typeof RunRegister> {
  return registerResources(ctx.runs, params);
}
