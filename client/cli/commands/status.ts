/** `shadowctl status`: daemon identity, watcher health and the latest checkpoint (S7). */
import { Status } from '../../../shared/methods/status.js';
import type { ResultOf } from '../../../shared/defineMethod.js';
import type { Command, CommandResult } from '../command.js';
import type { Style } from '../output.js';
import { shortOid } from '../output.js';

/** The status command. */
export const command: Command = {
  spec: {
    name: 'status',
    usage: 'status',
    summary: 'Show the daemon, the watcher, the latest checkpoint and the active run.',
    description: 'Starts the daemon if none runs. --json prints the daemon\'s Status result as is:\n`daemon`, `run`, `watcher`, `lastCheckpoint`, `files`.',
    options: [],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl status', 'shadowctl status --json -C ~/project'],
  },
  async run(_args, ctx): Promise<CommandResult> {
    const client = await ctx.connect();
    try {
      const status = await client.request(Status, {});
      return { json: status, lines: statusLines(status, ctx.style, Date.now()) };
    } finally {
      client.close();
    }
  },
};

/** Four short lines describing a Status result. */
export function statusLines(s: ResultOf<typeof Status>, style: Style, now: number): string[] {
  const d = s.daemon;
  const watcher =
    s.watcher.backend === 'scanning'
      ? `${style.yellow('scanning, no file events')}: every checkpoint rescans${s.watcher.reason ? ` (${s.watcher.reason})` : ''}`
      : s.watcher.mode === 'events'
        ? `watching, ${s.watcher.pending} change${s.watcher.pending === 1 ? '' : 's'} pending`
        : `${style.yellow('rescan on next checkpoint')}${s.watcher.reason ? ` (${s.watcher.reason})` : ''}`;
  const last = s.lastCheckpoint
    ? `${style.bold(shortOid(s.lastCheckpoint.commit))} on ${s.lastCheckpoint.ref}, ${ago(now - s.lastCheckpoint.time * 1000)} (${s.files} files)`
    : 'none yet';
  const lines = [
    `Workspace   ${d.workspace}`,
    `Daemon      pid ${d.pid}, v${d.version}, up ${duration(d.uptimeMs)}`,
    `Watcher     ${watcher}`,
    `Checkpoint  ${last}`,
  ];
  if (s.run) lines.push(`Run         ${runLine(s.run, style)}`);
  // Corrupt state found at start (S2.5, S4.4): set aside, not acted on; the user should know.
  for (const p of s.problems ?? []) lines.push(`Problem     ${style.yellow(p.code)} ${p.message}`);
  return lines;
}

/** `r2025…-3f9c 'migrate' running, phase data (2/3), 3 checkpoints, 1 step`. */
function runLine(r: NonNullable<ResultOf<typeof Status>['run']>, style: Style): string {
  const index = r.phase === null ? -1 : r.phases.indexOf(r.phase);
  const phase = r.phase === null ? '' : `, phase ${r.phase}${index >= 0 ? ` (${index + 1}/${r.phases.length})` : ''}`;
  const unsafe = r.unsafe > 0 ? `, ${style.yellow('in an unsafe section')}` : '';
  return `${style.bold(r.id)} '${r.name}' ${r.status}${phase}, ${r.checkpoints} checkpoint${r.checkpoints === 1 ? '' : 's'}, ${r.steps} step${r.steps === 1 ? '' : 's'}${unsafe}`;
}

/** A coarse duration: "5s", "3m", "2h", "4d". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** A coarse age: "3m ago". */
function ago(ms: number): string {
  return `${duration(ms)} ago`;
}
