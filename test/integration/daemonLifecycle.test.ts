/**
 * Acceptance tests of the daemon's life (S2.1, S2.3) and of auto snapshots (S2.2), through the
 * real CLI and the real daemon, each test with its own workspace, runtime dir and daemon.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShadowClient, Status } from '../../client/index.js';
import { nativeTree } from '../helpers/gitOracle.js';
import { gitIn, makeTestWorkspace } from '../helpers/testWorkspace.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

const DAEMON_ENTRY = fileURLToPath(new URL('../../dist/daemon/main.js', import.meta.url));

let ws: TestWorkspace | undefined;
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await ws?.cleanup();
  ws = undefined;
});

/** A foreground daemon process and what it printed. */
interface Foreground {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node dist/daemon/main.js ...args` directly (no vitest flags), as `npm start` does. */
function runDaemon(w: TestWorkspace, args: string[]): Foreground {
  const env: NodeJS.ProcessEnv = { ...process.env, ...w.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [DAEMON_ENTRY, ...args], { cwd: w.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const err: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => Buffer.concat(err).toString('utf8'), exited };
}

/** True while `pid` is a live process (a zombie nobody reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** `daemon status --json` of a running daemon. */
interface DaemonInfo {
  pid: number;
  workspace: string;
  socket: string;
  version: string;
}

async function daemonInfo(w: TestWorkspace): Promise<DaemonInfo> {
  const { daemon } = await w.json<{ daemon: DaemonInfo }>(['daemon', 'status']);
  // Only the identity: uptime and the like change between two calls.
  return { pid: daemon.pid, workspace: daemon.workspace, socket: daemon.socket, version: daemon.version };
}

function stateDir(w: TestWorkspace): string {
  return existsSync(join(w.dir, '.git')) ? join(w.dir, '.git', 'shadow') : join(w.dir, '.shadow');
}

describe('S2.1 daemon lifecycle', () => {
  it('S2.1 any command auto-starts the daemon; daemon status names pid, workspace, socket, version', async () => {
    ws = makeTestWorkspace({ git: true });
    // Nothing runs yet: daemon status does not start one (exit 3).
    const before = await ws.cli(['daemon', 'status', '--json']);
    expect(before.code).toBe(3);
    expect(before.json()).toMatchObject({ daemon: null });

    const status = await ws.cli(['status']);
    expect(status.code, status.stderr).toBe(0);

    const d = await daemonInfo(ws);
    expect(d.pid).toBeGreaterThan(0);
    expect(alive(d.pid)).toBe(true);
    expect(d.workspace).toBe(ws.dir);
    expect(typeof d.version).toBe('string');
    expect(d.version.length).toBeGreaterThan(0);
    expect(statSync(d.socket).isSocket()).toBe(true);
    expect(readFileSync(`/proc/${d.pid}/cmdline`, 'utf8')).toContain('daemon/main');
  });

  it('S2.1 a second daemon on the same workspace refuses, naming the running pid; the first keeps serving', async () => {
    ws = makeTestWorkspace({ git: true });
    const first = await daemonInfo(await started(ws));
    const second = runDaemon(ws, ['-C', ws.dir]);
    const { code } = await second.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(second.stderr()).toContain(`pid ${first.pid}`);
    expect(second.stderr()).toMatch(/already serves/);

    // The first one is untouched: same pid, same socket, still answering real work.
    expect(alive(first.pid)).toBe(true);
    expect(await daemonInfo(ws)).toEqual(first);
    writeFileSync(join(ws.dir, 'a.txt'), 'a\n');
    const cp = await ws.json<{ tree: string }>(['checkpoint']);
    expect(cp.tree).toBe(nativeTree(ws.dir, { repo: true }));
  });

  it('S2.1 after kill -9 the next command starts a fresh daemon; old checkpoints stay readable and new ones work', async () => {
    ws = makeTestWorkspace({ git: true });
    writeFileSync(join(ws.dir, 'before.txt'), 'before\n');
    const old = await ws.json<{ commit: string; tree: string }>(['checkpoint', '-m', 'before the crash']);
    const first = await daemonInfo(ws);
    const lockFile = join(stateDir(ws), 'daemon.lock');
    expect(existsSync(lockFile)).toBe(true);

    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => !alive(first.pid), 'the killed daemon to be gone');
    // The crash leaves its lock and socket behind: the next start must see them as stale.
    expect(existsSync(lockFile)).toBe(true);
    expect(existsSync(first.socket)).toBe(true);

    writeFileSync(join(ws.dir, 'after.txt'), 'after\n');
    const cp = await ws.json<{ commit: string; tree: string }>(['checkpoint', '-m', 'after the crash']);
    expect(cp.tree).toBe(nativeTree(ws.dir, { repo: true }));
    const second = await daemonInfo(ws);
    expect(second.pid).not.toBe(first.pid);
    expect(alive(second.pid)).toBe(true);
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(second.pid);

    const log = await ws.json<{ entries: { commit: string; tree: string; subject: string }[] }>(['log', '--ref', 'manual']);
    expect(log.entries.map((e) => e.commit)).toEqual([cp.commit, old.commit]);
    expect(log.entries[1]).toMatchObject({ tree: old.tree, subject: 'before the crash' });
  });

  it('S2.1 daemon stop ends the process and removes its socket and lock file', async () => {
    ws = makeTestWorkspace({ git: true });
    const d = await daemonInfo(await started(ws));
    const lockFile = join(stateDir(ws), 'daemon.lock');
    expect(existsSync(lockFile)).toBe(true);

    const stop = await ws.cli(['daemon', 'stop', '--json']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.json()).toMatchObject({ stopped: true, pid: d.pid });
    await waitFor(() => !alive(d.pid), 'the daemon process to exit');
    expect(existsSync(d.socket)).toBe(false);
    expect(existsSync(lockFile)).toBe(false);
    // Stopping again is fine, and status does not bring it back.
    expect((await ws.cli(['daemon', 'stop'])).code).toBe(0);
    expect((await ws.cli(['daemon', 'status'])).code).toBe(3);
  });

  it('S2.1 daemon stop returns once the daemon exited, even while its parent cannot reap it (a zombie is not alive)', async () => {
    ws = makeTestWorkspace({ git: true });
    // A script auto-starts the daemon through the typed client (so the daemon is its child), then
    // runs `shadowctl daemon stop` synchronously: its event loop is blocked, nothing reaps the
    // exited daemon, and a pid probe with kill(0) alone saw it alive until the 20 s deadline.
    const script = `
      import { execFileSync } from 'node:child_process';
      const { ShadowClient } = await import(${JSON.stringify(new URL('../../dist/client/index.js', import.meta.url).href)});
      const c = await ShadowClient.connect({ workspace: process.argv[1] });
      c.close();
      const t = Date.now();
      execFileSync(process.execPath, [${JSON.stringify(fileURLToPath(new URL('../../dist/client/shadowctl.cjs', import.meta.url)))}, '-C', process.argv[1], 'daemon', 'stop'], { stdio: 'inherit' });
      console.log(JSON.stringify({ ms: Date.now() - t }));
    `;
    const env: NodeJS.ProcessEnv = { ...process.env, ...ws.env, NO_COLOR: '1' };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ws.dir], { cwd: ws.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code, Buffer.concat(err).toString()).toBe(0);
    const lines = Buffer.concat(out).toString().trim().split('\n');
    expect(lines[0]).toMatch(/^Daemon stopped \(pid \d+\)\.$/);
    // Gross bound: the stop waits for the exit, not for the 20 s deadline.
    expect((JSON.parse(lines.at(-1) as string) as { ms: number }).ms).toBeLessThan(15_000);
  });

  it.each([
    ['git', true, '.git/shadow/logs/daemon.log'],
    ['plain', false, '.shadow/logs/daemon.log'],
  ])('S2.3 the daemon logs to the state folder (%s workspace)', async (_kind, git, rel) => {
    ws = makeTestWorkspace({ git });
    const d = await daemonInfo(await started(ws));
    await ws.json(['checkpoint']);
    const log = join(ws.dir, rel);
    const lines = await waitFor(() => {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      const all = text.split('\n').filter(Boolean);
      return all.some((l) => l.includes('shadowd ready')) && all.some((l) => l.includes('"msg":"checkpoint"')) ? all : null;
    }, `${rel} to hold the ready and checkpoint lines`);
    // pino JSON lines with the daemon's pid.
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ pid: d.pid });
  });

  it('S2.1 S2.3 foreground run with --pretty prints readable lines; SIGTERM exits 0 and removes the socket', async () => {
    ws = makeTestWorkspace({ git: true });
    const fg = runDaemon(ws, ['-C', ws.dir, '--pretty']);
    await waitFor(() => fg.stderr().includes('shadowd ready'), 'the ready line on stderr', 15_000);
    const d = await daemonInfo(ws);
    expect(d.pid).toBe(fg.child.pid);
    expect(existsSync(d.socket)).toBe(true);

    // Readable, not pino JSON: "[time] INFO (pid): message".
    const ready = fg.stderr().split('\n').find((l) => l.includes('shadowd ready')) ?? '';
    expect(ready.trimStart().startsWith('{')).toBe(false);
    expect(ready).toMatch(/INFO/);

    fg.child.kill('SIGTERM');
    const { code, signal } = await fg.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(existsSync(d.socket)).toBe(false);
    expect(existsSync(join(stateDir(ws), 'daemon.lock'))).toBe(false);
    expect(fg.stderr()).toMatch(/shutting down/);
  });
});

describe('S2.4 shutdown during a long scan', () => {
  it('S2.4 SIGTERM while the initial scan of 30 000 files runs exits 0 within gracefulShutdownTimeout; the next daemon checkpoints exactly', { timeout: 180_000 }, async () => {
    ws = makeTestWorkspace({ git: true });
    // 1 s: far less than hashing 30 000 files takes, so only a scan that stops can exit cleanly
    // (the forced path exits 1).
    writeFileSync(join(ws.dir, 'shadow.config.json'), '{"gracefulShutdownTimeout": 1}');
    for (let d = 0; d < 300; d++) {
      const dir = join(ws.dir, 'big', `d${d}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(dir, `f${f}.txt`), `${d}/${f}\n`);
    }
    const fg = runDaemon(ws, ['-C', ws.dir, '--pretty']);
    await waitFor(() => fg.stderr().includes('shadowd ready'), 'the ready line on stderr', 30_000);
    const { socket } = await daemonInfo(ws);
    fg.child.kill('SIGTERM');
    const { code, signal } = await fg.exited;
    expect({ code, signal }, fg.stderr()).toEqual({ code: 0, signal: null });
    expect(existsSync(socket)).toBe(false);

    const cp = await ws.cli(['checkpoint', '--json'], { timeoutMs: 120_000 });
    expect(cp.code, cp.stderr).toBe(0);
    expect(cp.json<{ files: number }>().files).toBe(30_001);
    expect(cp.json<{ tree: string }>().tree).toBe(nativeTree(ws.dir, { repo: true }));
  });
});

describe('S2.2 auto snapshots', () => {
  it('S2.2 after a change and the quiet period (default 2 s) refs/shadow/auto gets a commit with native git\'s tree; no change, no commit', async () => {
    ws = makeTestWorkspace({ git: true });
    await started(ws);
    // The daemon takes a first auto snapshot once it has been quiet since start.
    const first = await waitFor(() => autoHead(ws!), 'the first auto snapshot', 15_000);
    expect(gitIn(ws, ['rev-parse', `${first}^{tree}`])).toBe(nativeTree(ws.dir, { repo: true }));

    const t0 = Date.now();
    writeFileSync(join(ws.dir, 'new.txt'), 'a change\n');
    const second = await waitFor(() => {
      const h = autoHead(ws!);
      return h && h !== first ? h : null;
    }, 'an auto snapshot of the change', 15_000);
    // A timer never fires early: with the default quiet period the commit cannot come sooner.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(gitIn(ws, ['rev-parse', `${second}^{tree}`])).toBe(nativeTree(ws.dir, { repo: true }));
    expect(gitIn(ws, ['rev-parse', `${second}^`])).toBe(first);
    expect(gitIn(ws, ['log', '-1', '--format=%B', second])).toMatch(/auto/);

    // An event without a change (same bytes rewritten) re-arms the timer; the pass that follows
    // must find the tree unchanged and write nothing. An open connection polls fast enough to
    // see the event pending during the quiet period, then drained by the auto pass.
    const client = await ShadowClient.connect({ workspace: ws.dir, env: { ...process.env, ...ws.env }, autoStart: false });
    const pending = async () => (await client.request(Status, {})).watcher.pending;
    try {
      writeFileSync(join(ws.dir, 'new.txt'), 'a change\n');
      await waitFor(async () => (await pending()) > 0, 'the watcher to report the rewrite');
      await waitFor(async () => (await pending()) === 0, 'the auto pass to drain the watcher', 15_000);
    } finally {
      client.close();
    }
    // log goes through the store's queue: once it answers, that auto pass has finished.
    const log = await ws.json<{ entries: { commit: string }[] }>(['log', '--ref', 'auto']);
    expect(log.entries.map((e) => e.commit)).toEqual([second, first]);
    expect(autoHead(ws)).toBe(second);
  });
});

/** Starts the daemon through the CLI and returns the workspace. */
async function started(w: TestWorkspace): Promise<TestWorkspace> {
  const r = await w.cli(['daemon', 'start']);
  expect(r.code, r.stderr).toBe(0);
  return w;
}

/** The commit on refs/shadow/auto, or null. */
function autoHead(w: TestWorkspace): string | null {
  try {
    return gitIn(w, ['rev-parse', '--verify', '-q', 'refs/shadow/auto']) || null;
  } catch {
    return null;
  }
}
