/** `shadowctl checkpoint [-m MSG]`: snapshot the working tree now (S7, S4.3). */
import { Checkpoint } from '../../../shared/methods/checkpoint.js';
import { quotePath } from '../../../shared/pathBytes.js';
import type { Command, CommandResult } from '../command.js';
import { shortOid } from '../output.js';
import { stringOption } from '../parseArgs.js';
import { RUN_OPTION, runTarget } from '../runOptions.js';

/** The checkpoint command. */
export const command: Command = {
  spec: {
    name: 'checkpoint',
    usage: 'checkpoint [-m MSG] [--run RUN]',
    summary: 'Snapshot the working tree now, as a commit on a hidden shadow ref.',
    description:
      'Every write made before the command is included. Files that cannot be captured (too large,\n' +
      'unreadable) are listed as warnings; a restore never deletes or overwrites them. Inside a run\n' +
      '(--run, or $SHADOW_RUN_ID as set by `shadowctl run`) the checkpoint belongs to that run.\n' +
      '--json: { commit, tree, ref, run, files, hashed, rescanned, uncaptured }.',
    options: [{ long: 'message', short: 'm', type: 'string', value: 'MSG', description: 'subject line of the checkpoint commit' }, RUN_OPTION],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl checkpoint -m "before the migration"'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const message = stringOption(args, 'message');
    const client = await ctx.connect();
    try {
      // `run` only when named: a plain checkpoint goes wherever the daemon puts it (the active run's ref, else manual).
      const cp = await client.request(Checkpoint, { ...runTarget(args, ctx.env), ...(message === undefined ? {} : { message }) });
      return {
        json: cp,
        lines: [`Checkpoint ${ctx.style.bold(shortOid(cp.commit))} on ${cp.ref} (${cp.files} files)`],
        warnings: cp.uncaptured.map((u) => `not captured: ${quotePath(u.path)} (${u.reason})`),
      };
    } finally {
      client.close();
    }
  },
};
