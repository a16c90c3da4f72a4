/** Wires every declared method to its handler. */
import { Checkpoint, Diff, Log, Restore, Shutdown, Status } from '../../shared/methods/index.js';
import { ShadowError } from '../../shared/errors.js';
import type { Dispatcher } from '../server/dispatcher.js';
import { handleCheckpoint } from './checkpointHandler.js';
import type { DaemonContext } from './daemonContext.js';
import { handleDiff } from './diffHandler.js';
import { handleLog } from './logHandler.js';
import { handleRestore } from './restoreHandler.js';
import { handleStatus } from './statusHandler.js';

/** Refuses new work once the daemon is stopping. */
function guard(ctx: DaemonContext): void {
  if (ctx.isShuttingDown()) throw new ShadowError('SHUTTING_DOWN', `shadowd for ${ctx.layout.workspace} is shutting down`, { workspace: ctx.layout.workspace });
}

/** Registers the handlers; throws if a declared method is left without one. */
export function registerHandlers(dispatcher: Dispatcher, ctx: DaemonContext): void {
  dispatcher.handle(Status, () => handleStatus(ctx));
  dispatcher.handle(Checkpoint, (p) => (guard(ctx), handleCheckpoint(ctx, p)));
  dispatcher.handle(Log, (p) => handleLog(ctx, p));
  dispatcher.handle(Diff, (p) => (guard(ctx), handleDiff(ctx, p)));
  dispatcher.handle(Restore, (p) => (guard(ctx), handleRestore(ctx, p)));
  dispatcher.handle(Shutdown, () => {
    ctx.requestShutdown('shutdown request');
    return { pid: process.pid };
  });
  const missing = dispatcher.missingHandlers();
  if (missing.length) throw new ShadowError('INTERNAL', `No handler for ${missing.join(', ')}`, { missing });
}
