/**
 * Destructive steps verify, they never trust (issue #10 items 2–5, S1.1a): the tree is rescanned
 * before the pre-abort commit (writes through mmap or another hard link raise no watcher event),
 * each path is checked again right before it is overwritten or removed, a journal replay takes a
 * fresh pre-abort commit and keeps what the user wrote after the crash, and a restore brings back
 * every path of the checkpoint whatever today's ignore rules say. Writes are landed inside the
 * windows deterministically with SHADOW_FAULT_PAUSE_AT (daemon/faultPoint.ts).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, linkSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cancel, Checkpoint, Restore, RunGet, RunStart, Undo } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let ws: TestWorkspace;
let client: ShadowClient | undefined;
let outside: string | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
  if (outside) rmSync(outside, { recursive: true, force: true });
  outside = undefined;
});

const read = (rel: string): string => readFileSync(join(ws.dir, rel), 'utf8');
const tree = (): string => nativeTree(ws.dir, { repo: true, env: ws.env });
const treeOf = (commit: string): string => gitIn(ws, ['rev-parse', `${commit}^{tree}`]);
const show = (commit: string, path: string): string => gitIn(ws, ['show', `${commit}:${path}`]);

/** A repository with `files` committed, auto snapshots off, and a daemon started with `env` (fault points). */
async function setup(files: Record<string, string>, env: NodeJS.ProcessEnv = {}, beforeDaemon: () => void = () => undefined): Promise<ShadowClient> {
  ws = makeTestWorkspace({ git: true });
  writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
  for (const [rel, content] of Object.entries(files)) writeIn(ws, rel, content);
  gitIn(ws, ['add', '-A']);
  gitIn(ws, ['commit', '-q', '-m', 'project']);
  Object.assign(ws.env, env);
  beforeDaemon();
  client = await connectClient(ws);
  return client;
}

/** A pause file in the workspace's runtime dir, and the environment that pauses the daemon at `point`. */
function pauseAt(point: string): { file: string; env: NodeJS.ProcessEnv } {
  const file = join(mkdtempSync(join(tmpdir(), 'shadow-pause-')), 'paused');
  outside = join(file, '..');
  return { file, env: { SHADOW_FAULT_PAUSE_AT: point, SHADOW_FAULT_PAUSE_FILE: file } };
}

/** An editor's save: a temp file renamed over the target. */
function atomicSave(rel: string, content: string): void {
  writeFileSync(join(ws.dir, `${rel}.swp`), content);
  renameSync(join(ws.dir, `${rel}.swp`), join(ws.dir, rel));
}

/** Overwrites the first bytes of a file through a shared mmap (python3): no inotify event. */
function mmapWrite(abs: string, bytes: string): void {
  const py = `import mmap,sys\nwith open(sys.argv[1],'r+b') as f:\n  m=mmap.mmap(f.fileno(),0)\n  m[0:${Buffer.byteLength(bytes)}]=sys.argv[2].encode()\n  m.flush()\n  m.close()\n`;
  execFileSync('python3', ['-c', py, abs, bytes]);
}

describe('#10.4 writes landing during a cancel (S1.1a)', () => {
  it('#10.4 an atomic save and an append landing after the pre-abort commit are preserved, never overwritten (S1.1a)', async () => {
    const pause = pauseAt('restore.journal-written');
    const c = await setup({ 'a.txt': 'base a\n', 'log.txt': 'base line\n', 'b.txt': 'base b\n' }, pause.env);
    const s = await c.request(RunStart, { name: 'job' });
    writeIn(ws, 'a.txt', 'job a\n');
    appendFileSync(join(ws.dir, 'log.txt'), 'job line\n');
    writeIn(ws, 'b.txt', 'job b\n');
    writeIn(ws, 'c.txt', 'job c\n');
    const cancel = c.request(Cancel, { run: s.run, action: 'remove_all' });
    await waitFor(() => existsSync(pause.file), 'the daemon to pause after the pre-abort commit', 30_000);
    // The daemon is frozen between its pre-abort commit and the restore: the user saves and a logger appends.
    atomicSave('a.txt', 'editor save\n');
    appendFileSync(join(ws.dir, 'log.txt'), 'late line\n');
    unlinkSync(pause.file);
    const r = await cancel;
    expect(read('a.txt')).toBe('editor save\n');
    expect(read('log.txt')).toBe('base line\njob line\nlate line\n');
    expect(read('b.txt')).toBe('base b\n');
    expect(existsSync(join(ws.dir, 'c.txt'))).toBe(false);
    expect(r.preservedReasons['a.txt']).toBe('changed during restore');
    expect(r.preservedReasons['log.txt']).toBe('changed during restore');
    // The job's versions are in the pre-abort commit: nothing of either writer is lost.
    expect(show(r.preAbort as string, 'a.txt')).toBe('job a');
    expect(show(r.preAbort as string, 'log.txt')).toBe('base line\njob line');
  }, 60_000);

  it('#10.4 a file created where the restore recreates one, right before it is placed, is kept (no rename over it) (S1.1a)', async () => {
    const pause = pauseAt('restore.before-recheck');
    const c = await setup({ 'keep.txt': 'base keep\n', 'gone.txt': 'base gone\n' }, pause.env);
    const s = await c.request(RunStart, { name: 'job' });
    rmSync(join(ws.dir, 'gone.txt'));
    const cancel = c.request(Cancel, { run: s.run, action: 'remove_all' });
    await waitFor(() => existsSync(pause.file), 'the daemon to pause before placing gone.txt', 30_000);
    writeIn(ws, 'gone.txt', 'the user made it again\n');
    unlinkSync(pause.file);
    const r = await cancel;
    expect(read('gone.txt')).toBe('the user made it again\n');
    expect(r.preservedReasons['gone.txt']).toBe('changed during restore');
    expect(readFileSync(join(ws.dir, 'keep.txt'), 'utf8')).toBe('base keep\n');
  }, 60_000);


  it('#10.4 a file that changed where the checkpoint has a directory is kept, not unlinked on the way to the directory (S1.1a)', async () => {
    const pause = pauseAt('restore.journal-written');
    const c = await setup({ 'cfg/a.txt': 'base cfg a\n' }, pause.env);
    const s = await c.request(RunStart, { name: 'job' });
    rmSync(join(ws.dir, 'cfg'), { recursive: true });
    writeIn(ws, 'cfg', 'job made cfg a file\n');
    const cancel = c.request(Cancel, { run: s.run, action: 'remove_all' });
    await waitFor(() => existsSync(pause.file), 'the daemon to pause after the pre-abort commit', 30_000);
    writeIn(ws, 'cfg', 'the user edited the file cfg\n');
    unlinkSync(pause.file);
    const r = await cancel;
    expect(read('cfg')).toBe('the user edited the file cfg\n');
    expect(r.preservedReasons.cfg).toBe('changed during restore');
    expect(r.preservedReasons['cfg/a.txt']).toBe('in the way: cfg');
  }, 60_000);
});

describe('#10.5 writes that raise no watcher event (S1.1a, S1.4)', () => {
  it('#10.5 a write through mmap and one through another hard link are in the pre-abort commit before the cancel overwrites them', async () => {
    const c = await setup({ 'm.bin': 'aaaaaaaaaaaaaaaa\n', 'h.txt': 'base h\n' });
    outside = mkdtempSync(join(tmpdir(), 'shadow-link-'));
    const s = await c.request(RunStart, { name: 'job' });
    writeIn(ws, 'm.bin', 'job1job1job1job1\n');
    writeIn(ws, 'h.txt', 'job h 1\n');
    await c.request(Checkpoint, { run: s.run });
    // h.txt gets a second name outside the workspace; then both files change with no event in it.
    linkSync(join(ws.dir, 'h.txt'), join(outside, 'h-link'));
    mmapWrite(join(ws.dir, 'm.bin'), 'MMAPMMAPMMAPMMAP');
    writeFileSync(join(outside, 'h-link'), 'job h 2, through the other name\n');
    const r = await c.request(Cancel, { run: s.run, action: 'remove_all' });
    expect(show(r.preAbort as string, 'm.bin')).toBe('MMAPMMAPMMAPMMAP');
    expect(show(r.preAbort as string, 'h.txt')).toBe('job h 2, through the other name');
    expect(read('m.bin')).toBe('aaaaaaaaaaaaaaaa\n');
    await c.request(Undo, {});
    expect(read('m.bin')).toBe('MMAPMMAPMMAPMMAP\n');
    expect(read('h.txt')).toBe('job h 2, through the other name\n');
  }, 60_000);

  it('#10.5 a checkpoint sees a file written through another hard link (nlink > 1 is re-statted at each refresh)', async () => {
    // The second name exists before the daemon starts, as a real tree's hard links do.
    const c = await setup({ 'h.txt': 'base h\n', 'x.txt': 'x\n' }, {}, () => {
      outside = mkdtempSync(join(tmpdir(), 'shadow-link-'));
      linkSync(join(ws.dir, 'h.txt'), join(outside, 'h-link'));
    });
    await c.request(Checkpoint, {});
    writeFileSync(join(outside as string, 'h-link'), 'changed through the other name\n');
    const cp = await c.request(Checkpoint, {});
    expect(cp.tree).toBe(tree());
    expect(show(cp.commit, 'h.txt')).toBe('changed through the other name');
  }, 60_000);
});

describe('#10.2 restore ignores today\'s ignore rules (S1.1a, S1.8)', () => {
  it('#10.2 a checkpoint path that today\'s .gitignore ignores comes back when nothing is in the way; an ignored file in the way is kept', async () => {
    const c = await setup({ '.gitignore': 'node_modules/\n', '.vscode/settings.json': '{ "tabSize": 2 }\n', 'gen.txt': 'generated, tracked\n', 'src/a.ts': 'a\n' });
    const first = await c.request(Checkpoint, { message: 'before the checkout' });
    expect(first.tree).toBe(tree());
    // What `git checkout` of an older commit does: the rule comes with the deletion.
    writeIn(ws, '.gitignore', 'node_modules/\n/.vscode\ngen.txt\n');
    rmSync(join(ws.dir, '.vscode'), { recursive: true });
    // ...and the older commit's index does not track them (a tracked file would be captured, #10.1).
    gitIn(ws, ['rm', '-r', '-q', '--cached', 'gen.txt', '.vscode']);
    // gen.txt is ignored now and holds bytes in no checkpoint: it must not be overwritten.
    writeIn(ws, 'gen.txt', 'ignored local bytes\n');
    await c.request(Checkpoint, { message: 'after the checkout' });
    const r = await c.request(Restore, { checkpoint: first.commit });
    expect(read('.vscode/settings.json')).toBe('{ "tabSize": 2 }\n');
    expect(r.restored).toContain('.vscode/settings.json');
    expect(read('gen.txt')).toBe('ignored local bytes\n');
    expect(r.preserved.find((p) => p.path === 'gen.txt')?.reason).toBe('ignored');
    expect(read('.gitignore')).toBe('node_modules/\n');
  }, 60_000);

  it('#10.2 undo takes away a force-added file that a restore wrote while the index did not track it (S5.4)', async () => {
    // A checkpoint where git tracks dist/app.js although dist/ is ignored (git add -f)...
    const c = await setup({ '.gitignore': 'dist/\n', 'src/a.ts': 'a\n' }, {}, () => {
      writeIn(ws, 'dist/app.js', 'bundle v2\n');
      gitIn(ws, ['add', '-f', 'dist/app.js']);
      gitIn(ws, ['commit', '-q', '-m', 'v2 with its bundle']);
    });
    const v2 = await c.request(Checkpoint, { message: 'v2' });
    // ...then an older commit is checked out, whose index lacks the bundle.
    gitIn(ws, ['rm', '-q', '--cached', 'dist/app.js']);
    rmSync(join(ws.dir, 'dist'), { recursive: true });
    const r = await c.request(Restore, { checkpoint: v2.commit });
    expect(r.restored).toContain('dist/app.js');
    expect(read('dist/app.js')).toBe('bundle v2\n');
    // Ignored and untracked now, but the restore's own write: undo removes it, its bytes in a commit.
    await c.request(Undo, {});
    expect(existsSync(join(ws.dir, 'dist/app.js'))).toBe(false);
  }, 60_000);
});

describe('#10.3 journal replay after a crash (S2.5, S1.1a)', () => {
  it('#10.3 crash mid-cancel, edits, restart: the edits are in a new pre-abort commit, kept where they conflict, and undo keeps them', async () => {
    const files: Record<string, string> = {};
    for (let i = 1; i <= 5; i++) files[`f${i}.txt`] = `v0 ${i}\n`;
    // The daemon dies after the removal of n.txt and the write of f1.txt.
    const c = await setup(files, { SHADOW_FAULT_KILL_AT: 'restore.apply-step#2' });
    const s = await c.request(RunStart, { name: 'job' });
    for (let i = 1; i <= 5; i++) writeIn(ws, `f${i}.txt`, `job ${i}\n`);
    writeIn(ws, 'n.txt', 'job new\n');
    const during = tree();
    const pid = c.hello.pid;
    await c.request(Cancel, { run: s.run, action: 'remove_all' }).catch(() => null);
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the daemon to die');
    c.close();
    expect(read('f1.txt')).toBe('v0 1\n');
    expect(read('f4.txt')).toBe('job 4\n');
    // The user goes on working before any command restarts the daemon.
    writeIn(ws, 'f1.txt', 'user after the crash 1\n');
    writeIn(ws, 'f4.txt', 'user after the crash 4\n');
    writeIn(ws, 'u.txt', 'user new file\n');
    const found = tree();
    delete ws.env.SHADOW_FAULT_KILL_AT;
    client = await connectClient(ws);
    expect(existsSync(join(ws.dir, '.git', 'shadow', 'journal.json'))).toBe(false);
    // Completed: the cancel's own paths are back at the base; the later edits are untouched.
    expect(read('f2.txt')).toBe('v0 2\n');
    expect(read('f5.txt')).toBe('v0 5\n');
    expect(read('f1.txt')).toBe('user after the crash 1\n');
    expect(read('f4.txt')).toBe('user after the crash 4\n');
    expect(read('u.txt')).toBe('user new file\n');
    const run = (await client.request(RunGet, { run: s.run })).run;
    expect(run.status).toBe('cancelled');
    expect(treeOf(run.preAbort as string)).toBe(during);
    // A fresh pre-abort commit holds the tree as the restart found it.
    const undoLog = gitIn(ws, ['log', '--format=%H', 'refs/shadow/undo']).split('\n');
    expect(undoLog.map(treeOf)).toContain(found);
    expect(undoLog).toContain(run.preAbort);
    // Undo: the state before the cancel, with the edits made after the crash kept.
    await client.request(Undo, {});
    expect(read('f2.txt')).toBe('job 2\n');
    expect(read('n.txt')).toBe('job new\n');
    expect(read('f1.txt')).toBe('user after the crash 1\n');
    expect(read('f4.txt')).toBe('user after the crash 4\n');
    expect(read('u.txt')).toBe('user new file\n');
  }, 90_000);
});
