/**
 * #10.11 per-worktree refs (S1.2): a RefStore keeps `refs/shadow/<name>` in its worktree's
 * namespace, and never reads, lists, moves or deletes another worktree's refs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { RefStore } from '../../daemon/store/refStore.js';
import { git } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_NOSYSTEM: '1' };

/** A repository with two commits: `a` and `b`. */
function repo(): { dir: string; gitDir: string; a: string; b: string } {
  const t = makeTempDir();
  cleanup = t.cleanup;
  git(t.dir, ['init', '-q', '-b', 'main'], ENV);
  git(t.dir, ['commit', '-q', '--allow-empty', '-m', 'a'], ENV);
  const a = git(t.dir, ['rev-parse', 'HEAD'], ENV);
  git(t.dir, ['commit', '-q', '--allow-empty', '-m', 'b'], ENV);
  const b = git(t.dir, ['rev-parse', 'HEAD'], ENV);
  return { dir: t.dir, gitDir: join(t.dir, '.git'), a, b };
}

const refsOf = (dir: string): string[] => git(dir, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/shadow/'], ENV).split('\n').filter(Boolean);

describe('RefStore namespaces (#10.11, S1.2)', () => {
  it('#10.11 a linked worktree\'s refs live under refs/shadow/worktrees/<id>/ and the main worktree never sees them (S1.2)', () => {
    const { dir, gitDir, a, b } = repo();
    const main = new RefStore(gitDir);
    const wt = new RefStore(gitDir, 'refs/shadow/worktrees/wtB/');
    main.update('refs/shadow/undo', a, null);
    main.update('refs/shadow/runs/r1', a, null);
    wt.update('refs/shadow/undo', b, null);
    wt.update('refs/shadow/runs/r2', b, null);
    expect(refsOf(dir)).toEqual([
      `refs/shadow/runs/r1 ${a}`,
      `refs/shadow/undo ${a}`,
      `refs/shadow/worktrees/wtB/runs/r2 ${b}`,
      `refs/shadow/worktrees/wtB/undo ${b}`,
    ]);
    expect(main.read('refs/shadow/undo')).toBe(a);
    expect(wt.read('refs/shadow/undo')).toBe(b);
    expect([...main.list()]).toEqual([['refs/shadow/runs/r1', a], ['refs/shadow/undo', a]]);
    expect([...wt.list()].sort()).toEqual([['refs/shadow/runs/r2', b], ['refs/shadow/undo', b]]);
    expect([...wt.list('refs/shadow/runs/')]).toEqual([['refs/shadow/runs/r2', b]]);
    // Another worktree's refs cannot even be named: not read, not written, not deleted.
    expect(main.read('refs/shadow/worktrees/wtB/undo')).toBeNull();
    expect(() => main.update('refs/shadow/worktrees/wtB/undo', a, b)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => main.delete(['refs/shadow/worktrees/wtB/undo'])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    // Reachability (`refs/`) still sees every worktree's refs: nothing of B is unreachable to A.
    expect([...main.list('refs/').keys()]).toContain('refs/shadow/worktrees/wtB/undo');
  });

  it('#10.11 packed refs keep their namespace: a delete in one worktree leaves the other\'s packed ref (S1.7)', () => {
    const { dir, gitDir, a, b } = repo();
    const main = new RefStore(gitDir);
    const wt = new RefStore(gitDir, 'refs/shadow/worktrees/wtB/');
    main.update('refs/shadow/runs/x', a, null);
    wt.update('refs/shadow/runs/x', b, null);
    git(dir, ['pack-refs', '--all'], ENV);
    expect(wt.read('refs/shadow/runs/x')).toBe(b);
    expect(wt.delete(['refs/shadow/runs/x'])).toEqual(['refs/shadow/runs/x']);
    expect(main.read('refs/shadow/runs/x')).toBe(a);
    expect(wt.read('refs/shadow/runs/x')).toBeNull();
    expect(refsOf(dir)).toEqual([`refs/shadow/runs/x ${a}`]);
    git(dir, ['fsck', '--full', '--strict'], ENV);
  });
});
