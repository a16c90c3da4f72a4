/**
 * The shape every shadowctl command module exports. Types only: commands get what they need
 * (workspace, a way to connect) through the context, so they never read globals or exit.
 */
import type { ShadowClient } from '../shadowClient.js';
import type { CommandSpec, ParsedArgs } from './parseArgs.js';
import type { Style } from './output.js';
import type { ExitCode, PassThroughCode } from './exitCodes.js';

/** What main hands to a command. */
export interface CommandContext {
  /** Absolute real path of the workspace (from -C or discovered). */
  workspace: string;
  /** Whether the workspace came from -C (then hints repeat it). */
  workspaceExplicit: boolean;
  /** The process's current directory (real path): user paths are relative to it. */
  cwd: string;
  /** The environment, passed on to the client. */
  env: NodeJS.ProcessEnv;
  /** Colors for human stdout lines (no-ops off a TTY or under NO_COLOR). */
  style: Style;
  /** Connects to the workspace's daemon; autoStart defaults to true unless SHADOW_NO_AUTOSTART=1. */
  connect(opts?: { autoStart?: boolean }): Promise<ShadowClient>;
  /** Writes one line to stderr at once, in both modes: progress of long commands (`run`'s "cancelling…"). */
  notice(line: string): void;
}

/** What a command returns; main prints it in the chosen mode. */
export interface CommandResult {
  /** The one JSON object printed with --json. */
  json: object;
  /** Human lines for stdout. */
  lines: string[];
  /** Human warnings for stderr (not printed with --json: the JSON carries them). */
  warnings?: string[];
  /** Exit code when not 0 (e.g. nothing to act on); `run` may pass its command's own code through. */
  exitCode?: ExitCode | PassThroughCode;
}

/** A command module: its declaration and its action. */
export interface Command {
  /** Options, usage and help text. */
  spec: CommandSpec;
  /** Runs the command; throws ShadowError on failure. */
  run(args: ParsedArgs, ctx: CommandContext): Promise<CommandResult>;
}
