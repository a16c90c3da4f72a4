/** Every IPC method, declared once. The daemon must handle each; the client calls through these. */
export { Hello } from './hello.js';
export { Status } from './status.js';
export { Checkpoint } from './checkpoint.js';
export { Log } from './log.js';
export { Diff } from './diff.js';
export { Restore } from './restore.js';
export { Shutdown } from './shutdown.js';
export { Subscribe } from './subscribe.js';
export { RunStart } from './runStart.js';
export { RunPhase, RunStep, RunUnsafe, RunError, RunFinish, RunRegister } from './runProgress.js';
export { RunGet } from './runGet.js';
export { Cancel } from './cancel.js';
export { Undo } from './undo.js';
export { CancellationLog } from './cancellationLog.js';
export { Resume, ResumeList } from './resume.js';
export { Gc } from './gc.js';

import { Hello } from './hello.js';
import { Status } from './status.js';
import { Checkpoint } from './checkpoint.js';
import { Log } from './log.js';
import { Diff } from './diff.js';
import { Restore } from './restore.js';
import { Shutdown } from './shutdown.js';
import { Subscribe } from './subscribe.js';
import { RunStart } from './runStart.js';
import { RunPhase, RunStep, RunUnsafe, RunError, RunFinish, RunRegister } from './runProgress.js';
import { RunGet } from './runGet.js';
import { Cancel } from './cancel.js';
import { Undo } from './undo.js';
import { CancellationLog } from './cancellationLog.js';
import { Resume, ResumeList } from './resume.js';
import { Gc } from './gc.js';

/** All methods, for the dispatcher and the protocol docs. */
export const ALL_METHODS = [
  Hello,
  Status,
  Checkpoint,
  Log,
  Diff,
  Restore,
  Shutdown,
  Subscribe,
  RunStart,
  RunPhase,
  RunStep,
  RunUnsafe,
  RunError,
  RunFinish,
  RunRegister,
  RunGet,
  Cancel,
  Undo,
  CancellationLog,
  Resume,
  ResumeList,
  Gc,
] as const;

/** Any declared method. */
export type AnyMethod = (typeof ALL_METHODS)[number];
/** The wire name of any declared method. */
export type MethodName = AnyMethod['name'];
