import type { ResultOf } from '../../shared/defineMethod.js';
import type { ResumeList } from '../../shared/methods/resume.js';
import { listResumable } from '../runs/resumeRun.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.resumable`: resumable runs, newest first, with progress (S6.1). */
export function handleResumeList(ctx: DaemonContext): ResultOf<typeof ResumeList> {
  return listResumable(ctx.runs);
}
