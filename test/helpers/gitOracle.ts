import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Runs native git (the oracle) and returns trimmed stdout. */
export function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).trim();
}

/**
 * The tree oid native git computes for `dir` with `git add -A && git write-tree` and a throwaway
 * index (S1.1). In a repository the repository's own ignore config applies; `extraExcludes` adds
 * patterns (e.g. the plain-directory state folder) through a throwaway info/exclude.
 * `userIndex` (repositories): start from a copy of the user's index instead of an empty one, as
 * S1.1 defines parity: tracked files stay in the tree even when an ignore rule matches them.
 */
export function nativeTree(dir: string, opts: { repo: boolean; extraExcludes?: string[]; env?: NodeJS.ProcessEnv; userIndex?: boolean }): string {
  const scratch = mkdtempSync(join(tmpdir(), 'shadow-oracle-'));
  try {
    const index = join(scratch, 'index');
    if (opts.repo) {
      // A throwaway object store too: objects the oracle wrote into the repository's own store
      // would hide a checkpoint that failed to write one (fsck and cat-file would then find it).
      const objects = join(scratch, 'objects');
      mkdirSync(objects);
      let env: NodeJS.ProcessEnv = { ...opts.env, GIT_INDEX_FILE: index, GIT_OBJECT_DIRECTORY: objects };
      if (opts.userIndex) {
        const own = resolve(dir, git(dir, ['rev-parse', '--git-path', 'index'], opts.env));
        if (existsSync(own)) copyFileSync(own, index);
        // The copy names the repository's objects: readable as alternates, never written there.
        env = { ...env, GIT_ALTERNATE_OBJECT_DIRECTORIES: resolve(dir, git(dir, ['rev-parse', '--git-path', 'objects'], opts.env)) };
      }
      git(dir, ['add', '-A'], env);
      return git(dir, ['write-tree'], env);
    }
    // Plain directory: a throwaway git dir, so only the directory's own ignore files apply.
    const gitDir = join(scratch, 'git');
    git(scratch, ['init', '-q', '--bare', gitDir], opts.env);
    mkdirSync(join(gitDir, 'info'), { recursive: true });
    writeFileSync(join(gitDir, 'info', 'exclude'), ['/.shadow/', ...(opts.extraExcludes ?? [])].join('\n') + '\n');
    const env = { ...opts.env, GIT_DIR: gitDir, GIT_WORK_TREE: dir, GIT_INDEX_FILE: index };
    git(dir, ['add', '-A'], env);
    return git(dir, ['write-tree'], env);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
