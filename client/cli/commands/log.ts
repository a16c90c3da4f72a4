/** `shadowctl log [-n N] [--ref REF]`: checkpoints, newest first (S7). */
import { Log } from '../../../shared/methods/log.js';
import type { ResultOf } from '../../../shared/defineMethod.js';
import type { Command, CommandResult } from '../command.js';
import type { Style } from '../output.js';
import { shortOid } from '../output.js';
import { positiveIntOption, stringOption } from '../parseArgs.js';

/** One log entry as the daemon returns it. */
type LogEntry = ResultOf<typeof Log>['entries'][number];

/** The log command. */
export const command: Command = {
  spec: {
    name: 'log',
    usage: 'log [-n N] [--ref REF]',
    summary: 'List checkpoints, newest first.',
    description: 'One line per checkpoint: commit, time, kind, ref, subject. --json: { entries: [...] }.',
    options: [
      { long: 'max-count', short: 'n', type: 'string', value: 'N', description: 'show at most N entries (default 20)' },
      { long: 'ref', type: 'string', value: 'REF', description: 'only this shadow ref, e.g. auto or manual' },
    ],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl log -n 5', 'shadowctl log --ref auto --json'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const n = positiveIntOption(args, 'max-count', 'log');
    const ref = stringOption(args, 'ref');
    const client = await ctx.connect();
    try {
      const result = await client.request(Log, { ...(n === undefined ? {} : { n }), ...(ref === undefined ? {} : { ref }) });
      const refWidth = result.entries.reduce((w, e) => Math.max(w, shortRef(e.ref).length), 0);
      const lines = result.entries.length ? result.entries.map((e) => logLine(e, ctx.style, refWidth)) : ['No checkpoints yet.'];
      return { json: result, lines };
    } finally {
      client.close();
    }
  },
};

/** `abc1234  2025-01-31 14:02:11  checkpoint  manual  subject`, the ref padded to `refWidth`. */
export function logLine(e: LogEntry, style: Style, refWidth = 0): string {
  return [style.bold(shortOid(e.commit)), style.dim(localTime(e.time)), (e.kind ?? '-').padEnd(10), shortRef(e.ref).padEnd(refWidth), e.subject].join('  ');
}

/** `refs/shadow/auto` → `auto`: every shadow ref shares the prefix. */
function shortRef(ref: string): string {
  return ref.replace(/^refs\/shadow\//, '');
}

/** Unix seconds as local `YYYY-MM-DD HH:MM:SS`. */
function localTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
