/** `shadowctl log [-n N] [--ref REF] [--run RUN] [--cancellations]`: checkpoints or cancellations, newest first (S7, S5.8). */
import { ShadowError } from '../../../shared/errors.js';
import { CancellationLog } from '../../../shared/methods/cancellationLog.js';
import { Log } from '../../../shared/methods/log.js';
import type { ResultOf } from '../../../shared/defineMethod.js';
import type { Command, CommandResult } from '../command.js';
import type { Style } from '../output.js';
import { shortOid } from '../output.js';
import { positiveIntOption, stringOption } from '../parseArgs.js';

/** One log entry as the daemon returns it. */
type LogEntry = ResultOf<typeof Log>['entries'][number];
/** One cancellation log entry as the daemon returns it. */
type CancellationEntry = ResultOf<typeof CancellationLog>['entries'][number];

const DEFAULT_COUNT = 20;
/** With --run the filter is client-side: read this many checkpoints to find the run's (Log's own bound). */
const RUN_SCAN_COUNT = 100_000;

/** The log command. */
export const command: Command = {
  spec: {
    name: 'log',
    usage: 'log [-n N] [--ref REF] [--run RUN] [--cancellations]',
    summary: 'List checkpoints (or, with --cancellations, cancels), newest first.',
    description:
      'One line per checkpoint: commit, time, kind, ref, subject; --run keeps those of one run.\n' +
      'With --cancellations: one line per cancel from the cancellation log: time, run, reason,\n' +
      'trigger, action, files removed/restored/preserved. --json: { entries: [...] }.',
    options: [
      { long: 'max-count', short: 'n', type: 'string', value: 'N', description: `show at most N entries (default ${DEFAULT_COUNT})` },
      { long: 'ref', type: 'string', value: 'REF', description: 'only this shadow ref, e.g. auto or manual' },
      { long: 'run', type: 'string', value: 'RUN', description: 'only entries of this run' },
      { long: 'cancellations', type: 'boolean', description: 'list cancels from the cancellation log instead of checkpoints' },
    ],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl log -n 5', 'shadowctl log --ref auto --json', 'shadowctl log --cancellations --run r-1a2b'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const n = positiveIntOption(args, 'max-count', 'log');
    const ref = stringOption(args, 'ref');
    const run = stringOption(args, 'run');
    if (args.values.cancellations && ref !== undefined) {
      throw new ShadowError('USAGE', 'log: --ref does not apply to --cancellations', { command: 'log', option: 'ref' });
    }
    const client = await ctx.connect();
    try {
      if (args.values.cancellations) {
        const result = await client.request(CancellationLog, { ...(n === undefined ? {} : { n }), ...(run === undefined ? {} : { run }) });
        const lines = result.entries.length ? result.entries.map((e) => cancellationLine(e, ctx.style)) : ['No cancellations yet.'];
        return { json: result, lines };
      }
      // --run filters on the commits' Shadow-Run trailer, so pre-abort and undo commits count too.
      const count = run === undefined ? n : RUN_SCAN_COUNT;
      const result = await client.request(Log, { ...(count === undefined ? {} : { n: count }), ...(ref === undefined ? {} : { ref }) });
      const entries = run === undefined ? result.entries : result.entries.filter((e) => e.run === run).slice(0, n ?? DEFAULT_COUNT);
      const refWidth = entries.reduce((w, e) => Math.max(w, shortRef(e.ref).length), 0);
      const lines = entries.length ? entries.map((e) => logLine(e, ctx.style, refWidth)) : [run === undefined ? 'No checkpoints yet.' : `No checkpoints of run ${run}.`];
      return { json: { entries }, lines };
    } finally {
      client.close();
    }
  },
};

/** `abc1234  2025-01-31 14:02:11  checkpoint  manual  subject`, the ref padded to `refWidth`. */
export function logLine(e: LogEntry, style: Style, refWidth = 0): string {
  return [style.bold(shortOid(e.commit)), style.dim(localTime(e.time)), (e.kind ?? '-').padEnd(10), shortRef(e.ref).padEnd(refWidth), e.subject].join('  ');
}

/** `2025-01-31 14:02:11  r-1a2b  user_cancel/ctrl_c  remove_all  3 removed, 2 restored, 0 preserved`. */
export function cancellationLine(e: CancellationEntry, style: Style): string {
  const time = Number.isNaN(Date.parse(e.time)) ? e.time : localTime(Date.parse(e.time) / 1000);
  const files = `${e.cleanup.removed} removed, ${e.cleanup.restored} restored, ${e.cleanup.preserved} preserved`;
  return [style.dim(time), style.bold(e.run), `${e.reason}/${e.trigger}`, e.action, files + (e.inconsistent ? ', inconsistent' : '')].join('  ');
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
