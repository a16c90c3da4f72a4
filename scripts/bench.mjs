#!/usr/bin/env node
/**
 * `npm run bench`: Shadow side by side with native git, same files, same machine, same run.
 *
 *   node scripts/bench.mjs [--quick] [--sizes 10000,100000] [--runs N] [--max-minutes M] [--no-write] [--build] [--cancel-only] [--existing-only]
 *
 * Scenarios (targets in docs/BENCHMARKS.md): node start-up baseline; `shadowctl status` round trip;
 * incremental checkpoint (10 files changed) vs a warm `git add -A && git write-tree`; cold first
 * snapshot (daemon start included) vs git with a fresh index and object store; daemon RSS; issue #3:
 * `shadowctl cancel` of a run on a 5k-file repository (scripts/benchCancel.mjs); issue #10: first
 * checkpoint in an existing repository whose index is current vs git from a copy of that index
 * (scripts/benchExistingRepo.mjs; `--existing-only` runs just that one at each size).
 * Every timed command is a child process spawned the same way (spawnSync) on both sides.
 * The results section of docs/BENCHMARKS.md is rewritten at the end (unless --no-write).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mulberry32 } from './prng.mjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenarioCancel } from './benchCancel.mjs';
import { scenarioExistingRepo } from './benchExistingRepo.mjs';
import { writeReport } from './benchReport.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist/client/shadowctl.cjs');
export const CLIENT = join(ROOT, 'dist/client/index.js');
const FILES_PER_DIR = 20;
const SUBDIRS_PER_DIR = 6;
const CHANGED = 10;
/** Modules the CLI must never load (LIBRARIES.md: each costs tens of ms of start-up). */
const HEAVY = ['isomorphic-git', 'chokidar', 'zod', 'node-ipc', 'pino'];

// ---------------------------------------------------------------- options

function parseOptions(argv) {
  const o = { quick: false, sizes: null, runs: null, maxMinutes: 30, write: true, build: false, cancelOnly: false, existingOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--sizes') o.sizes = argv[++i].split(',').map((s) => Number(s.replace(/k$/i, '000')));
    else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--max-minutes') o.maxMinutes = Number(argv[++i]);
    else if (a === '--no-write') o.write = false;
    else if (a === '--build') o.build = true;
    else if (a === '--cancel-only') o.cancelOnly = true;
    else if (a === '--existing-only') o.existingOnly = true;
    else {
      console.error(`unknown option ${a}\nusage: node scripts/bench.mjs [--quick] [--sizes 10000,100000] [--runs N] [--max-minutes M] [--no-write] [--build] [--cancel-only] [--existing-only]`);
      process.exit(2);
    }
  }
  o.sizes ??= o.cancelOnly ? [] : o.quick ? [10_000] : [10_000, 100_000];
  if (o.sizes.some((n) => !Number.isInteger(n) || n < FILES_PER_DIR)) throw new Error(`bad --sizes ${o.sizes}`);
  // Runs per scenario: fast scenarios get more; 100k-file scenarios fewer (each cold run writes 100k objects twice).
  const base = o.runs ?? (o.quick ? 5 : 15);
  o.runsFor = (kind, n) => {
    if (kind === 'startup') return base * 2;
    if (kind === 'cancel') return Math.max(5, base);
    if (kind === 'cancelBig') return Math.max(5, Math.round(base / 3));
    if (kind === 'existing') return Math.max(3, Math.round(base / (n >= 50_000 ? 3 : 2)));
    const big = n >= 50_000;
    if (kind === 'cold') return Math.max(2, Math.round(base / (big ? 5 : 3)));
    return big ? Math.max(3, Math.round(base / 2)) : base;
  };
  return o;
}

// ---------------------------------------------------------------- measuring

/** Runs a command to completion; returns wall ms. Throws on a non-zero exit. */
export function timed(cmd, args, opts) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${`${r.stderr}${r.stdout}`.trim().slice(0, 600)}`);
  return { ms, stdout: r.stdout.toString() };
}

/** Median and p90 (nearest rank) of a sample, in ms. */
export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  if (!s.length) return { n: 0, median: NaN, p90: NaN, min: NaN, max: NaN };
  return { n: s.length, median: at(0.5), p90: at(0.9), min: s[0], max: s[s.length - 1] };
}

const t0 = Date.now();
/** The highest 1-minute load average seen at any progress line: other work during the run shows here. */
let peakLoad = 0;
export function progress(msg) {
  peakLoad = Math.max(peakLoad, loadavg()[0]);
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
}

/** Drops the OS page cache; false when the sandbox does not allow it. */
function dropCaches() {
  try {
    spawnSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

/** utime + stime of a process, in clock ticks; null once it is gone. */
function cpuTicks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return null;
  }
}

/** VmRSS and VmHWM of a process, in MB. */
function memoryMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/**
 * Waits until the daemon is idle (no CPU used for 200 ms, and at least `minMs`), so its
 * background work (watcher events; the stat cache saved ~1 s after a checkpoint) never overlaps
 * a timed command of either side.
 */
export async function settle(pid, minMs = 1100) {
  await sleep(minMs);
  let prev = cpuTicks(pid);
  for (let quiet = 0; quiet < 2; ) {
    await sleep(100);
    const now = cpuTicks(pid);
    quiet = now === prev ? quiet + 1 : 0;
    prev = now;
  }
}

/** Flushes dirty pages (the previous run's writes and deletions) and optionally drops the page cache. */
function quiesceDisk(drop) {
  spawnSync('sync');
  if (drop) dropCaches();
}

let deadline = Infinity;
/** Whether a loop may start run `i` (always the first `min` runs; the rest only within the time budget). */
export function mayRun(i, runs, min = 1) {
  return i < runs && (i < min || Date.now() < deadline);
}

// ---------------------------------------------------------------- workspaces


const EXTS = ['ts', 'ts', 'ts', 'js', 'json', 'md', 'css', 'py', 'txt'];
const WORDS = 'const let return function import export from value index result error config async await the of a to data path file'.split(' ');

/**
 * Generates `n` small files (80 B – 6 KB, a source-tree distribution) in a breadth-first tree of
 * directories holding ~20 files and up to 6 subdirectories each, plus a root .gitignore with a
 * few ignored files, then `git init`. Returns the relative file paths.
 */
export function generateWorkspace(ws, n) {
  mkdirSync(ws, { recursive: true });
  const rand = mulberry32(n);
  const lines = Array.from({ length: 256 }, () => Array.from({ length: 3 + Math.floor(rand() * 9) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ') + ';\n');
  const files = [];
  const queue = [''];
  let made = 0;
  for (let d = 0; made < n; d++) {
    const dir = queue[d];
    if (dir) mkdirSync(join(ws, dir));
    for (let i = 0; i < FILES_PER_DIR && made < n; i++, made++) {
      const rel = `${dir ? dir + '/' : ''}${['index', 'util', 'model', 'view', 'test', 'main', 'types'][i % 7]}${i}.${EXTS[(made + i) % EXTS.length]}`;
      const size = Math.floor(80 * Math.exp(rand() * 4.3)); // log-uniform 80 B .. ~6 KB
      let body = `// ${rel} ${made}\n`;
      while (body.length < size) body += lines[Math.floor(rand() * lines.length)];
      writeFileSync(join(ws, rel), body);
      if (made % 97 === 0) chmodSync(join(ws, rel), 0o755);
      files.push(rel);
    }
    for (let s = 0; s < SUBDIRS_PER_DIR; s++) queue.push(`${dir ? dir + '/' : ''}${['src', 'lib', 'pkg', 'mod', 'core', 'ui'][s]}${queue.length}`);
  }
  writeFileSync(join(ws, '.gitignore'), '*.log\n/build/\n');
  mkdirSync(join(ws, 'build'));
  writeFileSync(join(ws, 'build/out.js'), 'ignored\n');
  writeFileSync(join(ws, 'debug.log'), 'ignored\n');
  // Auto snapshots off: a background snapshot must never overlap a timed run of either side.
  writeFileSync(join(ws, 'shadow.config.json'), '{ "autoSnapshot": { "enabled": false } }\n');
  gitInit(ws);
  return files;
}

function gitInit(ws) {
  rmSync(join(ws, '.git'), { recursive: true, force: true });
  const r = spawnSync('git', ['init', '-q', ws]);
  if (r.status !== 0) throw new Error(`git init failed: ${r.stderr}`);
}

/** Appends a line to CHANGED files (a different set each round). */
export function mutate(ws, files, round) {
  const stride = Math.floor(files.length / CHANGED);
  for (let i = 0; i < CHANGED; i++) appendFileSync(join(ws, files[(i * stride + round * 7) % files.length]), `// edit ${round}\n`);
}

// ---------------------------------------------------------------- the two sides

/** Environment for children: no inherited git overrides, a private runtime dir. */
function baseEnv(runtime) {
  const env = { ...process.env, SHADOW_RUNTIME_DIR: runtime, SHADOW_BACKUP_DIR: join(runtime, 'backup'), NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('GIT_')) delete env[k];
  delete env.SHADOW_RUN_ID; // a run id inherited from the caller would aim start/cancel at its run
  return env;
}

/** Native git snapshot with a given index and object store: add -A, then write-tree (two processes, as a shell would). */
function nativeSnapshot(ws, env, index, objects) {
  const genv = { ...env, GIT_INDEX_FILE: index, GIT_OBJECT_DIRECTORY: objects };
  const a = timed('git', ['add', '-A'], { cwd: ws, env: genv });
  const w = timed('git', ['write-tree'], { cwd: ws, env: genv });
  return { ms: a.ms + w.ms, tree: w.stdout.trim() };
}

export function shadowctl(ws, env, args) {
  return timed(process.execPath, [CLI, ...args], { cwd: ws, env });
}

function shadowCheckpoint(ws, env) {
  const r = shadowctl(ws, env, ['checkpoint', '--json']);
  return { ms: r.ms, ...JSON.parse(r.stdout) };
}

export function daemonPid(ws, env) {
  return JSON.parse(shadowctl(ws, env, ['daemon', 'status', '--json']).stdout).daemon.pid;
}

export function stopDaemon(ws, env) {
  spawnSync(process.execPath, [CLI, 'daemon', 'stop'], { cwd: ws, env, stdio: 'ignore' });
}

/** After a failed auto-start: waits (up to 10 min) until the daemon answers, then takes the checkpoint. */
function firstCheckpointAfterFailure(ws, env) {
  const until = Date.now() + 600_000;
  while (spawnSync(process.execPath, [CLI, 'daemon', 'status'], { cwd: ws, env, stdio: 'ignore' }).status !== 0) {
    if (Date.now() > until) throw new Error(`the daemon for ${ws} never answered`);
    spawnSync('sleep', ['1']);
  }
  return shadowCheckpoint(ws, env);
}

function checkParity(label, shadowTree, nativeTree) {
  if (shadowTree !== nativeTree) throw new Error(`${label}: tree parity broken (shadow ${shadowTree}, git ${nativeTree})`);
}

// ---------------------------------------------------------------- scenarios

/**
 * Which modules `shadowctl status` loads: a module.register() hook logs every URL the ES module
 * loader resolves, and a -r preload every file CommonJS require() loads (the shipped CLI is a
 * CommonJS bundle, scripts/bundleCli.mjs).
 */
export function cliModules(ws, env, tmp) {
  const log = join(tmp, 'modules.log');
  const hooks = join(tmp, 'hooks.mjs');
  const reg = join(tmp, 'register.mjs');
  const cjs = join(tmp, 'require-log.cjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`);
  writeFileSync(reg, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  writeFileSync(
    cjs,
    `const M = require('node:module'); const { appendFileSync } = require('node:fs'); const { pathToFileURL } = require('node:url'); const load = M._load;\n` +
      `M._load = function (req, parent, isMain) { let url = req; try { const f = M._resolveFilename(req, parent, isMain); url = f.includes('/') ? pathToFileURL(f).href : 'node:' + f.replace(/^node:/, ''); } catch {} appendFileSync(${JSON.stringify(log)}, url + '\\n'); return load.apply(this, arguments); };\n`,
  );
  writeFileSync(log, '');
  timed(process.execPath, ['-r', cjs, '--import', pathToFileURL(reg).href, CLI, 'status'], { cwd: ws, env });
  const urls = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))].filter((u) => u !== pathToFileURL(reg).href && u !== pathToFileURL(hooks).href);
  const files = urls.filter((u) => u.startsWith('file:'));
  const packages = [...new Set(files.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean))];
  return {
    files: files.length,
    builtins: urls.length - files.length,
    packages,
    heavy: HEAVY.filter((h) => packages.includes(h)),
  };
}

/** node -e 0 vs shadowctl status (and --version), interleaved so drift hits all alike. */
function scenarioStartup(ws, env, runs) {
  const node = [];
  const status = [];
  const version = [];
  for (let i = 0; i < 3; i++) {
    timed(process.execPath, ['-e', '0'], { env });
    shadowctl(ws, env, ['status']);
  }
  for (let i = 0; mayRun(i, runs, 5); i++) {
    node.push(timed(process.execPath, ['-e', '0'], { env }).ms);
    status.push(shadowctl(ws, env, ['status']).ms);
    version.push(shadowctl(ws, env, ['--version']).ms);
  }
  return { node: summarize(node), status: summarize(status), version: summarize(version) };
}

/** Cold first snapshot: no daemon, no state, fresh git metadata vs fresh index + empty object store. */
function scenarioCold(ws, env, tmp, runs, dropPageCache) {
  const failures = [];
  const shadow = [];
  const native = [];
  for (let i = 0; mayRun(i, runs); i++) {
    const order = i % 2 === 0 ? ['shadow', 'native'] : ['native', 'shadow'];
    let sTree;
    let nTree;
    for (const side of order) {
      if (side === 'shadow') {
        gitInit(ws); // no .git/shadow: no stat cache, no objects, no refs
        quiesceDisk(dropPageCache);
        const t = performance.now();
        try {
          const r = shadowCheckpoint(ws, env);
          shadow.push(r.ms);
          sTree = r.tree;
        } catch (err) {
          // e.g. the CLI's 15 s daemon start deadline passed: a real finding, reported, not fatal.
          failures.push(`after ${(performance.now() - t).toFixed(0)} ms: ${String(err.message).replace(/^\S+ \S+ /, '').slice(0, 400)}`);
          progress(`  cold shadow run FAILED: ${failures.at(-1)}`);
          sTree = firstCheckpointAfterFailure(ws, env).tree;
        }
        stopDaemon(ws, env);
      } else {
        const objects = join(tmp, 'cold-objects');
        const index = join(tmp, 'cold.index');
        rmSync(objects, { recursive: true, force: true });
        rmSync(index, { force: true });
        mkdirSync(objects);
        quiesceDisk(dropPageCache);
        const r = nativeSnapshot(ws, env, index, objects);
        native.push(r.ms);
        nTree = r.tree;
      }
    }
    checkParity('cold', sTree, nTree);
    progress(`  cold ${dropPageCache ? '(page cache dropped) ' : ''}${i + 1}/${runs}: shadow ${shadow.at(-1)?.toFixed(0)} ms, git ${native.at(-1).toFixed(0)} ms`);
  }
  rmSync(join(tmp, 'cold-objects'), { recursive: true, force: true });
  return { shadow: summarize(shadow), native: summarize(native), failures };
}

/**
 * Incremental: 10 files changed, warm daemon vs warm index. Main loop: the daemon has digested
 * the watcher events before either side is timed (both sides alternate first). Then Shadow alone
 * right after the writes (its watcher work included), and the request alone on an open connection.
 */
async function scenarioIncremental(ws, files, env, tmp, runs) {
  const objects = join(tmp, 'warm-objects');
  const index = join(tmp, 'warm.index');
  mkdirSync(objects, { recursive: true });
  // Warm both sides: the daemon runs with its first checkpoint taken, the index is populated.
  let first;
  try {
    first = shadowCheckpoint(ws, env);
  } catch (err) {
    progress(`  first checkpoint failed (${String(err.message).slice(0, 160)}); waiting for the daemon`);
    first = firstCheckpointAfterFailure(ws, env);
  }
  checkParity('warm-up', first.tree, nativeSnapshot(ws, env, index, objects).tree);
  const pid = daemonPid(ws, env);
  await settle(pid);
  const shadow = [];
  const native = [];
  const nodeMs = [];
  let hashed = 0;
  let rescans = 0;
  let round = 0;
  for (let i = 0; mayRun(i, runs, 3); i++) {
    mutate(ws, files, round++);
    await settle(pid, 200);
    // node -e 0 is in the rotation too: a process started after the machine was idle runs slower
    // than one started back to back, so the start-up subtracted is measured the same way.
    const sides = ['node', 'shadow', 'native'];
    const order = [...sides.slice(i % 3), ...sides.slice(0, i % 3)];
    let sTree;
    let nTree;
    for (const side of order) {
      if (side === 'node') {
        nodeMs.push(timed(process.execPath, ['-e', '0'], { env }).ms);
      } else if (side === 'shadow') {
        const r = shadowCheckpoint(ws, env);
        shadow.push(r.ms);
        sTree = r.tree;
        hashed += r.hashed;
        rescans += r.rescanned ? 1 : 0;
        await settle(pid);
      } else {
        const r = nativeSnapshot(ws, env, index, objects);
        native.push(r.ms);
        nTree = r.tree;
      }
    }
    checkParity('incremental', sTree, nTree);
    progress(`  incremental ${i + 1}/${runs}: shadow ${shadow.at(-1).toFixed(0)} ms, git ${native.at(-1).toFixed(0)} ms`);
  }

  const immediate = [];
  for (let i = 0; mayRun(i, runs, 3); i++) {
    mutate(ws, files, round++);
    const r = shadowCheckpoint(ws, env);
    immediate.push(r.ms);
    rescans += r.rescanned ? 1 : 0;
    await settle(pid);
  }
  progress(`  right after the writes: shadow median ${summarize(immediate).median.toFixed(0)} ms`);

  // Daemon side: one connection, then time request(Checkpoint) alone (no process start).
  const { ShadowClient, Checkpoint, Status } = await import(pathToFileURL(CLIENT).href);
  const client = await ShadowClient.connect({ workspace: ws, env, autoStart: false });
  const inproc = [];
  const statusRtt = [];
  try {
    for (let i = 0; mayRun(i, runs, 3); i++) {
      mutate(ws, files, round++);
      await settle(pid, 200);
      const t = performance.now();
      const r = await client.request(Checkpoint, {});
      inproc.push(performance.now() - t);
      rescans += r.rescanned ? 1 : 0;
      await settle(pid);
      const s = performance.now();
      await client.request(Status, {});
      statusRtt.push(performance.now() - s);
    }
  } finally {
    client.close();
  }
  progress(`  request alone: median ${summarize(inproc).median.toFixed(1)} ms`);
  const mem = memoryMb(pid);
  return {
    shadow: summarize(shadow),
    native: summarize(native),
    node: summarize(nodeMs),
    immediate: summarize(immediate),
    inproc: summarize(inproc),
    statusRtt: summarize(statusRtt),
    hashedPerRun: hashed / shadow.length,
    rescans,
    pid,
    mem,
  };
}

// ---------------------------------------------------------------- main

function machine() {
  const git = spawnSync('git', ['--version']).stdout.toString().trim();
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux
  }
  return { nproc: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version, git, kernel, platform: process.platform };
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.build || !existsSync(CLI)) {
    progress('building (tsc -p tsconfig.build.json)');
    spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  }
  deadline = Date.now() + opts.maxMinutes * 60_000;
  const canDrop = dropCaches();
  const tmp = mkdtempSync(join(tmpdir(), 'shbench-'));
  const runtime = join(tmp, 'rt');
  mkdirSync(runtime, { mode: 0o700 });
  const env = baseEnv(runtime);
  const live = new Set();
  const cleanup = () => {
    for (const ws of live) stopDaemon(ws, env);
    rmSync(tmp, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  const results = { machine: machine(), date: new Date().toISOString(), command: `node scripts/bench.mjs ${process.argv.slice(2).join(' ')}`.trim(), canDrop, sizes: [], truncated: false, loadStart: loadavg() };
  progress(`machine: ${results.machine.nproc} cpus, node ${results.machine.node}, ${results.machine.git}; page cache drop ${canDrop ? 'works' : 'NOT available'}`);
  try {
    // Issue #3 first: small and quick, so the time budget never skips it.
    if (!opts.existingOnly) {
      progress('[issue #3] cancel a run: 5000 files, 100 edited, 50 created');
      live.add(join(tmp, 'ws-cancel'));
      results.cancel = await scenarioCancel({ tmp, env, runs: opts.runsFor('cancel') });
      live.delete(join(tmp, 'ws-cancel'));
      rmSync(join(tmp, 'ws-cancel'), { recursive: true, force: true });
    }
    for (const n of opts.sizes) {
      if (Date.now() > deadline) {
        results.truncated = true;
        progress(`time budget spent: skipping ${n} files`);
        break;
      }
      const ws = join(tmp, `ws${n}`);
      progress(`generating ${n} files`);
      const files = generateWorkspace(ws, n);
      const r = { n, dirs: 0 };
      r.dirs = spawnSync('find', [ws, '-type', 'd', '-not', '-path', '*/.git*']).stdout.toString().trim().split('\n').length;
      live.add(ws);
      if (opts.existingOnly) {
        progress(`[${n}] first checkpoint in an existing repository (index current, page cache warm) vs git from a copy of the index`);
        r.existing = scenarioExistingRepo({ ws, env, tmp, runs: opts.runsFor('existing', n) });
        live.delete(ws);
        rmSync(ws, { recursive: true, force: true });
        results.sizes.push(r);
        continue;
      }

      progress(`[${n}] cold first snapshot, page cache ${canDrop ? 'dropped' : 'warm'}`);
      r.cold = scenarioCold(ws, env, tmp, opts.runsFor('cold', n), canDrop);
      r.coldDropped = canDrop;
      if (canDrop && n < 50_000) {
        progress(`[${n}] cold first snapshot, page cache warm`);
        r.coldWarmCache = scenarioCold(ws, env, tmp, opts.runsFor('cold', n), false);
      }

      progress(`[${n}] incremental checkpoint, ${CHANGED} files changed`);
      gitInit(ws);
      r.incremental = await scenarioIncremental(ws, files, env, tmp, opts.runsFor('incremental', n));

      progress(`[${n}] node -e 0 vs shadowctl status`);
      r.startup = scenarioStartup(ws, env, opts.runsFor('startup', n));
      if (n === opts.sizes[0]) r.modules = cliModules(ws, env, tmp);
      stopDaemon(ws, env);
      if (n >= 50_000) {
        // Issue #5.5: cancel at scale, beside git's own way to drop the same writes.
        progress(`[${n}] cancel a run: 100 edited, 50 created; vs git reset --hard + clean -fd`);
        r.cancel = await scenarioCancel({ tmp, env, runs: opts.runsFor('cancelBig'), n, ws, files, withNative: true });
      }
      // Last: it commits and repacks the workspace.
      progress(`[${n}] first checkpoint in an existing repository (index current, page cache warm) vs git from a copy of the index`);
      gitInit(ws);
      r.existing = scenarioExistingRepo({ ws, env, tmp, runs: opts.runsFor('existing', n) });
      live.delete(ws);
      rmSync(ws, { recursive: true, force: true });
      results.sizes.push(r);
      progress(`[${n}] done: ${JSON.stringify({ status: r.startup.status.median, node: r.startup.node.median, inc: r.incremental.shadow.median, incGit: r.incremental.native.median, cold: r.cold.shadow.median, coldGit: r.cold.native.median })}`);
    }
  } finally {
    cleanup();
  }
  results.loadEnd = loadavg();
  results.loadPeak = Math.max(peakLoad, results.loadEnd[0]);
  results.seconds = (Date.now() - t0) / 1000;
  const text = writeReport(results, opts.write ? join(ROOT, 'docs/BENCHMARKS.md') : null);
  process.stdout.write(text);
}

// Importable (profiling helpers use generateWorkspace and mutate) without running.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
