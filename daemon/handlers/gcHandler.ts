import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { Gc } from '../../shared/methods/index.js';
import { collectGarbage } from '../gc/collectGarbage.js';
import type { DaemonContext } from './daemonContext.js';

/** `gc` (S1.7): applies the retention policy now, in the engine's queue. */
export function handleGc(ctx: DaemonContext, _params: ParsedParamsOf<typeof Gc>): Promise<ResultOf<typeof Gc>> {
  return collectGarbage(ctx);
}
