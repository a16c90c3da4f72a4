#!/usr/bin/env node
/**
 * Load test (issue #5.3): one daemon, N concurrent clients × R requests each.
 *
 *   node scripts/load.mjs [--clients 50] [--requests 200] [--files 1500] [--json] [--keep]
 *
 * A git workspace of ~1.5k files; each client has its own connection (the typed client,
 * `ShadowClient.connect`) and issues its requests one after another, a random mix of status,
 * checkpoint, log and diff, while a writer edits, creates and deletes files. Every answer is
 * validated — at once where possible, against native git at the end otherwise:
 * - checkpoint: the commit exists, its tree and subject (a per-request token: a crossed reply
 *   shows here) and trailers (Shadow-Kind: checkpoint) are what the answer says, and it is on
 *   the first-parent chain of refs/shadow/manual (no lost ref update);
 * - per client, the manual chain position it observes (its checkpoints, `log --ref manual`
 *   heads) never goes backwards (each client's requests are sequential);
 * - log: entries exist with the trees they claim, newest first, a `manual` log is a parent chain;
 * - diff: names an existing commit (the one asked for, if any), disjoint lists of known paths;
 * - status: the daemon's pid and workspace, an existing last checkpoint;
 * - at the end, with the writer stopped: a final checkpoint's tree equals native
 *   `git add -A && git write-tree` (throwaway index), `diff` against a few earlier checkpoints
 *   equals `git diff-tree` between the trees, `git fsck` is clean, the daemon is alive.
 * Reports p50/p99/max latency per method and overall, throughput, daemon RSS before/after.
 * Exits 1 on any failure (listing the first ones).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { generateWorkspace } from './bench.mjs';
import { alive, stopDaemon } from './daemonProcess.mjs';
import { mulberry32 } from './prng.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT = join(ROOT, 'dist/client/index.js');
const METHODS = ['status', 'checkpoint', 'log', 'diff'];
/** Cumulative weights of the mix: 30% status, 25% checkpoint, 25% log, 20% diff. */
const MIX = [0.3, 0.55, 0.8, 1];
const REQUEST_TIMEOUT_MS = 300_000;

function parseOptions(argv) {
  const o = { clients: 50, requests: 200, files: 1500, json: false, keep: false, seed: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--clients') o.clients = Number(argv[++i]);
    else if (a === '--requests') o.requests = Number(argv[++i]);
    else if (a === '--files') o.files = Number(argv[++i]);
    else if (a === '--seed') o.seed = Number(argv[++i]);
    else if (a === '--json') o.json = true;
    else if (a === '--keep') o.keep = true;
    else {
      console.error(`unknown option ${a}\nusage: node scripts/load.mjs [--clients N] [--requests N] [--files N] [--seed N] [--json] [--keep]`);
      process.exit(2);
    }
  }
  for (const k of ['clients', 'requests', 'files']) if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`bad --${k} ${o[k]}`);
  return o;
}


/** Nearest-rank percentile of a sorted sample. */
function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return { n: s.length, p50: r(pct(s, 50)), p99: r(pct(s, 99)), max: r(s.length ? s[s.length - 1] : null) };
}

/** VmRSS and VmHWM of a process, in MB (null when it is gone). */
function memory(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
    return { rssMb: Math.round(kb('VmRSS') / 1024), hwmMb: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}



function git(ws, env, args, extra = {}) {
  return execFileSync('git', args, { cwd: ws, env: { ...env, ...extra }, encoding: 'utf8', maxBuffer: 512 << 20 }).trim();
}

/** Runs the load; returns the report object (report.ok false on any failure). */
export async function runLoad(opts) {
  const t0 = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'shadow-load-'));
  const runtime = mkdtempSync('/tmp/slr-');
  const ws = join(tmp, 'ws');
  const env = { ...process.env, SHADOW_RUNTIME_DIR: join(runtime, 'run'), SHADOW_BACKUP_DIR: join(runtime, 'backup'), HOME: join(runtime, 'home'), GIT_CONFIG_NOSYSTEM: '1', NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('GIT_') && k !== 'GIT_CONFIG_NOSYSTEM') delete env[k];
  delete env.SHADOW_RUN_ID;
  Object.assign(env, { GIT_AUTHOR_NAME: 'Load', GIT_AUTHOR_EMAIL: 'load@example.com', GIT_COMMITTER_NAME: 'Load', GIT_COMMITTER_EMAIL: 'load@example.com' });
  mkdirSync(env.HOME, { recursive: true });

  const failures = [];
  const fail = (what) => {
    failures.push(what);
  };
  const { ShadowClient, Status, Checkpoint, Log, Diff, Shutdown } = await import(CLIENT);
  let pid = null;
  const clients = [];
  try {
    const files = generateWorkspace(ws, opts.files);
    // Auto snapshots on (quiet period 1 s): they run between the clients' requests, as in real use.
    writeFileSync(join(ws, 'shadow.config.json'), '{ "autoSnapshot": { "enabled": true, "quietPeriod": "1s" } }\n');
    git(ws, env, ['add', '-A']);
    git(ws, env, ['commit', '-q', '-m', 'load workspace']);
    const universe = new Set([...files, '.gitignore', 'shadow.config.json']);

    const first = await ShadowClient.connect({ workspace: ws, env, clientName: 'load-0', startTimeoutMs: 120_000 });
    clients.push(first);
    pid = first.hello.pid;
    await first.request(Checkpoint, { message: 'load: initial' }, { timeoutMs: REQUEST_TIMEOUT_MS }); // the initial scan, outside the timings
    const memBefore = memory(pid);
    for (let i = 1; i < opts.clients; i++) clients.push(ShadowClient.connect({ workspace: ws, env, autoStart: false, clientName: `load-${i}`, startTimeoutMs: 120_000 }));
    for (let i = 1; i < clients.length; i++) clients[i] = await clients[i];

    // The writer: edits, creates and deletes files until every client is done.
    const rand = mulberry32(opts.seed);
    const created = [];
    let writes = 0;
    let stopWriter = false;
    const writer = (async () => {
      while (!stopWriter) {
        const x = rand();
        if (x < 0.8) await writeFile(join(ws, files[Math.floor(rand() * files.length)]), `edit ${writes} ${rand()}\n`);
        else if (x < 0.9 || created.length === 0) {
          const rel = `new/d${writes % 7}/f${writes}.txt`;
          universe.add(rel); // before the write: a diff may see the file as soon as it exists
          mkdirSync(join(ws, dirname(rel)), { recursive: true });
          await writeFile(join(ws, rel), `created ${writes}\n`);
          created.push(rel);
        } else unlinkSync(join(ws, created.splice(Math.floor(rand() * created.length), 1)[0]));
        writes++;
        await new Promise((r) => setTimeout(r, 2 + Math.floor(rand() * 8)));
      }
    })();

    const latency = Object.fromEntries(METHODS.map((m) => [m, []]));
    const checkpoints = new Map(); // commit -> { tree, subject }
    const seenCommits = new Map(); // commit -> tree (from log entries), '' when unknown
    const observations = clients.map(() => []); // per client: manual-chain commits observed, in order
    const errors = [];
    const tStart = performance.now();
    await Promise.all(
      clients.map(async (c, ci) => {
        const r = mulberry32(opts.seed * 1000 + ci);
        const mine = [];
        for (let k = 0; k < opts.requests; k++) {
          const x = r();
          const method = METHODS[MIX.findIndex((w) => x < w)];
          const tag = `load c${ci} r${k}`;
          let params = {};
          if (method === 'checkpoint') params = { message: tag };
          else if (method === 'log') params = r() < 0.5 ? { n: 1 + Math.floor(r() * 20), ref: 'manual' } : { n: 1 + Math.floor(r() * 20) };
          else if (method === 'diff' && mine.length && r() < 0.5) params = { checkpoint: mine[Math.floor(r() * mine.length)] };
          const def = { status: Status, checkpoint: Checkpoint, log: Log, diff: Diff }[method];
          const t = performance.now();
          let res;
          try {
            res = await c.request(def, params, { timeoutMs: REQUEST_TIMEOUT_MS });
          } catch (err) {
            errors.push({ client: ci, request: k, method, code: err.code ?? 'THROWN', message: String(err.message ?? err) });
            continue;
          }
          latency[method].push(performance.now() - t);
          const where = `${tag} ${method}`;
          if (method === 'status') {
            if (res.daemon.pid !== pid) fail(`${where}: pid ${res.daemon.pid} != ${pid}`);
            if (res.daemon.workspace !== ws) fail(`${where}: workspace ${res.daemon.workspace}`);
            if (res.lastCheckpoint) seenCommits.set(res.lastCheckpoint.commit, seenCommits.get(res.lastCheckpoint.commit) ?? '');
            else fail(`${where}: no lastCheckpoint`);
          } else if (method === 'checkpoint') {
            if (res.ref !== 'refs/shadow/manual' || res.run !== null) fail(`${where}: ref ${res.ref} run ${res.run}`);
            if (res.uncaptured.length) fail(`${where}: uncaptured ${JSON.stringify(res.uncaptured)}`);
            checkpoints.set(res.commit, { tree: res.tree, subject: tag, where });
            mine.push(res.commit);
            observations[ci].push(res.commit);
          } else if (method === 'log') {
            const e = res.entries;
            if (e.length > params.n || e.length === 0) fail(`${where}: ${e.length} entries for n=${params.n}`);
            for (let i = 0; i < e.length; i++) {
              seenCommits.set(e[i].commit, e[i].tree);
              if (i > 0 && e[i].time > e[i - 1].time) fail(`${where}: not newest first at ${i}`);
              if (params.ref) {
                if (e[i].ref !== 'refs/shadow/manual') fail(`${where}: entry ref ${e[i].ref}`);
                if (i > 0 && e[i - 1].parents[0] !== e[i].commit) fail(`${where}: entry ${i} is not the parent of entry ${i - 1}`);
              }
            }
            if (params.ref && e.length) observations[ci].push(e[0].commit);
          } else {
            if (params.checkpoint && res.checkpoint !== params.checkpoint) fail(`${where}: diff names ${res.checkpoint}, asked ${params.checkpoint}`);
            seenCommits.set(res.checkpoint, seenCommits.get(res.checkpoint) ?? '');
            const all = [...res.added, ...res.modified, ...res.deleted, ...res.modeChanged];
            if (new Set(all).size !== all.length) fail(`${where}: a path in two lists`);
            for (const p of all) if (!universe.has(p)) fail(`${where}: unknown path ${p}`);
          }
        }
      }),
    );
    const wallMs = performance.now() - tStart;
    stopWriter = true;
    await writer;
    const memAfterLoad = memory(pid);

    // ---- end-of-run checks against native git
    const final = await first.request(Checkpoint, { message: 'load: final' }, { timeoutMs: REQUEST_TIMEOUT_MS });
    const oracle = { GIT_INDEX_FILE: join(tmp, 'oracle-index') };
    git(ws, env, ['add', '-A'], oracle);
    const native = git(ws, env, ['write-tree'], oracle);
    if (final.tree !== native) {
      const d = git(ws, env, ['diff-tree', '-r', '--no-renames', final.tree, native]).split('\n').slice(0, 10).join('; ');
      fail(`final checkpoint tree ${final.tree} (${final.hashed} hashed, rescanned ${final.rescanned}) != native git ${native}: ${d}`);
    }
    const chain = git(ws, env, ['rev-list', '--first-parent', 'refs/shadow/manual']).split('\n').reverse();
    const position = new Map(chain.map((c, i) => [c, i]));
    const shown = new Map();
    const list = [...checkpoints.keys(), ...seenCommits.keys()];
    for (let i = 0; i < list.length; i += 500) {
      const out = git(ws, env, ['show', '-s', '--no-walk=unsorted', '--format=%H%x09%T%x09%s%x09%(trailers:key=Shadow-Kind,valueonly,separator=%x2C)', ...list.slice(i, i + 500)]);
      for (const line of out.split('\n')) {
        const [commit, tree, subject, kind] = line.split('\t');
        shown.set(commit, { tree, subject, kind });
      }
    }
    for (const [commit, c] of checkpoints) {
      const g = shown.get(commit);
      if (!g) fail(`${c.where}: commit ${commit} not in git`);
      else if (g.tree !== c.tree || g.subject !== c.subject || g.kind !== 'checkpoint') fail(`${c.where}: git has ${JSON.stringify(g)} for ${commit}, answer said tree ${c.tree} subject ${c.subject}`);
      if (!position.has(commit)) fail(`${c.where}: ${commit} is not on refs/shadow/manual's chain (lost ref update)`);
    }
    for (const [commit, tree] of seenCommits) {
      const g = shown.get(commit);
      if (!g) fail(`commit ${commit} seen in an answer is not in git`);
      else if (tree && g.tree !== tree) fail(`log said tree ${tree} for ${commit}, git has ${g.tree}`);
    }
    observations.forEach((seq, ci) => {
      let last = -1;
      for (const commit of seq) {
        const p = position.get(commit) ?? -1;
        if (p < last) fail(`client ${ci}: manual chain went backwards (${commit} at ${p} after ${last})`);
        last = Math.max(last, p);
      }
    });
    // diff against a few checkpoints now that the tree is still: native diff-tree is the oracle.
    const sample = [...checkpoints.keys()].filter((_, i, a) => i % Math.max(1, Math.floor(a.length / 5)) === 0).slice(0, 5);
    for (const commit of sample) {
      const d = await first.request(Diff, { checkpoint: commit }, { timeoutMs: REQUEST_TIMEOUT_MS });
      const nat = { A: [], M: [], D: [] };
      const out = git(ws, env, ['diff-tree', '-r', '--no-renames', '--name-status', checkpoints.get(commit).tree, final.tree]);
      const modeOnly = new Set(git(ws, env, ['diff-tree', '-r', '--no-renames', checkpoints.get(commit).tree, final.tree]).split('\n').filter((l) => /^:(\d+) (\d+) (\w+) (\w+) M\t/.test(l) && l.split(' ')[0].slice(1) !== l.split(' ')[1] && l.split(' ')[2] === l.split(' ')[3]).map((l) => l.split('\t')[1]));
      for (const line of out ? out.split('\n') : []) {
        const [st, path] = line.split('\t');
        if (st === 'M' && modeOnly.has(path)) continue;
        nat[st]?.push(path);
      }
      const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
      if (!same(d.added, nat.A) || !same(d.modified, nat.M) || !same(d.deleted, nat.D)) {
        fail(`final diff against ${commit}: ${JSON.stringify({ added: d.added.length, modified: d.modified.length, deleted: d.deleted.length })} != native ${JSON.stringify({ A: nat.A.length, M: nat.M.length, D: nat.D.length })}`);
      }
    }
    const st = await first.request(Status, {}, { timeoutMs: REQUEST_TIMEOUT_MS });
    if (st.daemon.pid !== pid || !alive(pid)) fail('daemon not alive at the end');
    for (const e of errors) fail(`request error: ${JSON.stringify(e)}`);
    const memEnd = memory(pid);
    // fsck with the daemon stopped: git fsck lists objects before it reads refs, so a snapshot
    // written meanwhile (an auto snapshot after the writer went quiet) reads as a missing commit.
    await stopDaemon({ ShadowClient, Shutdown }, ws, env, pid);
    const fsck = (() => {
      try {
        git(ws, env, ['fsck', '--full', '--no-dangling', '--no-progress']);
        return 'clean';
      } catch (err) {
        fail(`git fsck (exit ${err.status}): ${`${err.stdout ?? ''}${err.stderr ?? ''}`.trim().slice(0, 400) || String(err)}`);
        return 'errors';
      }
    })();

    const all = METHODS.flatMap((m) => latency[m]);
    const report = {
      ok: failures.length === 0,
      date: new Date().toISOString(),
      clients: opts.clients,
      requestsPerClient: opts.requests,
      files: opts.files,
      requests: all.length + errors.length,
      answered: all.length,
      errors: errors.length,
      writes,
      checkpoints: checkpoints.size,
      manualChain: chain.length,
      wallSeconds: Math.round(wallMs / 100) / 10,
      throughputPerSecond: Math.round((all.length / wallMs) * 1000 * 10) / 10,
      latencyMs: { ...Object.fromEntries(METHODS.map((m) => [m, stats(latency[m])])), overall: stats(all) },
      daemon: { pid, aliveAtEnd: st.daemon.pid === pid, before: memBefore, afterLoad: memAfterLoad, end: memEnd },
      finalTreeMatchesGit: final.tree === native,
      fsck,
      loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
      totalSeconds: Math.round((Date.now() - t0) / 1000),
      failures: failures.slice(0, 30),
      failureCount: failures.length,
    };
    return report;
  } finally {
    for (const c of clients) {
      if (c && typeof c.close === 'function') c.close();
    }
    if (pid) await stopDaemon({ ShadowClient, Shutdown }, ws, env, pid);
    if (opts.keep || failures.length) console.error(`load: workspace kept in ${tmp}`);
    else {
      rmSync(tmp, { recursive: true, force: true });
      rmSync(runtime, { recursive: true, force: true });
    }
  }
}

function human(r) {
  const lines = [
    `load: ${r.clients} clients × ${r.requestsPerClient} requests, ${r.files} files; ${r.answered}/${r.requests} answered, ${r.errors} errors, ${r.writes} writer ops, ${r.checkpoints} checkpoints`,
    `wall ${r.wallSeconds} s, ${r.throughputPerSecond} req/s; daemon pid ${r.daemon.pid} alive at the end=${r.daemon.aliveAtEnd}; RSS before ${r.daemon.before?.rssMb} MB, after load ${r.daemon.afterLoad?.rssMb} MB (peak ${r.daemon.afterLoad?.hwmMb} MB)`,
    'method      n      p50 ms   p99 ms   max ms',
    ...Object.entries(r.latencyMs).map(([m, s]) => `${m.padEnd(10)} ${String(s.n).padStart(5)} ${String(s.p50).padStart(9)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)}`),
    `final tree matches git: ${r.finalTreeMatchesGit}; git fsck: ${r.fsck}; loadavg ${r.loadavg.join(' ')}`,
    r.ok ? 'OK' : `FAILED (${r.failureCount}):\n  ${r.failures.join('\n  ')}`,
  ];
  return lines.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const opts = parseOptions(process.argv.slice(2));
  const report = await runLoad(opts);
  process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : human(report));
  process.exit(report.ok ? 0 : 1);
}
