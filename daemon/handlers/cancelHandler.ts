import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { Cancel } from '../../shared/methods/index.js';
import type { DaemonContext } from './daemonContext.js';

/** `cancel`: the cancel pipeline (S5); NO_ACTIVE_RUN (reason no_active_run) when nothing runs. */
export function handleCancel(ctx: DaemonContext, params: ParsedParamsOf<typeof Cancel>): Promise<ResultOf<typeof Cancel>> {
  return ctx.runs.cancel(params);
}
