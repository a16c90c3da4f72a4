/** `shadowctl undo`: restore the state saved before the last destructive cancel or restore (S7, S5.4). */
import { Undo } from '../../../shared/methods/undo.js';
import { quotePath } from '../../../shared/pathBytes.js';
import { shadowctlPrefix } from '../cancelReport.js';
import type { Command, CommandResult } from '../command.js';
import { shortOid } from '../output.js';

/** The undo command. */
export const command: Command = {
  spec: {
    name: 'undo',
    usage: 'undo',
    summary: 'Restore the latest pre-abort snapshot exactly (undoes the last cancel or restore).',
    description:
      'The state before undoing is snapshotted too, so undo can itself be undone with the printed\n' +
      'restore command. --json: { restoredTo, preRestore, restored, removed, preserved }.',
    options: [],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl undo'],
  },
  async run(_args, ctx): Promise<CommandResult> {
    const client = await ctx.connect();
    try {
      const r = await client.request(Undo, {});
      return {
        json: r,
        lines: [
          `Restored pre-abort snapshot ${ctx.style.bold(shortOid(r.restoredTo))}: ${r.restored.length} written, ${r.removed.length} removed, ${r.preserved.length} preserved.`,
          `Undo this with: ${shadowctlPrefix(ctx)} restore ${r.preRestore}`,
        ],
        warnings: r.preserved.map((p) => `preserved ${quotePath(p.path)} (${p.reason})`),
      };
    } finally {
      client.close();
    }
  },
};
