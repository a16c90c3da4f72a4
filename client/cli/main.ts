#!/usr/bin/env node
/**
 * shadowctl: the command-line client (S7). Start-up is kept lean because git hooks run it
 * many times a minute: only node built-ins and zod-free shared/ declarations are imported here;
 * a command's module, and the IPC client, load only when that command runs.
 * This is the only place that exits: commands return a result or throw a ShadowError.
 */
import { realpathSync } from 'node:fs';
import { ShadowError, toShadowError } from '../../shared/errors.js';
import { SHADOW_VERSION } from '../../shared/version.js';
import type { CommandContext } from './command.js';
import { EXIT, exitCodeFor } from './exitCodes.js';
import { findWorkspace } from './findWorkspace.js';
import { COMMANDS, MAIN_USAGE, commandHelp, commandUsage, mainHelp } from './help.js';
import { Output } from './output.js';
import { parseCommandArgs, stringOption } from './parseArgs.js';

const HELP_FLAGS = ['-h', '--help'];

/** True when one of `flags` appears before a `--` terminator. */
function hasFlag(argv: string[], flags: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (flags.includes(a)) return true;
  }
  return false;
}

/**
 * Finds the command word: the first argument that is neither an option nor the value of -C
 * (so `shadowctl -C dir status` works as with git). Leading options stay with the rest.
 */
function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') {
    i += argv[i] === '-C' || argv[i] === '--workspace' ? 2 : 1;
  }
  if (i >= argv.length || argv[i] === '--') return { name: undefined, rest: argv };
  return { name: argv[i], rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
}

/** Runs one invocation and returns its exit code. */
async function main(argv: string[], out: Output): Promise<number> {
  const env = process.env;
  let usage: string | undefined = MAIN_USAGE;
  try {
    let { name, rest } = splitCommand(argv);
    if (name === 'help') {
      // `shadowctl help [COMMAND]` is `shadowctl [COMMAND] --help`.
      ({ name, rest } = splitCommand(rest));
      rest = [...rest, '--help'];
      if (name === undefined) return (out.help(mainHelp()), EXIT.ok);
    }
    if (name === undefined) {
      if (hasFlag(argv, ['--version', '-V'])) return (out.result({ json: { version: SHADOW_VERSION }, lines: [`shadowctl ${SHADOW_VERSION}`] }), EXIT.ok);
      if (hasFlag(argv, HELP_FLAGS)) return (out.help(mainHelp()), EXIT.ok);
      throw new ShadowError('USAGE', argv.length ? `unexpected ${argv[0]}` : 'missing command', { argv });
    }
    const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!entry) throw new ShadowError('USAGE', `unknown command '${name}'`, { command: name });

    const { command } = await entry.load();
    usage = commandUsage(command.spec);
    let args;
    try {
      args = parseCommandArgs(command.spec, rest);
    } catch (err) {
      if (hasFlag(rest, HELP_FLAGS)) return (out.help(commandHelp(command.spec)), EXIT.ok);
      throw err;
    }
    if (args.values.help) return (out.help(commandHelp(command.spec)), EXIT.ok);

    const cwd = realpathSync(process.cwd());
    const { workspace, explicit } = findWorkspace(cwd, stringOption(args, 'workspace'));
    const ctx: CommandContext = {
      workspace,
      workspaceExplicit: explicit,
      cwd,
      env,
      style: out.style,
      connect: async (opts = {}) => {
        const { ShadowClient } = await import('../shadowClient.js');
        // SHADOW_NO_AUTOSTART=1: fail with 69 instead of starting a daemon (hooks, tests).
        const autoStart = opts.autoStart ?? env.SHADOW_NO_AUTOSTART !== '1';
        // Pipelined: the command's first request follows hello without waiting for its answer.
        return ShadowClient.connect({ workspace, autoStart, env, clientName: 'shadowctl', pipelineHello: true });
      },
      notice: (line) => void process.stderr.write(`${line}\n`),
    };
    const result = await command.run(args, ctx);
    out.result(result);
    return result.exitCode ?? EXIT.ok;
  } catch (err) {
    const e = toShadowError(err);
    out.error(e, e.code === 'USAGE' ? usage : undefined);
    return exitCodeFor(e);
  }
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function flush(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}

// A closed pipe (`shadowctl log | head -1`) must not crash with an unhandled 'error' event.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

/** Runs the CLI and exits (no top-level await: the shipped CLI is a CommonJS bundle, scripts/bundleCli.mjs). */
async function run(): Promise<never> {
  const argv = process.argv.slice(2);
  const code = await main(argv, new Output(hasFlag(argv, ['--json']), process.stdout, process.stderr, process.env));
  process.exitCode = code;
  await flush(process.stdout);
  await flush(process.stderr);
  // Exit explicitly: a lingering handle (a socket the client kept) must not keep a hook waiting.
  process.exit(code);
}

void run();
