import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireWorkspaceLock, isShadowdProcess } from '../../daemon/workspaceLock.js';
import type { ShadowError } from '../../shared/errors.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

let dir: string;
let cleanup: () => void;
const children: ChildProcess[] = [];
beforeEach(() => ({ dir, cleanup } = makeTempDir()));
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  cleanup();
});

const WS = '/some/workspace';
const lockPath = () => join(dir, 'daemon.lock');

/** A live process; `args` end up in its /proc cmdline. */
async function startIdle(...args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ...args], { stdio: 'ignore' });
  children.push(child);
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child;
}

function expectRunning(fn: () => unknown, pid: number): void {
  try {
    fn();
  } catch (err) {
    expect((err as ShadowError).code).toBe('DAEMON_RUNNING');
    expect((err as ShadowError).details).toMatchObject({ pid, workspace: WS, lock: lockPath() });
    return;
  }
  throw new Error('expected DAEMON_RUNNING');
}

describe('acquireWorkspaceLock (S2.1)', () => {
  it('writes {pid, startedAt, workspace} with mode 0600 and removes it on release', () => {
    const lock = acquireWorkspaceLock(dir, WS);
    expect(lock.path).toBe(lockPath());
    const info = JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number; startedAt: string; workspace: string };
    expect(info.pid).toBe(process.pid);
    expect(info.workspace).toBe(WS);
    expect(Number.isNaN(Date.parse(info.startedAt))).toBe(false);
    expect(statSync(lock.path).mode & 0o777).toBe(0o600);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    lock.release(); // idempotent
  });

  it('refuses a second acquire in the same process with DAEMON_RUNNING', () => {
    const lock = acquireWorkspaceLock(dir, WS);
    expectRunning(() => acquireWorkspaceLock(dir, WS), process.pid);
    lock.release();
    acquireWorkspaceLock(dir, WS).release();
  });

  it('refuses when the owner check says the live pid is a shadowd (injected check)', async () => {
    const other = await startIdle();
    writeFileSync(lockPath(), JSON.stringify({ pid: other.pid, startedAt: new Date().toISOString(), workspace: WS }));
    expectRunning(() => acquireWorkspaceLock(dir, WS, () => true), other.pid!);
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(other.pid);
  });

  it.runIf(process.platform === 'linux')('refuses when a live process runs daemon/main (real /proc check)', async () => {
    const daemon = await startIdle('/opt/shadow/dist/daemon/main.js');
    expect(isShadowdProcess(daemon.pid!)).toBe(true);
    writeFileSync(lockPath(), JSON.stringify({ pid: daemon.pid, startedAt: new Date().toISOString(), workspace: WS }));
    expectRunning(() => acquireWorkspaceLock(dir, WS), daemon.pid!);
  });

  it.runIf(process.platform === 'linux')('treats a live pid that is not a shadowd as stale (pid reuse after kill -9)', async () => {
    const stranger = await startIdle();
    expect(isShadowdProcess(stranger.pid!)).toBe(false);
    writeFileSync(lockPath(), JSON.stringify({ pid: stranger.pid, startedAt: new Date().toISOString(), workspace: WS }));
    const lock = acquireWorkspaceLock(dir, WS);
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('clears a lock whose pid is dead', async () => {
    const dead = await startIdle();
    const pid = dead.pid!;
    dead.kill('SIGKILL');
    await waitFor(() => dead.exitCode !== null || dead.signalCode !== null, 'child to die');
    writeFileSync(lockPath(), JSON.stringify({ pid, startedAt: new Date().toISOString(), workspace: WS }));
    // Even a check that calls everything a shadowd cannot revive a dead pid.
    const lock = acquireWorkspaceLock(dir, WS, () => true);
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  for (const [what, content] of [
    ['garbage', 'not json at all\u0000'],
    ['empty', ''],
    ['wrong shape', '{"pid": "12"}'],
    ['a negative pid', '{"pid": -1}'],
  ] as const) {
    it(`clears a lock with ${what} content`, () => {
      writeFileSync(lockPath(), content);
      const lock = acquireWorkspaceLock(dir, WS, () => true);
      expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(process.pid);
      lock.release();
    });
  }

  it('clears a lock with our own pid that this process does not hold (previous incarnation)', () => {
    writeFileSync(lockPath(), JSON.stringify({ pid: process.pid, startedAt: '2000-01-01T00:00:00Z', workspace: WS }));
    const lock = acquireWorkspaceLock(dir, WS, () => true);
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).startedAt).not.toBe('2000-01-01T00:00:00Z');
    lock.release();
  });

  it('release leaves a lock that another daemon has taken since', () => {
    const lock = acquireWorkspaceLock(dir, WS);
    writeFileSync(lockPath(), JSON.stringify({ pid: 1, startedAt: new Date().toISOString(), workspace: WS }));
    lock.release();
    expect(existsSync(lockPath())).toBe(true);
  });

  it('fails with STATE_WRITE_FAILED when the state dir is missing', () => {
    try {
      acquireWorkspaceLock(join(dir, 'missing'), WS);
      throw new Error('expected failure');
    } catch (err) {
      expect((err as ShadowError).code).toBe('STATE_WRITE_FAILED');
    }
  });
});
