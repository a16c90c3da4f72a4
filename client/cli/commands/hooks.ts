/** `shadowctl hooks install|uninstall`: git hooks that checkpoint around git's tree rewrites (S8). */
import { realpathSync } from 'node:fs';
import { ShadowError } from '../../../shared/errors.js';
import { cliEntryPath } from '../../cliEntry.js';
import type { Command, CommandContext, CommandResult } from '../command.js';
import { EXIT } from '../exitCodes.js';
import { gitHooksDir } from '../gitHooksDir.js';
import { HOOK_TIMEOUT_SECONDS, ORIGINAL_SUFFIX } from '../hookScript.js';
import type { SkippedHook } from '../hooksInstaller.js';
import { installHooks, uninstallHooks } from '../hooksInstaller.js';

/** The hooks command. */
export const command: Command = {
  spec: {
    name: 'hooks',
    usage: 'hooks install|uninstall',
    summary: 'Install or remove git hooks that checkpoint before git rewrites the working tree.',
    description:
      'install    add pre-rebase, post-checkout, post-merge and pre-commit hooks to the repository\'s\n' +
      '           hooks directory (core.hooksPath honoured). Each asks a running daemon for a\n' +
      `           checkpoint (never starts one, gives up after ${HOOK_TIMEOUT_SECONDS} s, never fails git), then runs the\n` +
      `           hook that was there before, kept as <hook>${ORIGINAL_SUFFIX}. Installing twice changes nothing.\n` +
      'uninstall  remove them and put the previous hooks back exactly as they were.\n' +
      'SHADOW_HOOKS=0 in git\'s environment skips the checkpoint; SHADOW_HOOK_TIMEOUT=S sets the bound.\n' +
      '--json: { hooksDir, installed, unchanged, chained, skipped } or { hooksDir, removed, restored, skipped }.',
    options: [],
    minPositionals: 1,
    maxPositionals: 1,
    examples: ['shadowctl hooks install', 'shadowctl hooks uninstall --json'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const sub = args.positionals[0];
    if (sub === 'install') return install(ctx);
    if (sub === 'uninstall') return uninstall(ctx);
    throw new ShadowError('USAGE', `hooks: unknown subcommand '${sub}' (expected install or uninstall)`, { subcommand: sub });
  },
};

/** Human warnings for skipped hooks. */
function skippedLines(skipped: SkippedHook[]): string[] {
  return skipped.map((s) => `${s.hook} not touched: ${s.reason}`);
}

function install(ctx: CommandContext): CommandResult {
  const { hooksDir } = gitHooksDir(ctx.workspace, ctx.env);
  // Absolute paths fixed now: git may run hooks with another PATH (GUIs, IDEs) or none of npm's.
  const runner = { node: process.execPath, cli: realpathSync(cliEntryPath()) };
  const report = installHooks(hooksDir, runner);
  const lines = [
    ...report.installed.map((h) => `Installed ${h}${report.chained.includes(h) ? ` (runs the previous hook, kept as ${h}${ORIGINAL_SUFFIX})` : ''}`),
    ...report.unchanged.map((h) => `Already installed ${h}`),
    `Hooks directory ${hooksDir}`,
  ];
  return {
    json: { hooksDir, ...report },
    lines,
    warnings: skippedLines(report.skipped),
    ...(report.skipped.length ? { exitCode: EXIT.failure } : {}),
  };
}

function uninstall(ctx: CommandContext): CommandResult {
  const { hooksDir } = gitHooksDir(ctx.workspace, ctx.env);
  const report = uninstallHooks(hooksDir);
  const lines = [
    ...report.removed.map((h) => `Removed ${h}${report.restored.includes(h) ? ' (previous hook restored)' : ''}`),
    ...report.restored.filter((h) => !report.removed.includes(h)).map((h) => `Restored ${h}`),
  ];
  if (!lines.length) lines.push('No Shadow hooks installed');
  lines.push(`Hooks directory ${hooksDir}`);
  return { json: { hooksDir, ...report }, lines, warnings: skippedLines(report.skipped) };
}
