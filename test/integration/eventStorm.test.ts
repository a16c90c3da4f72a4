/**
 * Event storms (S2.2, issue acceptance): an `npm install`-sized burst must not stall the daemon
 * or exhaust its memory, and a storm past inotify's queue (whose overflow Node never reports)
 * must still give an exact checkpoint (S1.1, S1.4). The burst runs in a child process so this
 * process stays free to poll `shadowctl status` and the daemon's RSS while it happens.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShadowClient, Status } from '../../client/index.js';
import { nativeTree } from '../helpers/gitOracle.js';
import { makeTestWorkspace } from '../helpers/testWorkspace.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';

/** Gross bounds from the acceptance criteria. */
const MAX_STATUS_MS = 2000;
const MAX_RSS_MB = 400;

let ws: TestWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

/**
 * Writes files under `root` as fast as one process can: `dirs` directories of `perDir` files,
 * `d000/f000.txt`. With `version`, rewrites the same files with new bytes of the same length
 * (so size never gives a change away).
 */
const WRITER = `
const fs = require('node:fs');
const path = require('node:path');
const [root, dirs, perDir, version] = process.argv.slice(1);
for (let d = 0; d < +dirs; d++) {
  const dir = path.join(root, 'd' + String(d).padStart(3, '0'));
  fs.mkdirSync(dir, { recursive: true });
  for (let f = 0; f < +perDir; f++) {
    fs.writeFileSync(path.join(dir, 'f' + String(f).padStart(3, '0') + '.txt'), 'v' + version + ' ' + d + '/' + f + '\\n');
  }
}
`;

/** Runs the writer in a child process; resolves when it has exited cleanly. */
function writeFilesInChild(root: string, dirs: number, perDir: number, version: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', WRITER, root, String(dirs), String(perDir), String(version)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}: ${err}`))));
  });
}

/** Same layout, written in this process (before any daemon watches). */
function writeFilesHere(root: string, dirs: number, perDir: number, version: number): void {
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `d${String(d).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir; f++) writeFileSync(join(dir, `f${String(f).padStart(3, '0')}.txt`), `v${version} ${d}/${f}\n`);
  }
}

/** The daemon's resident set in MB, or null once it is gone. */
function rssMb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every 25 ms until stopped; keeps the peak. */
function sampleRss(pid: number): { stop(): number } {
  let peak = rssMb(pid) ?? 0;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid) ?? 0)), 25);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid) ?? 0);
    },
  };
}

/** Spawns `node -e 0` and resolves with how long it took to exit (ms). */
function nodeStartMs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(performance.now() - t0));
  });
}

/** Slowest `shadowctl status` round trips of a polling loop. */
interface StatusPolls {
  calls: number;
  /** Slowest round trip, process start included. */
  maxMs: number;
  /** Slowest round trip beyond a `node -e 0` started just before it. */
  maxBeyondNodeMs: number;
}

/**
 * Runs `shadowctl status` back to back until `done` settles; every call must succeed. Each is
 * preceded by a timed `node -e 0`: in a burst the writer and the daemon's event handling take both
 * cores, and a bare node process then needs up to a second or more to start and exit (measured:
 * 1.35 s for `shadowctl status` with the daemon answering its socket within 120 ms). The bound is
 * on the daemon's part, as in docs/BENCHMARKS.md: the round trip beyond node's own start-up.
 */
async function pollStatus(w: TestWorkspace, done: Promise<unknown>): Promise<StatusPolls> {
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  const polls: StatusPolls = { calls: 0, maxMs: 0, maxBeyondNodeMs: 0 };
  do {
    const nodeMs = await nodeStartMs();
    const t0 = performance.now();
    const r = await w.cli(['status', '--json'], { timeoutMs: 30_000 });
    const ms = performance.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    polls.calls++;
    polls.maxMs = Math.max(polls.maxMs, ms);
    polls.maxBeyondNodeMs = Math.max(polls.maxBeyondNodeMs, ms - nodeMs);
  } while (!finished);
  return polls;
}

/** How a polling loop's round trips read in a report. */
function describePolls(p: StatusPolls): string {
  return `max ${Math.round(p.maxMs)} ms (${Math.round(p.maxBeyondNodeMs)} ms beyond node -e 0) over ${p.calls} calls`;
}

/**
 * Sends Status over one open connection every 50 ms until stopped; keeps the slowest round trip.
 * Unlike the CLI's latency, this leaves out starting a node process on a busy machine, so it
 * tells a stalled daemon from a starved CLI.
 */
async function probeSocket(w: TestWorkspace): Promise<{ stop(): Promise<number> }> {
  const client = await ShadowClient.connect({ workspace: w.dir, env: { ...process.env, ...w.env }, autoStart: false });
  let stopped = false;
  let maxMs = 0;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      await client.request(Status, {});
      maxMs = Math.max(maxMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop.finally(() => client.close());
      return maxMs;
    },
  };
}

/** `shadowctl checkpoint --json`, with room for a storm's worth of hashing on a loaded machine. */
async function checkpoint(w: TestWorkspace): Promise<{ tree: string; files: number }> {
  const r = await w.cli(['checkpoint', '--json'], { timeoutMs: 180_000 });
  expect(r.code, r.stderr).toBe(0);
  return r.json();
}

async function daemonPid(w: TestWorkspace): Promise<number> {
  const { daemon } = await w.json<{ daemon: { pid: number } }>(['daemon', 'status']);
  return daemon.pid;
}

describe('S2.2 event storms', () => {
  it('S2.2 30 000 new files in 300 new directories: status stays responsive, RSS bounded, checkpoint exact', { timeout: 240_000 }, async () => {
    ws = makeTestWorkspace({ git: true });
    writeFileSync(join(ws.dir, 'README.md'), 'a project\n');
    await checkpoint(ws);
    const pid = await daemonPid(ws);
    const rss = sampleRss(pid);
    const socket = await probeSocket(ws);

    const t0 = performance.now();
    const burst = writeFilesInChild(join(ws.dir, 'node_modules_like'), 300, 100, 1);
    const during = await pollStatus(ws, burst);
    await burst;
    const burstMs = performance.now() - t0;

    // Right after the burst: the checkpoint must see every file, whatever the watcher dropped;
    // status keeps being polled while the daemon digests the storm.
    const pendingCheckpoint = checkpoint(ws);
    const after = await pollStatus(ws, pendingCheckpoint);
    const cp = await pendingCheckpoint;
    const socketMaxMs = await socket.stop();
    const peak = rss.stop();

    const report =
      `[storm 30k files] burst ${Math.round(burstMs)} ms; shadowctl status during burst: ${describePolls(during)}; ` +
      `until checkpoint done: ${describePolls(after)}; Status over an open socket: max ${Math.round(socketMaxMs)} ms; ` +
      `daemon peak RSS ${Math.round(peak)} MB`;
    console.log(report);
    expect(cp.files).toBe(30_001);
    expect(cp.tree).toBe(nativeTree(ws.dir, { repo: true }));
    expect(during.maxBeyondNodeMs, report).toBeLessThan(MAX_STATUS_MS);
    expect(after.maxBeyondNodeMs, report).toBeLessThan(MAX_STATUS_MS);
    expect(socketMaxMs, report).toBeLessThan(MAX_STATUS_MS);
    expect(peak, report).toBeLessThan(MAX_RSS_MB);
  });

  it('S2.2 S1.4 20 000 modifications of existing files (inotify overflow), then an immediate checkpoint: exact tree', { timeout: 240_000 }, async () => {
    ws = makeTestWorkspace({ git: true });
    const root = join(ws.dir, 'data');
    writeFilesHere(root, 200, 100, 1);
    const base = await checkpoint(ws);
    expect(base.files).toBe(20_000);
    expect(base.tree).toBe(nativeTree(ws.dir, { repo: true }));
    const pid = await daemonPid(ws);
    const rss = sampleRss(pid);
    const socket = await probeSocket(ws);

    const burst = writeFilesInChild(root, 200, 100, 2);
    const during = await pollStatus(ws, burst);
    await burst;
    const cp = await checkpoint(ws);
    const socketMaxMs = await socket.stop();
    const peak = rss.stop();

    const report =
      `[storm 20k modifications] shadowctl status during burst: ${describePolls(during)}; ` +
      `Status over an open socket: max ${Math.round(socketMaxMs)} ms; daemon peak RSS ${Math.round(peak)} MB`;
    console.log(report);
    expect(cp.files).toBe(20_000);
    expect(cp.tree).not.toBe(base.tree);
    expect(cp.tree).toBe(nativeTree(ws.dir, { repo: true }));
    expect(during.maxBeyondNodeMs, report).toBeLessThan(MAX_STATUS_MS);
    expect(socketMaxMs, report).toBeLessThan(MAX_STATUS_MS);
    expect(peak, report).toBeLessThan(MAX_RSS_MB);
  });

  it('S2.2 S1.4 a directory of 30 000 files moved in whole (one event, no storm): status stays responsive, checkpoint exact', { timeout: 240_000 }, async () => {
    ws = makeTestWorkspace({ git: true });
    await checkpoint(ws);
    // Built outside the workspace (same filesystem), so the daemon sees only the final rename.
    const outside = join(ws.runtimeDir, 'outside');
    writeFilesHere(join(outside, 'pkg'), 300, 100, 1);
    const pid = await daemonPid(ws);
    const rss = sampleRss(pid);
    const socket = await probeSocket(ws);

    renameSync(join(outside, 'pkg'), join(ws.dir, 'pkg'));
    const cp = await checkpoint(ws);
    const socketMaxMs = await socket.stop();
    const peak = rss.stop();

    const report = `[moved-in 30k files] Status over an open socket during the checkpoint: max ${Math.round(socketMaxMs)} ms; daemon peak RSS ${Math.round(peak)} MB`;
    console.log(report);
    expect(cp.files).toBe(30_000);
    expect(cp.tree).toBe(nativeTree(ws.dir, { repo: true }));
    expect(socketMaxMs, report).toBeLessThan(MAX_STATUS_MS);
    expect(peak, report).toBeLessThan(MAX_RSS_MB);
  });

  it('S1.1 a directory moved in, then hidden by a .gitignore written right after: the checkpoint leaves it out', async () => {
    ws = makeTestWorkspace({ git: true });
    writeFileSync(join(ws.dir, 'keep.txt'), 'keep\n');
    await checkpoint(ws);
    const outside = join(ws.runtimeDir, 'outside');
    writeFilesHere(join(outside, 'vendor'), 5, 3, 1);
    // Reported in this order: the directory is looked at under the old rules first.
    renameSync(join(outside, 'vendor'), join(ws.dir, 'vendor'));
    writeFileSync(join(ws.dir, '.gitignore'), 'vendor/\n');
    const cp = await checkpoint(ws);
    expect(cp.files).toBe(2);
    expect(cp.tree).toBe(nativeTree(ws.dir, { repo: true }));
  });
});
