/** `shadowctl diff [CHECKPOINT]`: paths changed in the working tree since a checkpoint (S7, S1.8). */
import { Diff } from '../../../shared/methods/diff.js';
import type { ResultOf } from '../../../shared/defineMethod.js';
import { quotePath } from '../../../shared/pathBytes.js';
import type { Command, CommandResult } from '../command.js';
import type { Style } from '../output.js';
import { shortOid } from '../output.js';

/** The diff command. */
export const command: Command = {
  spec: {
    name: 'diff',
    usage: 'diff [CHECKPOINT]',
    summary: 'List paths added (A), modified (M), deleted (D) or mode-changed (T) since a checkpoint.',
    description:
      'CHECKPOINT is a commit id (4-40 hex), a shadow ref (auto, manual, refs/shadow/...), optionally ~N;\n' +
      'default: the latest checkpoint. --json: { checkpoint, added, modified, deleted, modeChanged }.',
    options: [],
    minPositionals: 0,
    maxPositionals: 1,
    examples: ['shadowctl diff', 'shadowctl diff auto~3'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const checkpoint = args.positionals[0];
    const client = await ctx.connect();
    try {
      const diff = await client.request(Diff, checkpoint === undefined ? {} : { checkpoint });
      return { json: diff, lines: diffLines(diff, ctx.style) };
    } finally {
      client.close();
    }
  },
};

/** git-like `A path` lines sorted by path, or a single "No changes since …" line. */
export function diffLines(diff: ResultOf<typeof Diff>, style: Style): string[] {
  const rows: Array<[string, string]> = [
    ...diff.added.map((p): [string, string] => [p, style.green('A')]),
    ...diff.modified.map((p): [string, string] => [p, style.yellow('M')]),
    ...diff.deleted.map((p): [string, string] => [p, style.red('D')]),
    ...diff.modeChanged.map((p): [string, string] => [p, style.yellow('T')]),
  ];
  if (rows.length === 0) return [`No changes since ${shortOid(diff.checkpoint)}.`];
  // Sorted by path like git (stable: a path both modified and mode-changed shows M, then T).
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return rows.map(([path, letter]) => `${letter} ${quotePath(path)}`);
}
