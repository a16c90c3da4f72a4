/** `shadowctl resume [--list] [--run RUN] [--yes | --restart | --from-phase P | --discard]`: pick up a stopped run (S7, S6). */
import { ShadowError } from '../../../shared/errors.js';
import type { ResultOf } from '../../../shared/defineMethod.js';
import type { ResumeMode } from '../../../shared/methods/resume.js';
import { Resume, ResumeList } from '../../../shared/methods/resume.js';
import type { Command, CommandContext, CommandResult } from '../command.js';
import { EXIT } from '../exitCodes.js';
import { shortOid } from '../output.js';
import type { ParsedArgs } from '../parseArgs.js';
import { stringOption } from '../parseArgs.js';
import type { ResumableRun, ResumeChoice } from '../resumePrompt.js';

/** The resume command. */
export const command: Command = {
  spec: {
    name: 'resume',
    usage: 'resume [--list] [--run RUN] [--yes | --restart | --from-phase P | --discard]',
    summary: 'Resume a cancelled, failed or interrupted run, or list the runs that can be resumed.',
    description:
      'Default run: the newest resumable one. Before the tree moves, the resume checks the run\n' +
      '(its checkpoint reads, its record is complete, every `step --artifact` is in the checkpoint;\n' +
      'else RESUME_INVALID naming what is missing, and nothing moves) and snapshots the current tree\n' +
      '(a pre-abort commit: `git log --all`, `shadowctl undo`). The run is then running again.\n' +
      '  --yes             continue from the last checkpoint\n' +
      "  --restart         go back to the run's base (same name, phases and time limit)\n" +
      '  --from-phase P    go to the checkpoint at the end of the phase before P\n' +
      "  --discard         drop the run's record, report and refs/shadow/runs/<id>; the tree stays\n" +
      'On a terminal with none of these, resume shows the run and asks. --json: { run, mode, status,\n' +
      'plan: { completed, remaining, next, progress }, restoredTo, preAbort, deletedRefs };\n' +
      'with --list: { runs: [{ id, name, status, reason, progress, ... }] }, newest first.',
    options: [
      { long: 'list', type: 'boolean', description: 'list resumable runs, newest first, with progress' },
      { long: 'run', type: 'string', value: 'RUN', description: 'the run to resume (default: the newest resumable)' },
      { long: 'yes', short: 'y', type: 'boolean', description: 'continue from the last checkpoint without asking' },
      { long: 'restart', type: 'boolean', description: "restart from the run's base" },
      { long: 'from-phase', type: 'string', value: 'P', description: 'start from phase P' },
      { long: 'discard', type: 'boolean', description: "drop the run's state and refs" },
    ],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl resume --list', 'shadowctl resume --yes', 'shadowctl resume --run r20250131140211-3f9c --from-phase data', 'shadowctl resume --discard'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const runId = stringOption(args, 'run');
    if (args.values.list) {
      if (chosenMode(args)) throw new ShadowError('USAGE', 'resume: --list takes no resume option', { command: 'resume' });
      return list(ctx);
    }
    let choice: ResumeChoice = chosenMode(args);
    // Checked before connecting: a usage error must not start a daemon.
    const interactive = process.stdin.isTTY && process.stdout.isTTY && args.values.json !== true;
    if (!choice && !interactive) {
      throw new ShadowError(
        'USAGE',
        'resume: say how to resume: --yes (continue from the last checkpoint), --restart (from the base), --from-phase P, or --discard; on a terminal, resume asks',
        { command: 'resume' },
      );
    }
    const client = await ctx.connect();
    try {
      if (!choice) {
        const { runs } = await client.request(ResumeList, {});
        const run = runId ? runs.find((r) => r.id === runId) : runs[0];
        if (!run) return nothingToResume(ctx, runId);
        const { promptResume } = await import('../resumePrompt.js');
        choice = await promptResume(run, process.stdin, process.stdout);
        if (!choice) return { json: { run: run.id, mode: null }, lines: ['Nothing done.'], exitCode: EXIT.nothing };
        return answer(await client.request(Resume, { run: run.id, ...choice }), ctx);
      }
      return answer(await client.request(Resume, { ...(runId ? { run: runId } : {}), ...choice }), ctx);
    } finally {
      client.close();
    }
  },
};

/** The mode the options name, or null; two of them at once is a usage error. */
function chosenMode(args: ParsedArgs): { mode: ResumeMode; phase?: string } | null {
  const phase = stringOption(args, 'from-phase');
  const picked: { mode: ResumeMode; phase?: string }[] = [];
  if (args.values.yes) picked.push({ mode: 'continue' });
  if (args.values.restart) picked.push({ mode: 'restart' });
  if (phase !== undefined) picked.push({ mode: 'from_phase', phase });
  if (args.values.discard) picked.push({ mode: 'discard' });
  if (picked.length > 1) throw new ShadowError('USAGE', 'resume: choose one of --yes, --restart, --from-phase, --discard', { command: 'resume', modes: picked.map((p) => p.mode) });
  return picked[0] ?? null;
}

/** `--list`. */
async function list(ctx: CommandContext): Promise<CommandResult> {
  const client = await ctx.connect();
  try {
    const r = await client.request(ResumeList, {});
    if (!r.runs.length) return { json: r, lines: [`No resumable run in ${ctx.workspace}.`] };
    return { json: r, lines: r.runs.map(listLine) };
  } finally {
    client.close();
  }
}

/** One line of `--list`: id, name, status (reason), phases k/n, steps, percent. */
function listLine(run: ResumableRun): string {
  const p = run.progress;
  return `${run.id}  ${run.name}  ${run.status}${run.reason ? ` (${run.reason})` : ''}  phases ${p.phases.completed}/${p.phases.total}  steps ${p.steps.completed}  ${p.percent}%`;
}

/** No resumable run (or not the one named): exit 3. */
function nothingToResume(ctx: CommandContext, runId: string | undefined): CommandResult {
  const text = runId ? `Run ${runId} cannot be resumed (not found or not resumable).` : `Nothing to resume: no resumable run in ${ctx.workspace}.`;
  return { json: { run: runId ?? null, reason: 'no_resumable_run', message: text }, lines: [text], exitCode: EXIT.nothing };
}

/** Human lines for a resume's answer. */
function answer(r: ResultOf<typeof Resume>, ctx: CommandContext): CommandResult {
  if (r.mode === 'discard') return { json: r, lines: [`Run ${ctx.style.bold(r.run)} discarded${r.deletedRefs.length ? ` (deleted ${r.deletedRefs.join(', ')})` : ''}`] };
  const plan = r.plan!;
  return {
    json: r,
    lines: [
      `Run ${ctx.style.bold(r.run)} ${r.status} again (${r.mode}): tree at ${shortOid(r.restoredTo ?? '')}, previous state saved as ${shortOid(r.preAbort ?? '')} (shadowctl undo)`,
      `Done: ${plan.completed.join(', ') || '(nothing)'}; next: ${plan.next ?? '(no phases)'}; remaining: ${plan.remaining.join(', ') || '(none)'}; ${plan.progress.percent}%`,
    ],
  };
}
