import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { Log } from '../../shared/methods/index.js';
import { userShadowRef } from '../store/userShadowRef.js';
import type { DaemonContext } from './daemonContext.js';

/** `log`: checkpoints newest first, across every shadow ref or one. */
export async function handleLog(ctx: DaemonContext, params: ParsedParamsOf<typeof Log>): Promise<ResultOf<typeof Log>> {
  // Checked before any read: the name becomes a path below the git dir.
  const ref = params.ref ? userShadowRef(params.ref) : undefined;
  const items = await ctx.engine.exclusive(() => ctx.engine.reader.log(params.n, ref));
  return {
    entries: items.map((c) => ({
      commit: c.commit,
      tree: c.tree,
      parents: c.parents,
      time: c.time,
      subject: c.subject,
      kind: c.meta.kind,
      run: c.meta.run,
      reason: c.meta.reason,
      ref: c.ref,
    })),
  };
}
