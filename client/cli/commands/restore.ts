/** `shadowctl restore CHECKPOINT [PATH...]`: make the tree, or chosen paths, equal a checkpoint (S7, S1.8). */
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ShadowError } from '../../../shared/errors.js';
import { Restore } from '../../../shared/methods/restore.js';
import type { ResultOf } from '../../../shared/defineMethod.js';
import { quotePath, unquotePath } from '../../../shared/pathBytes.js';
import type { Command, CommandContext, CommandResult } from '../command.js';
import { shortOid } from '../output.js';

/** The restore command. */
export const command: Command = {
  spec: {
    name: 'restore',
    usage: 'restore CHECKPOINT [PATH...]',
    summary: 'Restore the working tree, or the given paths, to a checkpoint.',
    description:
      'PATHs are relative to the current directory and must lie inside the workspace. The state\n' +
      'before restoring is snapshotted first, and the command prints how to undo. Ignored and\n' +
      'uncapturable files are never touched (listed as preserved). A name that is not UTF-8 is\n' +
      'given as output quotes it, in double quotes with octal escapes: \'"caf\\351.txt"\'.\n' +
      '--json: { checkpoint, preRestore, restored, removed, preserved }.',
    options: [],
    minPositionals: 1,
    maxPositionals: Infinity,
    examples: ['shadowctl restore manual            # everything, to the latest manual checkpoint', 'shadowctl restore 1a2b3c4 src/app.ts  # one file'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const [checkpoint, ...given] = args.positionals as [string, ...string[]];
    const paths = toWorkspacePaths(given, ctx.cwd, ctx.workspace);
    const client = await ctx.connect();
    try {
      const result = await client.request(Restore, paths === undefined ? { checkpoint } : { checkpoint, paths });
      return { json: result, ...restoreReport(result, ctx) };
    } finally {
      client.close();
    }
  },
};

/**
 * Converts user paths (relative to `cwd`, or absolute) to workspace-relative posix paths.
 * Returns undefined when there are none, or when one names the workspace root (= everything).
 * A path outside the workspace is PATH_INVALID (a usage error, exit 2).
 */
export function toWorkspacePaths(paths: string[], cwd: string, workspace: string): string[] | undefined {
  if (paths.length === 0) return undefined;
  const out: string[] = [];
  for (const p of paths) {
    if (p === '') throw new ShadowError('PATH_INVALID', 'Empty path argument', { path: p });
    // A name that is not UTF-8 can only be typed in git's quoted form ("caf\351.txt"), as output shows it.
    const rel = insideRelative(resolve(cwd, unquotePath(p)), workspace);
    if (rel === undefined) throw new ShadowError('PATH_INVALID', `Path ${p} is outside the workspace ${workspace}`, { path: p, workspace });
    if (rel === '') return undefined;
    out.push(rel.split(sep).join('/'));
  }
  return [...new Set(out)];
}

/** `abs` relative to `workspace`, or undefined when outside; '' for the root itself. */
function insideRelative(abs: string, workspace: string): string | undefined {
  const lexical = relativeInside(abs, workspace);
  if (lexical !== undefined) return lexical;
  // An absolute path may reach the workspace through a symlink (/tmp → /private/tmp): resolve
  // its parent directories, never the last component (a symlink there is restored as itself).
  const parent = realExistingPrefix(dirname(abs));
  return parent === undefined ? undefined : relativeInside(join(parent, basename(abs)), workspace);
}

/** The lexical relative path when `abs` is inside `root`. */
function relativeInside(abs: string, root: string): string | undefined {
  const rel = relative(root, abs);
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel;
}

/** The real path of `dir`, resolving its longest existing prefix (the rest may not exist yet). */
function realExistingPrefix(dir: string): string | undefined {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      return join(realpathSync(d), ...missing.reverse());
    } catch {
      if (dirname(d) === d) return undefined;
      missing.push(basename(d));
    }
  }
}

/** Human lines: counts, preserved paths as warnings, and the undo command. */
function restoreReport(r: ResultOf<typeof Restore>, ctx: CommandContext): { lines: string[]; warnings: string[] } {
  const dir = ctx.workspaceExplicit ? ` -C ${quote(ctx.workspace)}` : '';
  const lines = [
    `Restored ${ctx.style.bold(shortOid(r.checkpoint))}: ${r.restored.length} written, ${r.removed.length} removed, ${r.preserved.length} preserved.`,
    `Undo with: shadowctl${dir} restore ${r.preRestore}`,
  ];
  return { lines, warnings: r.preserved.map((p) => `preserved ${quotePath(p.path)} (${p.reason})`) };
}

/** Quotes a path for a POSIX shell when it needs it. */
function quote(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
