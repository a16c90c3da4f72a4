/** `shadowctl error [MESSAGE] [--run RUN]`: report an error; errorThreshold in a row cancel the run (S7, S5.1). */
import { RunError } from '../../../shared/methods/runProgress.js';
import { cancelLines, cancelWarnings } from '../cancelReport.js';
import type { Command, CommandResult } from '../command.js';
import { RUN_OPTION, runTarget } from '../runOptions.js';

/** The error command. */
export const command: Command = {
  spec: {
    name: 'error',
    usage: 'error [MESSAGE] [--run RUN]',
    summary: 'Report an error in a run; errorThreshold consecutive errors cancel it (reason error).',
    description: 'Words after the options form the message. --json: { run, errors, threshold, cancelled }\n(cancelled: the cancel result when this error reached the threshold, else null).',
    options: [RUN_OPTION],
    minPositionals: 0,
    maxPositionals: Infinity,
    examples: ['shadowctl error "tests failed: 3 of 120"'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const message = args.positionals.length ? args.positionals.join(' ') : undefined;
    const client = await ctx.connect();
    try {
      const r = await client.request(RunError, { ...runTarget(args, ctx.env), ...(message === undefined ? {} : { message }) });
      const lines = [`Run ${ctx.style.bold(r.run)}: error ${r.errors} of ${r.threshold} before it is cancelled`];
      if (!r.cancelled) return { json: r, lines };
      return { json: r, lines: [`Run ${ctx.style.bold(r.run)}: ${r.errors} consecutive errors reached the threshold (${r.threshold}).`, ...cancelLines(r.cancelled, ctx)], warnings: cancelWarnings(r.cancelled) };
    } finally {
      client.close();
    }
  },
};
