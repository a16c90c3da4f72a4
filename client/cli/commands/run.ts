/** `shadowctl run [--name N] [--phases a,b,c] [--timeout T] [--parent RUN] -- CMD [ARGS...]`: run a command as a run (S7, S4, S5.1, S6.6). */
import { ShadowError } from '../../../shared/errors.js';
import type { Command, CommandResult } from '../command.js';
import { passThrough } from '../exitCodes.js';
import { stringOption } from '../parseArgs.js';
import { RESUME_PHASE_ENV, RUN_ID_ENV, RUN_START_OPTIONS, runStartParams } from '../runOptions.js';
import { superviseRun } from '../runSupervisor.js';

/** The run command. */
export const command: Command = {
  spec: {
    name: 'run',
    usage: 'run [--name N] [--phases a,b,c] [--timeout T] [--parent RUN] [--resume [--run RUN]] -- CMD [ARGS...]',
    summary: 'Run a command as a run: a base checkpoint first, then its end decides what happens to the files.',
    description:
      `CMD runs without a shell, in its own process group, with ${RUN_ID_ENV} set (in the workspace when\n` +
      '-C is given, else here). Exit 0 completes the run. A failure cancels it (reason error: rollback)\n' +
      "and passes the command's exit code through. Ctrl+C cancels it (user_cancel: remove_all), exit 130;\n" +
      'SIGTERM interrupts it resumably (shutdown: keep_checkpoint), exit 143; past --timeout the daemon\n' +
      'stops the command and keeps a checkpoint (resumable), exit 124. A one-line summary goes to stderr.\n' +
      "--json: the command's stdout goes to stderr; stdout gets { run, status, reason, trigger, action,\n" +
      'resumable, exitCode, command, cancel, final, errors }.\n' +
      `--resume [--run RUN]: resume the run (default: the newest resumable) from its last checkpoint\n` +
      `instead of starting one, and run CMD with ${RUN_ID_ENV} and ${RESUME_PHASE_ENV} (the phase to resume in).`,
    options: [
      ...RUN_START_OPTIONS,
      { long: 'resume', type: 'boolean', description: 'resume a run from its last checkpoint instead of starting one' },
      { long: 'run', type: 'string', value: 'RUN', description: 'with --resume: the run to resume' },
    ],
    minPositionals: 0,
    maxPositionals: Infinity,
    examples: ['shadowctl run --name migrate --timeout 10m -- ./migrate.sh --all', "shadowctl run -- sh -c 'npm run codegen && npm test'"],
  },
  async run(args, ctx): Promise<CommandResult> {
    const resume = args.values.resume === true;
    const runId = stringOption(args, 'run');
    if (!resume && runId !== undefined) throw new ShadowError('USAGE', 'run: --run applies only with --resume', { command: 'run', option: 'run' });
    if (args.positionals.length === 0) throw new ShadowError('USAGE', 'run: missing command (shadowctl run [OPTIONS] -- CMD [ARGS...])', { command: 'run' });
    const start = { ...runStartParams(args, 'run'), command: args.positionals };
    // A resumed run keeps its own name, phases and time limit (S6.4).
    const given = RUN_START_OPTIONS.map((o) => o.long).filter((o) => args.values[o] !== undefined);
    if (resume && given.length) throw new ShadowError('USAGE', `run --resume keeps the run's settings: drop --${given.join(', --')}`, { command: 'run', options: given });
    const outcome = await superviseRun(ctx, start, { json: args.values.json === true, ...(resume ? { resume: runId === undefined ? {} : { run: runId } } : {}) });
    // The summary already went to stderr; stdout belongs to the command (or to the JSON object).
    return { json: outcome, lines: [], exitCode: passThrough(outcome.exitCode) };
  },
};
