import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import { ShadowError } from '../../shared/errors.js';
import type { RunGet } from '../../shared/methods/index.js';
import type { DaemonContext } from './daemonContext.js';

/** `run.get`: a run in full; default the active top-level run, else the newest one. */
export function handleRunGet(ctx: DaemonContext, params: ParsedParamsOf<typeof RunGet>): ResultOf<typeof RunGet> {
  const run = params.run ? ctx.runs.find(params.run) : (ctx.runs.activeTopLevel() ?? ctx.runs.list().at(-1));
  if (!run) throw new ShadowError('RUN_NOT_FOUND', `No run yet in ${ctx.layout.workspace}`, { workspace: ctx.layout.workspace });
  return { run: structuredClone(run) };
}
