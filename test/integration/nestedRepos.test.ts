/**
 * Issue #10.7 (S1.1a): nested repositories and submodules keep their history through a cancel.
 * A real daemon, real repositories, native git as the oracle: `rm -rf proj` (a repository with an
 * unpushed commit, uncommitted and untracked work) then cancel brings back its files and its
 * `.git` (log, fsck, status as at the checkpoint), also after the outer repository's
 * `git gc --prune=now`; a removed submodule comes back with its `.git` file and its modules dir;
 * a restore never deletes a nested `.git` and reports the ones it leaves alone.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT_ENV } from '../../daemon/faultPoint.js';
import { Cancel, Checkpoint, Gc, RunFinish, RunGet, RunStart, Status, Undo } from '../../shared/methods/index.js';
import { waitFor } from '../helpers/waitFor.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import { git } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
let client: ShadowClient | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
  for (const c of cleanups.splice(0)) c();
});

const write = (rel: string, content: string): void => writeIn(ws, rel, content);
const read = (rel: string): string => readFileSync(join(ws.dir, rel), 'utf8');
/** Native git inside a nested repository of the workspace. */
const gitAt = (rel: string, args: string[]): string => git(join(ws.dir, rel), args, ws.env);

async function setup(config: object = {}): Promise<ShadowClient> {
  ws = makeTestWorkspace({ git: true });
  write('shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false }, ...config }));
  write('README.md', 'outer\n');
  gitIn(ws, ['add', '-A']);
  gitIn(ws, ['commit', '-q', '-m', 'outer']);
  client = await connectClient(ws);
  return client;
}

/** A nested repository `rel` with one commit never pushed anywhere, uncommitted and untracked work. */
function nestedRepo(rel: string): { head: string; status: string } {
  gitIn(ws, ['init', '-q', '-b', 'main', rel]);
  write(`${rel}/a.txt`, 'committed\n');
  write(`${rel}/.gitignore`, '*.tmp\n');
  gitAt(rel, ['add', '-A']);
  gitAt(rel, ['commit', '-q', '-m', 'unpushed work']);
  write(`${rel}/a.txt`, 'committed\nedited, not committed\n');
  write(`${rel}/staged.txt`, 'staged\n');
  gitAt(rel, ['add', 'staged.txt']);
  write(`${rel}/untracked.txt`, 'untracked\n');
  return { head: gitAt(rel, ['rev-parse', 'HEAD']), status: gitAt(rel, ['status', '--porcelain=v1', '--branch']) };
}

describe('nested repositories (#10.7, S1.1a)', () => {
  it('#10.7 rm -rf of a nested repository with an unpushed commit, then cancel: files and history back, also after the outer git gc --prune=now (S1.1a)', async () => {
    const c = await setup();
    const before = nestedRepo('proj');
    await c.request(RunStart, { name: 'job' });
    rmSync(join(ws.dir, 'proj'), { recursive: true, force: true });
    // The outer repository's own gc must not take the captured history with it.
    gitIn(ws, ['gc', '-q', '--prune=now']);

    const r = await c.request(Cancel, { reason: 'user_cancel' });
    expect(r.status).toBe('cancelled');
    expect(r.restored).toContain('proj/.git');
    expect(read('proj/a.txt')).toBe('committed\nedited, not committed\n');
    expect(gitAt('proj', ['rev-parse', 'HEAD'])).toBe(before.head);
    expect(gitAt('proj', ['log', '--format=%s'])).toBe('unpushed work');
    gitAt('proj', ['fsck', '--full', '--strict', '--no-dangling']);
    expect(gitAt('proj', ['status', '--porcelain=v1', '--branch'])).toBe(before.status);
    expect(gitAt('proj', ['show', ':staged.txt'])).toBe('staged');

    // Undo goes back to the pre-abort state (no proj): proj's files go, its .git stays, reported.
    const u = await c.request(Undo, {});
    expect(u.preserved).toContainEqual({ path: 'proj/.git', reason: 'nested repository: not in the checkpoint, left as it is' });
    expect(existsSync(join(ws.dir, 'proj/a.txt'))).toBe(false);
    expect(gitAt('proj', ['rev-parse', 'HEAD'])).toBe(before.head);
  });

  it('#10.7 a cancel killed right after its journal: the next daemon completes it, the nested .git included (S2.5)', async () => {
    let c = await setup();
    c.close();
    expect((await ws.cli(['daemon', 'stop'])).code).toBe(0);
    ws.env[FAULT_ENV] = 'restore.journal-written';
    c = client = await connectClient(ws);
    const pid = c.hello.pid;
    const before = nestedRepo('proj');
    const s = await c.request(RunStart, { name: 'job' });
    rmSync(join(ws.dir, 'proj'), { recursive: true, force: true });
    await c.request(Cancel, { reason: 'user_cancel' }).catch(() => null);
    await waitFor(() => { try { process.kill(pid, 0); return null; } catch { return true; } }, 'the daemon to die');
    c.close();
    delete ws.env[FAULT_ENV];
    c = client = await connectClient(ws); // completes the journaled restore before answering
    expect((await c.request(RunGet, { run: s.run })).run.status).toBe('cancelled');
    expect(gitAt('proj', ['rev-parse', 'HEAD'])).toBe(before.head);
    expect(gitAt('proj', ['status', '--porcelain=v1', '--branch'])).toBe(before.status);
  });

  it('#10.7 git init in a directory the daemon already knows, then rm -rf and cancel: the .git comes back (S1.1a)', async () => {
    const c = await setup();
    write('proj/a.txt', 'plain files first\n');
    await c.request(Checkpoint, { message: 'before git init' });
    // Only the watcher's events now (no rescan): the .git below is all that changes.
    await waitFor(async () => (await c.request(Status, {})).watcher.mode === 'events' || null, 'watcher vouching');
    await c.request(Checkpoint, { message: 'settled' });
    gitAt('proj', ['init', '-q', '-b', 'main']);
    gitAt('proj', ['add', '-A']);
    gitAt('proj', ['commit', '-q', '-m', 'made a repository']);
    const head = gitAt('proj', ['rev-parse', 'HEAD']);
    await c.request(RunStart, { name: 'job' });
    rmSync(join(ws.dir, 'proj'), { recursive: true, force: true });
    const r = await c.request(Cancel, { reason: 'user_cancel' });
    expect(r.restored).toEqual(['proj/.git', 'proj/a.txt']);
    expect(gitAt('proj', ['rev-parse', 'HEAD'])).toBe(head);
    expect(gitAt('proj', ['status', '--porcelain=v1'])).toBe('');
  });

  it('#10.7 a removed submodule comes back with a working .git file, and its modules dir when that went too (S1.1a)', async () => {
    const c = await setup();
    const src = makeTempDir('shadow-sub-src-');
    cleanups.push(src.cleanup);
    git(src.dir, ['init', '-q', '-b', 'main'], ws.env);
    writeIn({ ...ws, dir: src.dir }, 'lib.txt', 'library\n');
    git(src.dir, ['add', '-A'], ws.env);
    git(src.dir, ['commit', '-q', '-m', 'lib'], ws.env);
    gitIn(ws, ['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', src.dir, 'sub']);
    gitIn(ws, ['commit', '-q', '-m', 'add sub']);
    write('sub/lib.txt', 'library\nlocal commit\n');
    gitAt('sub', ['commit', '-q', '-am', 'unpushed in sub']);
    const head = gitAt('sub', ['rev-parse', 'HEAD']);
    const gitFile = read('sub/.git');
    const outerStatus = gitIn(ws, ['status', '--porcelain=v1']);

    await c.request(RunStart, { name: 'job1' });
    rmSync(join(ws.dir, 'sub'), { recursive: true, force: true });
    const r1 = await c.request(Cancel, { reason: 'user_cancel' });
    expect(r1.restored).toContain('sub/.git');
    expect(read('sub/.git')).toBe(gitFile);
    expect(gitAt('sub', ['rev-parse', 'HEAD'])).toBe(head);
    expect(gitIn(ws, ['status', '--porcelain=v1'])).toBe(outerStatus);

    await c.request(RunStart, { name: 'job2' });
    rmSync(join(ws.dir, 'sub'), { recursive: true, force: true });
    rmSync(join(ws.dir, '.git/modules/sub'), { recursive: true, force: true });
    const r2 = await c.request(Cancel, { reason: 'user_cancel' });
    expect(r2.restored).toEqual(expect.arrayContaining(['sub/.git', '.git/modules/sub']));
    expect(existsSync(join(ws.dir, '.git/modules/sub/HEAD'))).toBe(true);
    expect(gitAt('sub', ['log', '-1', '--format=%H %s'])).toBe(`${head} unpushed in sub`);
    gitAt('sub', ['fsck', '--full', '--no-dangling']);
    expect(gitIn(ws, ['status', '--porcelain=v1'])).toBe(outerStatus);
  });

  it('#10.7 a restore never deletes a nested .git: one the checkpoint lacks and one that differs are kept and reported (S1.1a)', async () => {
    const c = await setup();
    nestedRepo('proj');
    await c.request(RunStart, { name: 'job' });
    // The job commits in the existing nested repository and creates a new one.
    gitAt('proj', ['add', '-A']);
    gitAt('proj', ['commit', '-q', '-m', 'by the job']);
    const jobHead = gitAt('proj', ['rev-parse', 'HEAD']);
    gitIn(ws, ['init', '-q', '-b', 'main', 'made']);
    write('made/m.txt', 'made by the job\n');
    gitAt('made', ['add', '-A']);
    gitAt('made', ['commit', '-q', '-m', 'new repo']);

    const r = await c.request(Cancel, { reason: 'user_cancel' });
    expect(r.removed).toContain('made/m.txt');
    expect(r.preserved).toEqual(expect.arrayContaining(['made/.git', 'proj/.git']));
    expect(r.preservedReasons).toMatchObject({
      'made/.git': 'nested repository: not in the checkpoint, left as it is',
      'proj/.git': 'nested repository: differs from the checkpoint, left as it is',
    });
    expect(gitAt('made', ['log', '--format=%s'])).toBe('new repo');
    expect(gitAt('proj', ['rev-parse', 'HEAD'])).toBe(jobHead);
    gitAt('proj', ['fsck', '--full', '--no-dangling']);
  });

  it('#10.7 shadowctl gc keeps the captures a checkpoint on a ref names and drops those of pruned runs (S1.7)', async () => {
    const c = await setup({ retention: { keepRuns: 1, keepDays: 0, maxAutoSnapshots: 10 } });
    const before = nestedRepo('proj');
    const nested = join(ws.dir, '.git/shadow/nested');
    const first = await c.request(RunStart, { name: 'old' });
    await c.request(RunFinish, {});
    write('proj/b.txt', 'new in the second run\n');
    gitAt('proj', ['add', 'b.txt']); // the index changes: a second capture
    await c.request(RunStart, { name: 'kept' });
    await c.request(RunFinish, {});
    expect(readdirSync(join(nested, 'captures'))).toHaveLength(2);
    const r = await c.request(Gc, {});
    expect(r.runsPruned).toEqual([first.run]);
    expect(existsSync(join(nested, 'checkpoints', `${first.base}.json`))).toBe(false);
    expect(readdirSync(join(nested, 'captures'))).toHaveLength(1);
    // What is kept still restores: the newest run's checkpoints.
    await c.request(RunStart, { name: 'job' });
    rmSync(join(ws.dir, 'proj'), { recursive: true, force: true });
    const x = await c.request(Cancel, { reason: 'user_cancel' });
    expect(x.restored).toContain('proj/.git');
    expect(gitAt('proj', ['rev-parse', 'HEAD'])).toBe(before.head);
    expect(gitAt('proj', ['show', ':b.txt'])).toBe('new in the second run');
    gitAt('proj', ['fsck', '--full', '--no-dangling']);
  });
});
