/** `shadowctl finish [--run RUN]`: end a run successfully with a final checkpoint (S7, S4.3). */
import { RunFinish } from '../../../shared/methods/runProgress.js';
import type { Command, CommandResult } from '../command.js';
import { shortOid } from '../output.js';
import { RUN_OPTION, runTarget } from '../runOptions.js';

/** The finish command. */
export const command: Command = {
  spec: {
    name: 'finish',
    usage: 'finish [--run RUN]',
    summary: 'Finish a run: take its final checkpoint and mark it completed.',
    description: '--json: { run, status, final }.',
    options: [RUN_OPTION],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl finish'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const client = await ctx.connect();
    try {
      const r = await client.request(RunFinish, runTarget(args, ctx.env));
      return { json: r, lines: [`Run ${ctx.style.bold(r.run)} ${r.status} (final checkpoint ${shortOid(r.final)})`] };
    } finally {
      client.close();
    }
  },
};
