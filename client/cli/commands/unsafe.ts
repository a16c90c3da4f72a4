/** `shadowctl unsafe begin|end [--run RUN]`: open or close an unsafe section (S7, S5.5). */
import { ShadowError } from '../../../shared/errors.js';
import { RunUnsafe } from '../../../shared/methods/runProgress.js';
import type { Command, CommandResult } from '../command.js';
import { RUN_OPTION, runTarget } from '../runOptions.js';

/** The unsafe command. */
export const command: Command = {
  spec: {
    name: 'unsafe',
    usage: 'unsafe begin|end [--run RUN]',
    summary: 'Open (begin) or close (end) an unsafe section: a cancel waits for its end.',
    description:
      'A cancel arriving inside an unsafe section waits until it ends, up to safePointTimeout, then\n' +
      'forces and marks the run inconsistent; `cancel --force` does not wait. Sections nest.\n' +
      '--json: { run, depth }.',
    options: [RUN_OPTION],
    minPositionals: 1,
    maxPositionals: 1,
    examples: ['shadowctl unsafe begin && mv db.new db && shadowctl unsafe end'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const section = args.positionals[0];
    if (section !== 'begin' && section !== 'end') {
      throw new ShadowError('USAGE', `unsafe: expected begin or end, got '${section}'`, { command: 'unsafe', value: section });
    }
    const client = await ctx.connect();
    try {
      const r = await client.request(RunUnsafe, { ...runTarget(args, ctx.env), section });
      const what = section === 'begin' ? 'unsafe section opened' : 'unsafe section closed';
      return { json: r, lines: [`Run ${ctx.style.bold(r.run)}: ${what} (depth ${r.depth})`] };
    } finally {
      client.close();
    }
  },
};
