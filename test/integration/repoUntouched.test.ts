/**
 * The user's repository is never disturbed (S1.2): HEAD, index, branches, tags, stash, config and
 * `git status` are byte-identical before and after checkpoint/log/diff/status; Shadow's commits
 * live under refs/shadow/ only, carry trailers readable by plain git (S1.5), leave no lock behind
 * and keep `git fsck --full --strict` clean (S1.6).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let ws: TestWorkspace;
afterEach(async () => {
  await ws?.cleanup();
});

function write(path: string, content: string): void {
  const full = join(ws.dir, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content);
}

/** The bytes of a file under .git as a digest ('<absent>' when missing), so a diff stays readable. */
function bytesOf(rel: string): string {
  const file = join(ws.dir, '.git', rel);
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : '<absent>';
}

/** Every `*.lock` file anywhere under `dir`, relative to the workspace. */
function locksUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('.lock'))
    .map((p) => relative(ws.dir, join(dir, p)));
}

/**
 * Everything S1.2 says must stay byte-identical. Only read-only git commands run here
 * (`--no-optional-locks` keeps `git status` from refreshing the index behind our back).
 */
function repoState(): Record<string, string> {
  const g = (args: string[]): string => gitIn(ws, ['--no-optional-locks', ...args]);
  return {
    head: g(['rev-parse', 'HEAD']),
    headFile: readFileSync(join(ws.dir, '.git', 'HEAD'), 'utf8'),
    headReflog: bytesOf('logs/HEAD'),
    index: bytesOf('index'),
    config: bytesOf('config'),
    packedRefs: bytesOf('packed-refs'),
    refs: g(['for-each-ref', '--format=%(refname) %(objectname) %(symref)'])
      .split('\n')
      .filter((l) => !l.startsWith('refs/shadow/'))
      .join('\n'),
    stash: g(['stash', 'list', '--format=%H %gd %gs']),
    status: g(['status', '--porcelain=v2', '--branch', '--untracked-files=all']),
    statusIgnored: g(['status', '--porcelain=v2', '--ignored=matching', '--untracked-files=all']),
    // New top-level files in .git (a stray index.lock, ORIG_HEAD…) would show here; shadow/ is Shadow's own.
    gitDirEntries: readdirSync(join(ws.dir, '.git')).filter((n) => n !== 'shadow').sort().join(' '),
  };
}

/** A repository with everything S1.2 lists: staged and unstaged changes, a stash, untracked and ignored files, branches, tags. */
function seedRepository(): void {
  const g = (...args: string[]): string => gitIn(ws, args);
  write('.gitignore', '*.log\n');
  write('src/a.txt', 'a1\n');
  write('src/b.txt', 'b1\n');
  write('doc.md', 'doc\n');
  g('add', '-A');
  g('commit', '-q', '-m', 'first');
  g('branch', 'feature');
  g('tag', 'v1');
  g('tag', '-a', 'v2', '-m', 'annotated');
  write('src/a.txt', 'a2\n');
  g('commit', '-q', '-am', 'second');
  g('config', 'user.useconfigonly', 'false'); // any config content: its bytes must stay as they are
  // A stash, then work in progress on top of it.
  write('src/b.txt', 'stashed change\n');
  g('stash', 'push', '-q', '-m', 'wip');
  write('src/a.txt', 'staged\n');
  write('src/new-staged.txt', 'new and staged\n');
  g('add', 'src/a.txt', 'src/new-staged.txt');
  write('src/a.txt', 'staged, then edited again\n'); // staged AND unstaged
  write('doc.md', 'unstaged\n');
  write('untracked.txt', 'untracked\n');
  write('untracked-dir/x.txt', 'untracked\n');
  write('ignored.log', 'ignored\n');
}

/** `git --no-optional-locks` with the workspace env, keeping stdout and stderr. */
function gitRaw(args: string[]): { code: number; out: string } {
  const r = spawnSync('git', args, { cwd: ws.dir, env: { ...process.env, ...ws.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

describe('the user repository is untouched (S1.2, S1.5, S1.6)', () => {
  it('S1.2 S1.5 S1.6 checkpoint, log, diff and status leave HEAD, index, refs, stash, config and status byte-identical', async () => {
    ws = makeTestWorkspace({ git: true });
    seedRepository();
    const before = repoState();
    expect(before.stash).toContain('wip');
    expect(before.status).toMatch(/^1 MM .* src\/a\.txt$/m); // the fixture has staged and unstaged changes

    const commits: string[] = [];
    for (let i = 0; i < 3; i++) {
      const cp = await ws.json<{ commit: string; tree: string; ref: string; run: string | null }>(['checkpoint', '-m', `checkpoint ${i}`]);
      expect(cp.ref).toBe('refs/shadow/manual');
      commits.push(cp.commit);
      await ws.json(['log']);
      await ws.json(['diff']);
      await ws.json(['status']);
    }
    await ws.json(['log', '--ref', 'manual', '-n', '5']);
    await ws.json(['diff', commits[0] as string]);
    // The auto snapshot (after the quiet period) is a Shadow write too: let it happen before "after".
    await waitFor(() => gitRaw(['rev-parse', '--verify', '-q', 'refs/shadow/auto']).code === 0, 'the auto snapshot', 15_000);
    expect(repoState()).toEqual(before);

    // A change in the working tree, checkpointed: still nothing of the user's moves.
    write('untracked.txt', 'changed\n');
    const before2 = repoState();
    const cp = await ws.json<{ commit: string }>(['checkpoint', '-m', 'after an edit']);
    commits.push(cp.commit);
    await ws.json(['diff', commits[0] as string]);
    expect(repoState()).toEqual(before2);

    // Every checkpoint is on refs/shadow/manual, reachable for git (so gc keeps it), and only there.
    const manual = gitIn(ws, ['log', '--format=%H', 'refs/shadow/manual']).split('\n');
    expect(manual.slice(0, commits.length)).toEqual([...commits].reverse());
    const all = new Set(gitIn(ws, ['rev-list', '--all']).split('\n'));
    for (const c of commits) expect(all.has(c)).toBe(true);
    const shadowRefs = gitIn(ws, ['for-each-ref', '--format=%(refname)', 'refs/shadow/']).split('\n');
    expect(shadowRefs).toEqual(expect.arrayContaining(['refs/shadow/manual', 'refs/shadow/auto']));
    for (const c of commits) {
      const containing = gitIn(ws, ['for-each-ref', '--contains', c, '--format=%(refname)']).split('\n');
      expect(containing.every((r) => r.startsWith('refs/shadow/'))).toBe(true);
    }

    // S1.5: trailers that plain `git log` parses as trailers, not just text in the message.
    const kinds = gitIn(ws, ['log', '--format=%(trailers:key=Shadow-Kind,valueonly)%x00', 'refs/shadow/manual'])
      .split('\0')
      .map((s) => s.trim())
      .filter(Boolean);
    expect(kinds).toEqual(commits.map(() => 'checkpoint'));
    expect(gitIn(ws, ['log', '-1', '--format=%s', 'refs/shadow/manual'])).toBe('after an edit');
    expect(gitIn(ws, ['log', '-1', '--format=%(trailers:key=Shadow-Kind,valueonly)', 'refs/shadow/auto'])).toBe('auto');

    // S1.6: no lock left behind, anywhere in the repository; fsck clean and strict.
    expect(locksUnder(join(ws.dir, '.git', 'refs', 'shadow'))).toEqual([]);
    // (.git/shadow/daemon.lock is the running daemon's workspace lock in its own state folder, S2.1.)
    expect(locksUnder(join(ws.dir, '.git')).filter((p) => !p.startsWith('.git/shadow/'))).toEqual([]);
    // The daemon stopped first: fsck lists loose objects before it reads the refs, so an auto
    // snapshot landing in between would read as "missing commit" (a race of fsck's, not a loss).
    expect((await ws.cli(['daemon', 'stop'])).code).toBe(0);
    const fsck = gitRaw(['fsck', '--full', '--strict', '--no-dangling', '--no-progress']);
    expect(fsck).toEqual({ code: 0, out: '' });
    // fsck and rev-list are read-only, but make sure the state still holds after them too.
    expect(repoState()).toEqual(before2);
  });

  it('S1.6 shadow commits survive git pack-refs, gc --prune=now and repack; later checkpoints stay consistent', async () => {
    ws = makeTestWorkspace({ git: true });
    seedRepository();
    // No auto snapshot: it would make the diff's blob below reachable and hide the case.
    write('shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    const commits = [(await ws.json<{ commit: string }>(['checkpoint', '-m', 'one'])).commit];
    const mustOk = (args: string[]): void => {
      const r = gitRaw(args);
      expect(r.code, r.out).toBe(0);
    };
    mustOk(['pack-refs', '--all']);
    mustOk(['gc', '--prune=now', '--quiet']);
    expect(existsSync(join(ws.dir, '.git', 'refs', 'shadow', 'manual'))).toBe(false); // now in packed-refs
    write('src/after-gc.txt', 'written after gc\n');
    write('doc.md', 'edited after gc\n');
    commits.push((await ws.json<{ commit: string }>(['checkpoint', '-m', 'two'])).commit);
    mustOk(['repack', '-a', '-d', '-q']);
    mustOk(['prune', '--expire=now']);
    // A blob hashed for a diff but never committed is unreachable: git prunes it. When the same
    // content comes back, the daemon must write it again rather than trust its memory.
    write('src/z.txt', 'content Z\n');
    await ws.json(['diff']);
    write('src/z.txt', 'content W, longer\n');
    commits.push((await ws.json<{ commit: string }>(['checkpoint', '-m', 'W'])).commit);
    mustOk(['prune', '--expire=now']);
    const zBlob = createHash('sha1').update('blob 10\0content Z\n').digest('hex');
    expect(gitRaw(['cat-file', '-e', zBlob]).code).not.toBe(0); // pruned: the case is real
    write('src/z.txt', 'content Z\n');
    write('src/after-repack.txt', 'written after repack\n');
    commits.push((await ws.json<{ commit: string }>(['checkpoint', '-m', 'three'])).commit);
    expect(gitIn(ws, ['log', '--format=%H', 'refs/shadow/manual']).split('\n')).toEqual([...commits].reverse());
    for (const c of commits) expect(gitRaw(['cat-file', '-e', `${c}^{tree}`]).code).toBe(0);
    expect(gitIn(ws, ['show', 'refs/shadow/manual:src/after-repack.txt'])).toBe('written after repack');
    expect(gitIn(ws, ['show', 'refs/shadow/manual:src/z.txt'])).toBe('content Z');
    expect(locksUnder(join(ws.dir, '.git', 'refs', 'shadow'))).toEqual([]);
    expect(gitRaw(['fsck', '--full', '--strict', '--no-dangling', '--no-progress'])).toEqual({ code: 0, out: '' });
  });
});
