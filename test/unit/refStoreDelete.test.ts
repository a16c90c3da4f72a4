import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RefStore } from '../../daemon/store/refStore.js';
import { git } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_NOSYSTEM: '1' };

/** A repository with a branch, an annotated tag and shadow refs, all packed, plus one loose shadow ref. */
function repo(): { dir: string; gitDir: string; head: string } {
  const t = makeTempDir();
  cleanup = t.cleanup;
  git(t.dir, ['init', '-q', '-b', 'main'], ENV);
  git(t.dir, ['commit', '-q', '--allow-empty', '-m', 'init'], ENV);
  git(t.dir, ['tag', '-a', 'v1', '-m', 'release'], ENV);
  const head = git(t.dir, ['rev-parse', 'HEAD'], ENV).trim();
  for (const r of ['runs/a', 'runs/b', 'runs/c', 'auto']) git(t.dir, ['update-ref', `refs/shadow/${r}`, head], ENV);
  git(t.dir, ['pack-refs', '--all'], ENV);
  git(t.dir, ['update-ref', 'refs/shadow/runs/b', head], ENV); // loose copy over the packed one
  git(t.dir, ['update-ref', 'refs/shadow/runs/d', head], ENV); // loose only
  return { dir: t.dir, gitDir: join(t.dir, '.git'), head };
}

describe('RefStore.delete (S1.7)', () => {
  it('S1.7 deletes loose and packed shadow refs; every other packed-refs line stays byte-identical', () => {
    const { dir, gitDir } = repo();
    const before = readFileSync(join(gitDir, 'packed-refs'), 'utf8');
    expect(before).toMatch(/\n\^[0-9a-f]{40}\n/); // the annotated tag's peeled line
    const refs = new RefStore(gitDir);
    const existed = refs.delete(['refs/shadow/runs/a', 'refs/shadow/runs/b', 'refs/shadow/runs/d', 'refs/shadow/runs/none']);
    expect(existed).toEqual(['refs/shadow/runs/a', 'refs/shadow/runs/b', 'refs/shadow/runs/d']);
    const after = readFileSync(join(gitDir, 'packed-refs'), 'utf8');
    expect(after).toBe(before.split('\n').filter((l) => !/ refs\/shadow\/runs\/[ab]$/.test(l)).join('\n'));
    expect(git(dir, ['for-each-ref', '--format=%(refname)'], ENV).trim().split('\n')).toEqual([
      'refs/heads/main',
      'refs/shadow/auto',
      'refs/shadow/runs/c',
      'refs/tags/v1',
    ]);
    expect(existsSync(join(gitDir, 'refs/shadow/runs/b'))).toBe(false);
    expect(existsSync(join(gitDir, 'packed-refs.lock'))).toBe(false);
    git(dir, ['fsck', '--full', '--strict'], ENV);
  });

  it('S1.7 waits for, then reports, a packed-refs.lock held by git; refuses refs outside refs/shadow/', () => {
    const { gitDir } = repo();
    const refs = new RefStore(gitDir);
    writeFileSync(join(gitDir, 'packed-refs.lock'), '');
    const before = readFileSync(join(gitDir, 'packed-refs'), 'utf8');
    expect(() => refs.delete(['refs/shadow/runs/a'], 50)).toThrow(expect.objectContaining({ code: 'REF_LOCKED' }));
    expect(readFileSync(join(gitDir, 'packed-refs'), 'utf8')).toBe(before);
    expect(refs.read('refs/shadow/runs/a')).not.toBeNull();
    expect(existsSync(join(gitDir, 'refs/shadow/runs/a.lock'))).toBe(false);
    expect(() => refs.delete(['refs/heads/main'])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
