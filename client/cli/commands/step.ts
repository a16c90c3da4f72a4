/** `shadowctl step NAME [--artifact PATH]... [--run RUN]`: record a completed step and its artifacts (S7, S4.3). */
import { ShadowError } from '../../../shared/errors.js';
import { RunStep } from '../../../shared/methods/runProgress.js';
import type { Command, CommandResult } from '../command.js';
import { stringListOption } from '../parseArgs.js';
import { RUN_OPTION, runTarget } from '../runOptions.js';
import { toWorkspacePaths } from './restore.js';

/** The step command. */
export const command: Command = {
  spec: {
    name: 'step',
    usage: 'step NAME [--artifact PATH]... [--run RUN]',
    summary: 'Record a completed step of a run, with the files it produced.',
    description:
      'Artifact PATHs are relative to the current directory and must lie inside the workspace;\n' +
      'resuming checks they exist in the checkpoint. --json: { run, step, artifacts, steps }.',
    options: [{ long: 'artifact', short: 'a', type: 'string', value: 'PATH', multiple: true, description: 'a file the step produced (repeatable)' }, RUN_OPTION],
    minPositionals: 1,
    maxPositionals: 1,
    examples: ['shadowctl step compile --artifact build/app.js --artifact build/app.js.map'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const name = args.positionals[0]!;
    const artifacts = artifactPaths(stringListOption(args, 'artifact'), ctx.cwd, ctx.workspace);
    const client = await ctx.connect();
    try {
      const r = await client.request(RunStep, { ...runTarget(args, ctx.env), name, ...(artifacts.length ? { artifacts } : {}) });
      const files = r.artifacts.length ? ` (${r.artifacts.length} artifact${r.artifacts.length === 1 ? '' : 's'})` : '';
      return { json: r, lines: [`Run ${ctx.style.bold(r.run)}: step ${r.step} done${files}, ${r.steps} step${r.steps === 1 ? '' : 's'} so far`] };
    } finally {
      client.close();
    }
  },
};

/** Workspace-relative posix paths, in order, without duplicates; the workspace root itself is not a file (PATH_INVALID). */
export function artifactPaths(given: string[], cwd: string, workspace: string): string[] {
  const out: string[] = [];
  for (const p of given) {
    const rel = toWorkspacePaths([p], cwd, workspace)?.[0];
    if (rel === undefined) throw new ShadowError('PATH_INVALID', `Artifact ${p} names the workspace root, not a file`, { path: p, workspace });
    if (!out.includes(rel)) out.push(rel);
  }
  return out;
}
