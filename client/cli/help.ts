/**
 * The command registry and help text. Each entry loads its module only when that command runs
 * (start-up stays lean: shadowctl runs from git hooks many times a minute).
 */
import type { Command } from './command.js';
import type { CommandSpec, OptionSpec } from './parseArgs.js';
import { GLOBAL_OPTIONS } from './parseArgs.js';

/** One registered command: what the overall help shows, and how to load it. */
export interface CommandEntry {
  /** Usage shown in the overall help. */
  synopsis: string;
  /** One-line summary. */
  summary: string;
  /** Loads the command module. */
  load(): Promise<{ command: Command }>;
}

/** Every shadowctl command, by name. */
export const COMMANDS: Record<string, CommandEntry> = {
  daemon: { synopsis: 'daemon start|stop|status', summary: 'start, stop or identify the workspace daemon', load: () => import('./commands/daemon.js') },
  status: { synopsis: 'status', summary: 'daemon, watcher, latest checkpoint and active run', load: () => import('./commands/status.js') },
  run: { synopsis: 'run [OPTIONS] -- CMD [ARGS...]', summary: 'run a command as a run: cancel, roll back or finish with it', load: () => import('./commands/run.js') },
  start: { synopsis: 'start [--name N] [--phases a,b,c]', summary: 'start a run (base checkpoint) for scripts and agents', load: () => import('./commands/start.js') },
  phase: { synopsis: 'phase NAME', summary: 'enter a phase of the run', load: () => import('./commands/phase.js') },
  step: { synopsis: 'step NAME [--artifact PATH]...', summary: 'record a completed step and its artifacts', load: () => import('./commands/step.js') },
  checkpoint: { synopsis: 'checkpoint [-m MSG]', summary: 'snapshot the working tree now', load: () => import('./commands/checkpoint.js') },
  unsafe: { synopsis: 'unsafe begin|end', summary: 'open or close an unsafe section (cancels wait for its end)', load: () => import('./commands/unsafe.js') },
  error: { synopsis: 'error [MESSAGE]', summary: 'report an error; errorThreshold in a row cancel the run', load: () => import('./commands/error.js') },
  finish: { synopsis: 'finish', summary: 'finish the run (final checkpoint, completed)', load: () => import('./commands/finish.js') },
  cancel: { synopsis: 'cancel [--reason R] [--action A] [--force]', summary: 'cancel a run: restore, keep or mark files', load: () => import('./commands/cancel.js') },
  resume: { synopsis: 'resume [--list] [--run RUN] [--yes|--restart|--from-phase P|--discard]', summary: 'resume a stopped run, or list resumable runs', load: () => import('./commands/resume.js') },
  undo: { synopsis: 'undo', summary: 'restore the state saved before the last cancel or restore', load: () => import('./commands/undo.js') },
  log: { synopsis: 'log [-n N] [--ref REF] [--run RUN] [--cancellations]', summary: 'list checkpoints or cancels, newest first', load: () => import('./commands/log.js') },
  diff: { synopsis: 'diff [CHECKPOINT]', summary: 'paths changed since a checkpoint', load: () => import('./commands/diff.js') },
  restore: { synopsis: 'restore CHECKPOINT [PATH...]', summary: 'restore the tree, or some paths, to a checkpoint', load: () => import('./commands/restore.js') },
  gc: { synopsis: 'gc', summary: 'apply retention: prune old runs, bound the auto chain', load: () => import('./commands/gc.js') },
  recover: { synopsis: 'recover [--from WS|STORE (--log | --into DIR)]', summary: 'list backup stores; restore a deleted project from one (no daemon)', load: () => import('./commands/recover.js') },
  hooks: { synopsis: 'hooks install|uninstall', summary: 'git hooks that checkpoint before git rewrites the tree', load: () => import('./commands/hooks.js') },
  mcp: { synopsis: 'mcp', summary: 'serve the Model Context Protocol over stdio (tools for AI agents)', load: () => import('./commands/mcp.js') },
};

/** The overall usage line. */
export const MAIN_USAGE = 'shadowctl [-C DIR] [--json] COMMAND [ARGS...]';

/** The text of `shadowctl --help`. */
export function mainHelp(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.synopsis.length)) + 2;
  const commands = Object.values(COMMANDS).map((c) => `  ${c.synopsis.padEnd(width)}${c.summary}`);
  return [
    `usage: ${MAIN_USAGE}`,
    '',
    'Shadow snapshots a working directory into hidden git refs and restores it on demand.',
    '',
    'Commands:',
    ...commands,
    '',
    'Options (every command):',
    ...formatOptions([...GLOBAL_OPTIONS, { long: 'version', type: 'boolean', description: 'print the version' }]),
    '',
    'Exit codes: 0 ok, 1 failure, 2 usage, 3 nothing to act on, 69 daemon unreachable;',
    "run: 124 timeout, 130 Ctrl+C, 143 SIGTERM, else the command's own code.",
    `Commands moving a run along take --run RUN (default: $SHADOW_RUN_ID, else the active run).`,
    "Run 'shadowctl COMMAND --help' for a command's options and examples.",
  ].join('\n');
}

/** The usage line of a command, as printed after usage errors. */
export function commandUsage(spec: CommandSpec): string {
  // Options go before a `--` (after it everything is the wrapped command's own arguments).
  const dashes = spec.usage.indexOf(' -- ');
  if (dashes >= 0) return `shadowctl ${spec.usage.slice(0, dashes)} [-C DIR] [--json]${spec.usage.slice(dashes)}`;
  return `shadowctl ${spec.usage} [-C DIR] [--json]`;
}

/** The text of `shadowctl COMMAND --help`. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: ${commandUsage(spec)}`, '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  lines.push('', 'Options:', ...formatOptions([...spec.options, ...GLOBAL_OPTIONS]));
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** Aligned option lines: `  -m, --message MSG   description`. */
function formatOptions(options: OptionSpec[]): string[] {
  const heads = options.map((o) => {
    const value = o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : '';
    return `${o.short ? `-${o.short}, ` : '    '}--${o.long}${value}`;
  });
  const width = Math.max(20, ...heads.map((h) => h.length)) + 2;
  return options.map((o, i) => `  ${heads[i]!.padEnd(width)}${o.description}`);
}
