/**
 * The nested store (#10.7): a git dir captured (objects hard-linked into the pool, metadata
 * copied) comes back as a working repository (native git: log, fsck, status); an unchanged
 * repository costs no new capture, a changed one re-links what did not change; retention drops
 * what no live checkpoint names and keeps what one does.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { captureGitDir, nestedStorePaths, readManifest } from '../../daemon/store/nestedRepoCapture.js';
import { pruneNestedStore } from '../../daemon/store/nestedRepoPrune.js';
import { materializeCapture, sameAsCapture } from '../../daemon/store/nestedRepoRestore.js';
import { makeTempDir } from '../helpers/tempDir.js';

const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent', GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e' };
const git = (cwd: string, args: string[]): string => execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function setup(): { repo: string; state: string } {
  const t = makeTempDir('shadow-nested-');
  cleanup = t.cleanup;
  const repo = join(t.dir, 'repo');
  mkdirSync(repo);
  git(repo, ['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'a.txt'), 'a\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'one']);
  git(repo, ['gc', '-q']); // a pack, and loose objects after the next commit
  writeFileSync(join(repo, 'b.txt'), 'b\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'two']);
  return { repo, state: join(t.dir, 'state') };
}

describe('nested store (#10.7)', () => {
  it('#10.7 a captured git dir comes back whole: log, fsck and status as captured (S1.1a)', () => {
    const { repo, state } = setup();
    const store = nestedStorePaths(state);
    const status = git(repo, ['status', '--porcelain=v1', '--branch']);
    const cap = captureGitDir(store, join(repo, '.git'), null);
    const m = readManifest(store, cap.id);
    expect(m.objects.some((o) => o.endsWith('.pack'))).toBe(true);
    // Objects are links of the repository's own files, not copies.
    const pack = m.objects.find((o) => o.endsWith('.pack')) as string;
    expect(statSync(join(store.pool, pack.slice('objects/'.length))).ino).toBe(statSync(join(repo, '.git', pack)).ino);

    rmSync(join(repo, '.git'), { recursive: true });
    expect(materializeCapture(store, cap.id, join(repo, '.git'))).toBe(true);
    expect(git(repo, ['log', '--format=%s'])).toBe('two\none');
    git(repo, ['fsck', '--full', '--strict', '--no-dangling']);
    expect(git(repo, ['status', '--porcelain=v1', '--branch'])).toBe(status);
    expect(sameAsCapture(store, cap.id, join(repo, '.git'))).toBe(true);
    // Never over an existing git dir.
    expect(materializeCapture(store, cap.id, join(repo, '.git'))).toBe(false);
    expect(readdirSync(store.tmp)).toEqual([]);
  });

  it('#10.7 unchanged: same capture, nothing written; changed: a new capture linking unchanged files (S1.4)', () => {
    const { repo, state } = setup();
    const store = nestedStorePaths(state);
    const first = captureGitDir(store, join(repo, '.git'), null);
    expect(captureGitDir(store, join(repo, '.git'), first).id).toBe(first.id);
    expect(readdirSync(store.captures)).toEqual([first.id]);
    writeFileSync(join(repo, 'c.txt'), 'c\n');
    git(repo, ['add', 'c.txt']);
    const second = captureGitDir(store, join(repo, '.git'), first);
    expect(second.id).not.toBe(first.id);
    expect(sameAsCapture(store, first.id, join(repo, '.git'))).toBe(false);
    expect(sameAsCapture(store, second.id, join(repo, '.git'))).toBe(true);
    const ino = (id: string): number => statSync(join(store.captures, id, 'git', 'config')).ino;
    expect(ino(second.id)).toBe(ino(first.id));
  });

  it('#10.7 retention keeps what a live checkpoint names and drops the rest (S1.7)', () => {
    const { repo, state } = setup();
    const store = nestedStorePaths(state);
    const a = captureGitDir(store, join(repo, '.git'), null);
    mkdirSync(store.checkpoints, { recursive: true });
    writeFileSync(join(store.checkpoints, `${'a'.repeat(40)}.json`), JSON.stringify({ repos: [{ path: 'repo', gitFile: null, capture: a.id }] }));
    expect(pruneNestedStore(store, new Set(['a'.repeat(40)]))).toEqual({ records: 0, captures: 0, objects: 0 });
    rmSync(join(repo, '.git'), { recursive: true });
    expect(materializeCapture(store, a.id, join(repo, '.git'))).toBe(true);
    git(repo, ['fsck', '--full', '--no-dangling']);
    const pruned = pruneNestedStore(store, new Set());
    expect(pruned.records).toBe(1);
    expect(pruned.captures).toBe(1);
    expect(pruned.objects).toBeGreaterThan(0);
    expect(existsSync(join(store.captures, a.id))).toBe(false);
  });
});
