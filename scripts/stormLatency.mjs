#!/usr/bin/env node
/**
 * Daemon latency through an event storm (issue #2.7, S2.2), the way the storm test provokes it
 * but repeated and with optional CPU load beside it:
 *
 *   node scripts/stormLatency.mjs [--runs 3] [--dirs 300] [--per-dir 100] [--hogs 0] [--moved-in] [--json]
 *
 * Each run: a fresh git workspace, one checkpoint (the daemon auto-started by the typed client),
 * then a child process writes dirs × per-dir new files as fast as it can while a Status request
 * goes over one open connection every 50 ms; right after, a checkpoint, with Status still polled.
 * Reported per run: the burst's duration, the slowest Status round trip during the burst and
 * during the checkpoint (the daemon's event-loop stalls, without any process start-up), the
 * checkpoint's duration and whether it rescanned, and the checkpoint's file count (checked).
 * `--hogs N` runs N busy loops meanwhile (a loaded CI runner on 2 cores). How long the burst takes
 * varies with the disk (1 to 40 s here), and how much the daemon hashes before the checkpoint with
 * it; `--moved-in` makes the checkpoint's work the same every run: the files are written outside
 * the workspace (same file system) and the directory renamed in, one event, so the checkpoint
 * reads and hashes all of them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { alive, stopDaemon } from './daemonProcess.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: node scripts/stormLatency.mjs [--runs N] [--dirs N] [--per-dir N] [--hogs N] [--moved-in] [--json]';

function parseOptions(argv) {
  const o = { runs: 3, dirs: 300, perDir: 100, hogs: 0, movedIn: false, json: false };
  const ints = { '--runs': 'runs', '--dirs': 'dirs', '--per-dir': 'perDir', '--hogs': 'hogs' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--moved-in') o.movedIn = true;
    else if (a in ints) o[ints[a]] = Number(argv[++i]);
    else {
      console.error(`unknown option ${a}\n${USAGE}`);
      process.exit(2);
    }
  }
  for (const k of Object.values(ints)) {
    if (!Number.isInteger(o[k]) || o[k] < (k === 'hogs' ? 0 : 1)) {
      console.error(`bad value for ${k}: ${o[k]}\n${USAGE}`);
      process.exit(2);
    }
  }
  return o;
}

const WRITER = `
const fs = require('node:fs');
const path = require('node:path');
const [root, dirs, perDir] = process.argv.slice(1);
for (let d = 0; d < +dirs; d++) {
  const dir = path.join(root, 'd' + String(d).padStart(3, '0'));
  fs.mkdirSync(dir, { recursive: true });
  for (let f = 0; f < +perDir; f++) fs.writeFileSync(path.join(dir, 'f' + f + '.txt'), 'v1 ' + d + '/' + f + '\\n');
}
`;

function runChild(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
  });
}

/** Polls Status on `client` every 50 ms; `take()` returns the slowest round trip since the last take. */
function pollStatus(client, Status) {
  let stopped = false;
  let max = 0;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      await client.request(Status, {});
      max = Math.max(max, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    take() {
      const m = max;
      max = 0;
      return m;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function oneRun(api, o) {
  const { ShadowClient, Status, Checkpoint, Shutdown } = api;
  const ws = mkdtempSync(join(tmpdir(), 'shadow-storm-'));
  const runtime = mkdtempSync(join(tmpdir(), 'shadow-storm-rt-'));
  const env = { ...process.env, SHADOW_RUNTIME_DIR: join(runtime, 'run'), SHADOW_BACKUP_DIR: join(runtime, 'backup'), GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com' };
  let client;
  let pid = null;
  try {
    execFileSync('git', ['init', '-q', ws]);
    writeFileSync(join(ws, 'README.md'), 'a project\n');
    client = await ShadowClient.connect({ workspace: ws, env, autoStart: true });
    await client.request(Checkpoint, {}, { timeoutMs: 60_000 });
    pid = (await client.request(Status, {})).daemon.pid;
    const outside = join(runtime, 'outside');
    if (o.movedIn) await runChild(['-e', WRITER, outside, String(o.dirs), String(o.perDir)]);
    const poll = pollStatus(client, Status);
    const t0 = performance.now();
    if (o.movedIn) renameSync(outside, join(ws, 'burst'));
    else await runChild(['-e', WRITER, join(ws, 'burst'), String(o.dirs), String(o.perDir)]);
    const burstMs = performance.now() - t0;
    const burstMaxMs = poll.take();
    const t1 = performance.now();
    const cp = await client.request(Checkpoint, {}, { timeoutMs: 300_000 });
    const checkpointMs = performance.now() - t1;
    const checkpointMaxMs = poll.take();
    await poll.stop();
    const expected = o.dirs * o.perDir + 1;
    if (cp.files !== expected) throw new Error(`checkpoint has ${cp.files} files, expected ${expected}`);
    await client.request(Shutdown, {}).catch(() => null);
    return { burstMs, burstMaxMs, checkpointMs, checkpointMaxMs, rescanned: cp.rescanned, files: cp.files };
  } finally {
    client?.close();
    if (pid && alive(pid)) await stopDaemon(api, ws, env, pid);
    rmSync(ws, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  }
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const api = await import(join(ROOT, 'dist/client/index.js'));
  const hogs = Array.from({ length: o.hogs }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const results = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      const r = await oneRun(api, o);
      results.push(r);
      if (!o.json) {
        const f = (ms) => `${Math.round(ms)} ms`;
        console.log(`run ${i + 1}: burst ${f(r.burstMs)} (Status max ${f(r.burstMaxMs)}); checkpoint ${f(r.checkpointMs)}, ${r.rescanned ? 'rescan' : 'incremental'}, ${r.files} files (Status max ${f(r.checkpointMaxMs)})`);
      }
    }
  } finally {
    for (const h of hogs) h.kill();
  }
  const worst = Math.max(...results.map((r) => Math.max(r.burstMaxMs, r.checkpointMaxMs)));
  if (o.json) console.log(JSON.stringify({ options: o, results, worstStatusMs: worst }));
  else console.log(`${o.dirs * o.perDir} files ${o.movedIn ? 'moved in' : 'written'}, ${o.hogs} busy loops beside: slowest Status round trip over ${o.runs} runs ${Math.round(worst)} ms (issue #2.7 bound: 2000 ms)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
