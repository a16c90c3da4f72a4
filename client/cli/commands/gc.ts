/** `shadowctl gc`: apply the retention policy now (S7, S1.7). */
import { Gc } from '../../../shared/methods/gc.js';
import type { Command, CommandResult } from '../command.js';

/** The gc command. */
export const command: Command = {
  spec: {
    name: 'gc',
    usage: 'gc',
    summary: 'Prune old runs, bound the auto-snapshot chain and prune unreachable objects (retention).',
    description:
      'Applies `retention` from shadow.config.json (keepRuns, keepDays, maxAutoSnapshots), as the daemon\n' +
      'does on start. Objects are pruned only in a plain workspace; in a git repository `git gc` does it.\n' +
      '--json: { runsPruned, refsDeleted, autoSnapshotsDropped, objectsPruned, kept: { runs, autoSnapshots } }.',
    options: [],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl gc', 'shadowctl gc --json'],
  },
  async run(_args, ctx): Promise<CommandResult> {
    const client = await ctx.connect();
    try {
      const r = await client.request(Gc, {});
      const objects = r.objectsPruned === null ? 'objects left to git gc' : `${r.objectsPruned} objects pruned`;
      return {
        json: r,
        lines: [
          `Pruned ${r.runsPruned.length} runs (${r.refsDeleted.length} refs), dropped ${r.autoSnapshotsDropped} auto snapshots, ${objects}.`,
          `Kept ${r.kept.runs} runs and ${r.kept.autoSnapshots} auto snapshots.`,
          ...r.runsPruned.map((id) => `  pruned run ${id}`),
        ],
      };
    } finally {
      client.close();
    }
  },
};
