import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs native git (the oracle) and returns trimmed stdout. */
export function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).trim();
}

/**
 * The tree oid native git computes for `dir` with `git add -A && git write-tree` and a throwaway
 * index (S1.1). In a repository the repository's own ignore config applies; `extraExcludes` adds
 * patterns (e.g. the plain-directory state folder) through a throwaway info/exclude.
 */
export function nativeTree(dir: string, opts: { repo: boolean; extraExcludes?: string[]; env?: NodeJS.ProcessEnv }): string {
  const scratch = mkdtempSync(join(tmpdir(), 'shadow-oracle-'));
  try {
    const index = join(scratch, 'index');
    if (opts.repo) {
      // A throwaway object store too: objects the oracle wrote into the repository's own store
      // would hide a checkpoint that failed to write one (fsck and cat-file would then find it).
      const objects = join(scratch, 'objects');
      mkdirSync(objects);
      const env = { ...opts.env, GIT_INDEX_FILE: index, GIT_OBJECT_DIRECTORY: objects };
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
