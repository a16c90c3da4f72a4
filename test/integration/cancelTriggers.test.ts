/**
 * What sets a cancel off and what it waits for (S5.1, S5.5, S4.5, S5.6, S5.8, S2.4), end to end
 * through the typed client: safe points, child runs and processes, the deadline, the error
 * threshold, the abort file, cleanup of temp paths and lock files, log rotation, daemon SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireEvent } from '../../shared/wire.js';
import { Cancel, CancellationLog, Checkpoint, RunError, RunGet, RunRegister, RunStart, RunUnsafe, Status } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace , writeIn } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let ws: TestWorkspace;
const clients: ShadowClient[] = [];
const procs: ChildProcess[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await ws?.cleanup();
});

const write = (rel: string, content: string): void => writeIn(ws, rel, content);

async function setup(config: object = {}, git = true): Promise<ShadowClient> {
  ws = makeTestWorkspace({ git });
  write('shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false }, ...config }));
  write('src/a.txt', 'a\n');
  return client();
}

async function client(): Promise<ShadowClient> {
  const c = await connectClient(ws);
  clients.push(c);
  return c;
}

/**
 * A process the test owns (and reaps): `detached` makes it lead its own process group. With
 * `ignoreTerm`, resolves once the shell has set its trap (a SIGTERM before that would end it).
 */
async function spawnSleeper(detached: boolean, ignoreTerm = false): Promise<ChildProcess> {
  if (!ignoreTerm) {
    const p = spawn('sleep', ['1000'], { detached, stdio: 'ignore' });
    procs.push(p);
    return p;
  }
  const p = spawn('sh', ['-c', 'trap "" TERM; echo ready; sleep 1000 & wait'], { detached, stdio: ['ignore', 'pipe', 'ignore'] });
  procs.push(p);
  await new Promise<void>((resolve, reject) => {
    p.stdout?.once('data', () => resolve());
    p.once('exit', () => reject(new Error('the shell exited before its trap')));
  });
  return p;
}
const exited = (p: ChildProcess): boolean => p.exitCode !== null || p.signalCode !== null;

describe('safe points (S5.5)', () => {
  it('a cancel inside an unsafe section reports cancelling, waits for its end, and is then consistent', async () => {
    const c = await setup();
    const other = await client();
    const s = await c.request(RunStart, {});
    await c.request(RunUnsafe, { section: 'begin' });
    write('half-written.txt', 'x');
    let done = false;
    const pending = other.request(Cancel, {}).finally(() => (done = true));
    const st = await waitFor(async () => {
      const run = (await c.request(Status, {})).run;
      return run?.status === 'cancelling' ? run : null;
    }, 'the run to be cancelling');
    expect(st).toMatchObject({ id: s.run, unsafe: 1 });
    expect(done).toBe(false);
    expect(existsSync(join(ws.dir, 'half-written.txt'))).toBe(true); // nothing touched while it waits
    expect(await c.request(RunUnsafe, { section: 'end' })).toEqual({ run: s.run, depth: 0 });
    const r = await pending;
    expect(r).toMatchObject({ status: 'cancelled', inconsistent: false, removed: ['half-written.txt'] });
  });

  it('after safePointTimeout the cancel forces and answers inconsistent: true', async () => {
    const c = await setup({ safePointTimeout: '300ms' });
    await c.request(RunStart, {});
    await c.request(RunUnsafe, { section: 'begin' });
    const t0 = Date.now();
    const r = await c.request(Cancel, { reason: 'timeout' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(r).toMatchObject({ inconsistent: true, status: 'cancelled' });
    expect((await c.request(RunGet, {})).run.inconsistent).toBe(true);
    expect((await c.request(CancellationLog, { n: 1 })).entries[0]?.inconsistent).toBe(true);
  });

  it('--force skips the safe-point wait', async () => {
    // A timeout far beyond any machine's slowness: a cancel that waited for it would take 20 s.
    const c = await setup({ safePointTimeout: '20s' });
    await c.request(RunStart, {});
    await c.request(RunUnsafe, { section: 'begin' });
    const t1 = Date.now();
    const f = await c.request(Cancel, { force: true, reason: 'timeout' }, { timeoutMs: 30_000 });
    expect(Date.now() - t1).toBeLessThan(10_000);
    expect(f.inconsistent).toBe(true);
  });
});

describe('children and processes (S4.5, S5.6)', () => {
  it('cancelling a parent cancels its child runs and terminates every registered process (SIGTERM, then SIGKILL)', async () => {
    const c = await setup({ gracefulShutdownTimeout: '500ms' });
    const parent = await c.request(RunStart, { name: 'parent' });
    const child = await c.request(RunStart, { name: 'child', parent: parent.run });
    const grandchild = await c.request(RunStart, { name: 'grandchild', parent: child.run });
    const plain = await spawnSleeper(false); // not a group leader: signalled by pid
    const group = await spawnSleeper(true); // its own group
    const stubborn = await spawnSleeper(true, true); // ignores SIGTERM: needs the SIGKILL
    await c.request(RunRegister, { run: grandchild.run, pid: plain.pid as number });
    await c.request(RunRegister, { run: child.run, pid: group.pid as number });
    await c.request(RunRegister, { pid: stubborn.pid as number });
    write('work.txt', 'by the child\n');

    const dry = await c.request(Cancel, { dryRun: true });
    expect(dry.cancelled).toEqual([grandchild.run, child.run, parent.run]);
    expect(dry.processes.sort()).toEqual([plain.pid, group.pid, stubborn.pid].sort());
    expect(exited(plain) || exited(group) || exited(stubborn)).toBe(false);

    const r = await c.request(Cancel, {});
    expect(r.cancelled).toEqual([grandchild.run, child.run, parent.run]);
    expect(r.processes.sort()).toEqual([plain.pid, group.pid, stubborn.pid].sort());
    await waitFor(() => exited(plain) && exited(group) && exited(stubborn), 'every process to end');
    expect(plain.signalCode).toBe('SIGTERM');
    expect(group.signalCode).toBe('SIGTERM');
    expect(stubborn.signalCode).toBe('SIGKILL');
    for (const id of [child.run, grandchild.run]) {
      expect((await c.request(RunGet, { run: id })).run).toMatchObject({ status: 'cancelled', trigger: 'parent', resumable: true });
    }
    expect(existsSync(join(ws.dir, 'work.txt'))).toBe(false); // the parent's remove_all covers the children's work
  });

  it('S5.6: registered temp paths are deleted and lock files released', async () => {
    const c = await setup();
    write('.gitignore', 'tmp/\n');
    await c.request(RunStart, {});
    write('tmp/work/part1', 'scratch');
    write('scratch.txt', 'scratch');
    write('build.lock', String(process.pid));
    await c.request(RunRegister, { tempPaths: ['tmp/work', 'scratch.txt'], lockFiles: ['build.lock'] });
    await c.request(Cancel, { reason: 'timeout' }); // keep_checkpoint: only the cleanup deletes
    for (const p of ['tmp/work', 'scratch.txt', 'build.lock']) expect(existsSync(join(ws.dir, p)), p).toBe(false);
    expect(existsSync(join(ws.dir, 'tmp'))).toBe(true);
    expect((await c.request(CancellationLog, { n: 1 })).entries[0]?.cleanup).toMatchObject({ tempPaths: 2, lockFiles: 1 });
  });
});

describe('triggers (S5.1)', () => {
  it('the deadline cancels with reason timeout, trigger deadline, keep_checkpoint', async () => {
    const c = await setup();
    const s = await c.request(RunStart, { timeoutMs: 400 });
    expect((await c.request(Status, {})).run?.deadline).toBeGreaterThan(Date.now());
    const run = await waitFor(async () => {
      const r = (await c.request(RunGet, { run: s.run })).run;
      return r.status === 'cancelled' ? r : null;
    }, 'the deadline cancel');
    expect(run).toMatchObject({ reason: 'timeout', trigger: 'deadline', action: 'keep_checkpoint', resumable: true });
  });

  it('errorThreshold consecutive errors roll back to the last checkpoint (reason error); a checkpoint resets the count', async () => {
    const c = await setup({ errorThreshold: 2 });
    await c.request(RunStart, {});
    write('good.txt', 'good\n');
    expect((await c.request(RunError, { message: 'flaky' })).errors).toBe(1);
    const cp = await c.request(Checkpoint, {});
    write('bad.txt', 'bad\n');
    expect(await c.request(RunError, { message: 'first' })).toMatchObject({ errors: 1, threshold: 2, cancelled: null });
    const r = await c.request(RunError, { message: 'test suite failed: 3 of 10' });
    expect(r.errors).toBe(2);
    expect(r.cancelled).toMatchObject({ reason: 'error', trigger: 'error_threshold', action: 'rollback', status: 'failed', restoredTo: cp.commit, removed: ['bad.txt'] });
    expect(nativeTree(ws.dir, { repo: true, env: ws.env })).toBe(cp.tree);
    expect((await c.request(RunGet, {})).run.message).toContain('test suite failed: 3 of 10');
  });

  it('the abort file (written atomically) cancels within a second, is removed, and its message and reason are recorded', async () => {
    const c = await setup();
    const events: WireEvent[] = [];
    await c.subscribe(['cancel'], (e) => events.push(e));
    // A stale abort file is cleared when a run starts (S4.2).
    write('.shadow-abort', 'stale\n');
    const s = await c.request(RunStart, {});
    expect(existsSync(join(ws.dir, '.shadow-abort'))).toBe(false);
    write('work.txt', 'w');
    writeFileSync(join(ws.dir, '.abort.tmp'), 'quality_failure\ncoverage 61% below 80%\n');
    const t0 = Date.now();
    renameSync(join(ws.dir, '.abort.tmp'), join(ws.dir, '.shadow-abort'));
    const run = await waitFor(async () => {
      const r = (await c.request(RunGet, { run: s.run })).run;
      return r.status === 'cancelled' && !existsSync(join(ws.dir, '.shadow-abort')) ? r : null;
    }, 'the abort-file cancel', 5000, 10);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(run).toMatchObject({ reason: 'quality_failure', trigger: 'abort_file', action: 'keep_for_review' });
    expect(run.message).toContain('coverage 61% below 80%');
    expect(readFileSync(join(ws.dir, '.needs-review'), 'utf8')).toContain('A work.txt');
    await waitFor(() => events.some((e) => (e.data as { stage?: string }).stage === 'done'), 'the cancel event');
    expect(events[0]).toMatchObject({ event: 'cancel', data: { run: s.run, stage: 'cancelling', reason: 'quality_failure' } });
  });

  it('S2.4: daemon SIGTERM interrupts every active run resumably with a final checkpoint, then exits gracefully', async () => {
    const c = await setup({ gracefulShutdownTimeout: '3s' });
    const s = await c.request(RunStart, { phases: ['one'] });
    const sleeper = await spawnSleeper(true);
    await c.request(RunRegister, { pid: sleeper.pid as number });
    write('partial.txt', 'partial work\n');
    const during = nativeTree(ws.dir, { repo: true, env: ws.env });
    const pid = c.hello.pid;
    const t0 = Date.now();
    process.kill(pid, 'SIGTERM');
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the daemon to exit', 5000);
    expect(Date.now() - t0).toBeLessThan(3000);
    await waitFor(() => exited(sleeper), 'the registered process to end');
    const record = JSON.parse(readFileSync(join(ws.dir, '.git', 'shadow', 'runs', `${s.run}.json`), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ status: 'interrupted', reason: 'shutdown', trigger: 'daemon_shutdown', action: 'keep_checkpoint', resumable: true });
    expect(gitIn(ws, ['rev-parse', `${s.ref}^{tree}`])).toBe(during);
    expect(existsSync(join(ws.dir, 'partial.txt'))).toBe(true);
    expect(readdirSync(join(ws.runtimeDir, 'run')).filter((f) => f.endsWith('.sock'))).toEqual([]);
  });
});

describe('cancellation log rotation (S5.8)', () => {
  it('rotates by maxLogSize, keeps maxLogFiles rotated files, and reads back newest first across them', async () => {
    const c = await setup({ maxLogSize: '1KB', maxLogFiles: 2 }, false);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const s = await c.request(RunStart, { name: `run-${i}` });
      ids.push(s.run);
      await c.request(Cancel, { reason: 'timeout', message: 'm'.repeat(300) });
    }
    // rotating-file-stream renames files asynchronously after a write: wait until the folder settles.
    const logs = await waitFor(() => {
      const names = readdirSync(join(ws.dir, '.shadow', 'logs')).filter((f) => f.startsWith('cancellations')).sort();
      return names.length === 3 && names.every((f) => existsSync(join(ws.dir, '.shadow', 'logs', f))) ? names : null;
    }, 'three cancellation log files');
    expect(logs).toEqual(['cancellations.jsonl', 'cancellations.jsonl.1', 'cancellations.jsonl.2']);
    for (const f of logs) expect(readFileSync(join(ws.dir, '.shadow', 'logs', f)).length).toBeLessThan(2048);
    const entries = (await c.request(CancellationLog, { n: 100 })).entries.map((e) => e.run);
    expect(entries.length).toBeGreaterThan(2);
    expect(entries.length).toBeLessThan(8); // the oldest rotated out
    expect(entries).toEqual(ids.slice(-entries.length).reverse());
  });
});
