/**
 * Stale ref locks (S2.5, S1.6), found by the fault injection (scripts/faults.mjs): a daemon
 * SIGKILLed while holding `refs/shadow/<ref>.lock` left it behind and every later checkpoint on
 * that ref failed with REF_LOCKED for good. A lock from before this process started (over a
 * second old) or over 30 s old is now removed; a live one is still waited for and reported.
 */
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RefStore } from '../../daemon/store/refStore.js';
import { git } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_NOSYSTEM: '1' };

/** A repository with refs/shadow/manual at HEAD and a `.lock` on it dated `mtimeMs`. */
function lockedRepo(mtimeMs: number): { dir: string; gitDir: string; head: string; lock: string } {
  const t = makeTempDir();
  cleanup = t.cleanup;
  git(t.dir, ['init', '-q', '-b', 'main'], ENV);
  git(t.dir, ['commit', '-q', '--allow-empty', '-m', 'init'], ENV);
  const head = git(t.dir, ['rev-parse', 'HEAD'], ENV);
  git(t.dir, ['update-ref', 'refs/shadow/manual', head], ENV);
  const gitDir = join(t.dir, '.git');
  const lock = join(gitDir, 'refs/shadow/manual.lock');
  mkdirSync(join(gitDir, 'refs/shadow'), { recursive: true });
  writeFileSync(lock, ''); // what a daemon killed right after taking the lock leaves
  utimesSync(lock, mtimeMs / 1000, mtimeMs / 1000);
  return { dir: t.dir, gitDir, head, lock };
}

/** A second commit to move the ref to. */
function child(dir: string): string {
  return git(dir, ['commit-tree', '-p', 'HEAD', '-m', 'next', 'HEAD^{tree}'], ENV);
}

describe('stale refs/shadow locks (S2.5)', () => {
  it('S2.5 a lock left by a daemon that died before this one started is removed and the update goes through', () => {
    const processStart = Date.now() - process.uptime() * 1000;
    const { dir, gitDir, head, lock } = lockedRepo(processStart - 2000);
    const next = child(dir);
    new RefStore(gitDir).update('refs/shadow/manual', next, head);
    expect(existsSync(lock)).toBe(false);
    expect(readFileSync(join(gitDir, 'refs/shadow/manual'), 'utf8').trim()).toBe(next);
    git(dir, ['fsck', '--full', '--strict'], ENV);
  });

  it('S2.5 a lock over 30 s old is stale whoever took it', () => {
    const { dir, gitDir, head } = lockedRepo(Date.now() - 60_000);
    const next = child(dir);
    new RefStore(gitDir).update('refs/shadow/manual', next, head);
    expect(git(dir, ['rev-parse', 'refs/shadow/manual'], ENV)).toBe(next);
  });

  it('S1.6 a fresh lock (git holding it now) is never removed: REF_LOCKED after the wait', () => {
    const { dir, gitDir, head, lock } = lockedRepo(Date.now());
    const next = child(dir);
    let code: string | undefined;
    try {
      new RefStore(gitDir).update('refs/shadow/manual', next, head, 200);
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toBe('REF_LOCKED');
    expect(existsSync(lock)).toBe(true);
    expect(git(dir, ['rev-parse', 'refs/shadow/manual'], ENV)).toBe(head);
  });
});
