import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { CancellationLog } from '../../shared/methods/index.js';
import type { DaemonContext } from './daemonContext.js';

/** `log.cancellations`: cancellation log entries, newest first, optionally of one run (S5.8). */
export async function handleCancellationLog(ctx: DaemonContext, params: ParsedParamsOf<typeof CancellationLog>): Promise<ResultOf<typeof CancellationLog>> {
  return { entries: await ctx.runs.cancellations.read(params.n, params.run) };
}
