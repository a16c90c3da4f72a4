import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { RunUnsafe } from '../../shared/methods/index.js';
import { markUnsafe } from '../runs/runProgress.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.unsafe`: open or close an unsafe section (S5.5). */
export function handleRunUnsafe(ctx: DaemonContext, params: ParsedParamsOf<typeof RunUnsafe>): ResultOf<typeof RunUnsafe> {
  return markUnsafe(ctx.runs, params);
}
