import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { RunPhase } from '../../shared/methods/index.js';
import { enterPhase } from '../runs/runProgress.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.phase`: enter a phase, ending the previous one with a phase-end checkpoint (S4.3). */
export function handleRunPhase(ctx: DaemonContext, params: ParsedParamsOf<typeof RunPhase>): Promise<ResultOf<typeof RunPhase>> {
  return enterPhase(ctx.runs, params);
}
