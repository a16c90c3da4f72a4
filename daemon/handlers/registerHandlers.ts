/** Wires every declared method to its handler. */
import {
  Cancel,
  CancellationLog,
  Checkpoint,
  Diff,
  Gc,
  Log,
  Restore,
  RunError,
  RunFinish,
  RunGet,
  RunPhase,
  RunRegister,
  RunStart,
  RunStep,
  RunUnsafe,
  Shutdown,
  Status,
  Undo,
} from '../../shared/methods/index.js';
import { Resume, ResumeList } from '../../shared/methods/resume.js';
import { ShadowError } from '../../shared/errors.js';
import type { Dispatcher } from '../server/dispatcher.js';
import { handleCancel } from './cancelHandler.js';
import { handleCancellationLog } from './cancellationLogHandler.js';
import { handleCheckpoint } from './checkpointHandler.js';
import type { DaemonContext } from './daemonContext.js';
import { handleDiff } from './diffHandler.js';
import { handleGc } from './gcHandler.js';
import { handleLog } from './logHandler.js';
import { handleRestore } from './restoreHandler.js';
import { handleResume } from './resumeHandler.js';
import { handleResumeList } from './resumeListHandler.js';
import { handleRunError } from './runErrorHandler.js';
import { handleRunFinish } from './runFinishHandler.js';
import { handleRunGet } from './runGetHandler.js';
import { handleRunPhase } from './runPhaseHandler.js';
import { handleRunRegister } from './runRegisterHandler.js';
import { handleRunStart } from './runStartHandler.js';
import { handleRunStep } from './runStepHandler.js';
import { handleRunUnsafe } from './runUnsafeHandler.js';
import { handleStatus } from './statusHandler.js';
import { handleUndo } from './undoHandler.js';

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
  dispatcher.handle(RunStart, (p) => (guard(ctx), handleRunStart(ctx, p)));
  dispatcher.handle(RunPhase, (p) => (guard(ctx), handleRunPhase(ctx, p)));
  dispatcher.handle(RunStep, (p) => (guard(ctx), handleRunStep(ctx, p)));
  // Closing an unsafe section stays possible during shutdown: a cancel may be waiting for it.
  dispatcher.handle(RunUnsafe, (p) => (p.section === 'begin' && guard(ctx), handleRunUnsafe(ctx, p)));
  dispatcher.handle(RunError, (p) => (guard(ctx), handleRunError(ctx, p)));
  dispatcher.handle(RunFinish, (p) => (guard(ctx), handleRunFinish(ctx, p)));
  dispatcher.handle(RunRegister, (p) => (guard(ctx), handleRunRegister(ctx, p)));
  dispatcher.handle(RunGet, (p) => handleRunGet(ctx, p));
  dispatcher.handle(Cancel, (p) => (guard(ctx), handleCancel(ctx, p)));
  dispatcher.handle(Undo, (p) => (guard(ctx), handleUndo(ctx, p)));
  dispatcher.handle(CancellationLog, (p) => handleCancellationLog(ctx, p));
  dispatcher.handle(ResumeList, () => handleResumeList(ctx));
  dispatcher.handle(Resume, (p) => (guard(ctx), handleResume(ctx, p)));
  dispatcher.handle(Gc, (p) => (guard(ctx), handleGc(ctx, p)));
  const missing = dispatcher.missingHandlers();
  if (missing.length) throw new ShadowError('INTERNAL', `No handler for ${missing.join(', ')}`, { missing });
}
