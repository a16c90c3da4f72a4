/**
 * Which directory git runs a workspace's hooks from (S8), found the way git does: the git dir
 * (`.git` directory, or a `.git` file pointing at a linked worktree's dir, whose `commondir`
 * holds the shared hooks), overridden by `core.hooksPath`, relative to the work tree top.
 * Uses the daemon's config reader: it imports node built-ins only, so the CLI stays lean.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { commonGitDir, readGitConfigValue } from '../../daemon/store/gitConfigReader.js';
import { ShadowError } from '../../shared/errors.js';

/** Where a workspace's hooks live. */
export interface GitHooksLocation {
  /** The worktree's own git dir. */
  gitDir: string;
  /** The git dir shared by all worktrees (gitDir itself outside linked worktrees). */
  commonDir: string;
  /** Absolute path of the hooks directory git uses. */
  hooksDir: string;
  /** True when `core.hooksPath` chose it. */
  fromHooksPath: boolean;
}

/** Resolves the hooks directory of the git work tree at `workspace`; WORKSPACE_INVALID if it is none. */
export function gitHooksDir(workspace: string, env: NodeJS.ProcessEnv): GitHooksLocation {
  const gitDir = findGitDir(workspace);
  const commonDir = commonGitDir(gitDir);
  const value = readGitConfigValue('core.hooksPath', gitDir, env);
  if (typeof value === 'string' && value !== '') {
    // git expands `~/` in path-valued config and resolves a relative one where hooks run: the work tree top.
    const home = env.HOME ?? '';
    const expanded = value === '~' ? home : value.startsWith('~/') ? join(home, value.slice(2)) : value;
    return { gitDir, commonDir, hooksDir: isAbsolute(expanded) ? expanded : resolve(workspace, expanded), fromHooksPath: true };
  }
  return { gitDir, commonDir, hooksDir: join(commonDir, 'hooks'), fromHooksPath: false };
}

/** The git dir of the work tree at `workspace`: `.git` itself, or where a `.git` file points. */
function findGitDir(workspace: string): string {
  const dotGit = join(workspace, '.git');
  let isDir: boolean;
  try {
    isDir = statSync(dotGit).isDirectory();
  } catch {
    throw new ShadowError('WORKSPACE_INVALID', `${workspace} is not a git work tree (no .git): git hooks need a repository`, { workspace });
  }
  if (isDir) return dotGit;
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
  if (!m) throw new ShadowError('WORKSPACE_INVALID', `${dotGit} is not a valid gitdir file`, { workspace, path: dotGit });
  return resolve(workspace, m[1]!);
}
