import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import type { Resume } from '../../shared/methods/resume.js';
import { resumeRun } from '../runs/resumeRun.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.resume`: resume a run from its last checkpoint, its base or a phase, or discard it (S6.3, S6.4). */
export function handleResume(ctx: DaemonContext, params: ParsedParamsOf<typeof Resume>): Promise<ResultOf<typeof Resume>> {
  return resumeRun(ctx.runs, params);
}
