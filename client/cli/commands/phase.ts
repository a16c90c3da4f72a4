/** `shadowctl phase NAME [--run RUN]`: enter a phase; the previous one ends with a checkpoint (S7, S4.3). */
import { RunPhase } from '../../../shared/methods/runProgress.js';
import type { Command, CommandResult } from '../command.js';
import { shortOid } from '../output.js';
import { RUN_OPTION, runTarget } from '../runOptions.js';

/** The phase command. */
export const command: Command = {
  spec: {
    name: 'phase',
    usage: 'phase NAME [--run RUN]',
    summary: 'Enter phase NAME of a run (the previous phase ends with a phase-end checkpoint).',
    description: '--json: { run, phase, index, total, checkpoint }.',
    options: [RUN_OPTION],
    minPositionals: 1,
    maxPositionals: 1,
    examples: ['shadowctl phase data'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const name = args.positionals[0]!;
    const client = await ctx.connect();
    try {
      const r = await client.request(RunPhase, { ...runTarget(args, ctx.env), name });
      const position = r.total > 0 ? ` (${r.index}/${r.total})` : '';
      const checkpoint = r.checkpoint ? `; previous phase saved as ${shortOid(r.checkpoint)}` : '';
      return { json: r, lines: [`Run ${ctx.style.bold(r.run)}: phase ${r.phase}${position}${checkpoint}`] };
    } finally {
      client.close();
    }
  },
};
