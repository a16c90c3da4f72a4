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
  status: { synopsis: 'status', summary: 'daemon, watcher and latest checkpoint', load: () => import('./commands/status.js') },
  checkpoint: { synopsis: 'checkpoint [-m MSG]', summary: 'snapshot the working tree now', load: () => import('./commands/checkpoint.js') },
  log: { synopsis: 'log [-n N] [--ref REF]', summary: 'list checkpoints, newest first', load: () => import('./commands/log.js') },
  diff: { synopsis: 'diff [CHECKPOINT]', summary: 'paths changed since a checkpoint', load: () => import('./commands/diff.js') },
  restore: { synopsis: 'restore CHECKPOINT [PATH...]', summary: 'restore the tree, or some paths, to a checkpoint', load: () => import('./commands/restore.js') },
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
    'Exit codes: 0 ok, 1 failure, 2 usage, 3 nothing to act on, 69 daemon unreachable.',
    "Run 'shadowctl COMMAND --help' for a command's options and examples.",
  ].join('\n');
}

/** The usage line of a command, as printed after usage errors. */
export function commandUsage(spec: CommandSpec): string {
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
