import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import { ShadowError } from '../../shared/errors.js';
import type { Undo } from '../../shared/methods/index.js';
import { journaledRestore } from '../store/journaledRestore.js';
import { REFS } from '../store/snapshotEngine.js';
import type { DaemonContext } from './daemonContext.js';

/**
 * `undo` (S5.4): restores the newest pre-abort snapshot exactly, journaled like any restore. The
 * state before the undo becomes the newest pre-abort in turn, so a second undo redoes.
 */
export function handleUndo(ctx: DaemonContext, _params: ParsedParamsOf<typeof Undo>): Promise<ResultOf<typeof Undo>> {
  const { engine } = ctx;
  return engine.exclusive(async () => {
    const head = engine.refs.read(REFS.undo);
    if (!head) throw new ShadowError('CHECKPOINT_NOT_FOUND', `Nothing to undo in ${ctx.layout.workspace}: no cancel or restore has changed files yet`, { ref: REFS.undo });
    const r = await journaledRestore(engine, ctx.ignore, {
      commit: head,
      preAbort: { subject: `before undo to ${head.slice(0, 12)}`, meta: { kind: 'pre-abort', reason: 'undo' } },
      op: 'undo',
    });
    ctx.logger.info({ restoredTo: head, preRestore: r.preAbort, restored: r.restored.length, removed: r.removed.length }, 'undo');
    return { restoredTo: head, preRestore: r.preAbort, restored: r.restored, removed: r.removed, preserved: r.preserved };
  });
}
