#!/usr/bin/env node
/**
 * Issue #5, acceptance point 2 (S1.6, S1.2): Shadow beside the user's own git.
 *
 *   node scripts/besideGit.mjs [--seconds 60] [--seed N] [--json]
 *
 * A git repository with a few hundred files on two branches. One loop drives the daemon through
 * the typed client (dist/client/index.js): random edits + `checkpoint`, and `run.start` + edits +
 * `cancel` with `remove_all` or `rollback`. Meanwhile another loop runs the user's git, each
 * command its own process: `git gc --prune=now`, `git pack-refs --all`, `git commit`,
 * `git checkout` between the branches, `git stash push/pop`.
 *
 * The two actors edit disjoint paths on purpose: the agent edits `agent/` (identical in both
 * branches, never committed by the user, so checkouts carry its edits along), the user edits
 * `user/`, which `.shadowignore` hides from Shadow (a cancel restoring `user/` under a running
 * checkout would be a real conflict of intentions, not a Shadow bug). What is shared is what this
 * test is about: the object store, packs, packed-refs and the locks.
 *
 * At the end: every shadow commit oid ever returned is still readable with its whole tree
 * (`git rev-list --objects --missing=print`), every refs/shadow/* ref resolves, `manual` and
 * `undo` equal the last value returned for them and each run ref still contains the last commit
 * recorded on it, every user git command exited 0, every daemon call succeeded, and
 * `git fsck --full` is clean. Prints a summary (one JSON line with --json); exits 1 on failure.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, unlinkSync, writeFileSync, existsSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mulberry32 } from './prng.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/client/shadowctl.cjs');
const CLIENT = join(ROOT, 'dist/client/index.js');
const AGENT_DIRS = 20;
const AGENT_FILES_PER_DIR = 15;
const USER_FILES = 40;

/** The seeded PRNG with the helpers the loops use, so a failing seed can be replayed. */
function rng(seed) {
  const next = mulberry32(seed);
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

function parseArgs(argv) {
  const out = { seconds: 60, seed: Date.now() % 1_000_000, json: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') out.seconds = Number(argv[++i]);
    else if (argv[i] === '--seed') out.seed = Number(argv[++i]);
    else if (argv[i] === '--json') out.json = true;
    else if (argv[i] === '--keep') out.keep = true;
    else throw new Error(`unknown argument ${argv[i]} (usage: besideGit.mjs [--seconds N] [--seed N] [--json] [--keep])`);
  }
  if (!(out.seconds > 0) || !Number.isInteger(out.seed)) throw new Error('--seconds must be > 0 and --seed an integer');
  return out;
}

/** Runs git asynchronously (its own process); resolves with its exit code and output. */
function gitAsync(cwd, env, args) {
  return new Promise((res) => {
    execFile('git', args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Builds the repository: agent/ (snapshotted) and user/ (ignored by Shadow) on branches main and other. */
function makeRepo(ws, env) {
  const git = (args) => execFileSync('git', args, { cwd: ws, env, encoding: 'utf8' });
  git(['init', '-q', '-b', 'main', ws]);
  const agentFiles = [];
  for (let d = 0; d < AGENT_DIRS; d++) {
    for (let f = 0; f < AGENT_FILES_PER_DIR; f++) {
      const rel = `agent/d${d}/${d % 3 === 0 ? `deep/x${d}/` : ''}f${f}.txt`;
      mkdirSync(join(ws, dirname(rel)), { recursive: true });
      writeFileSync(join(ws, rel), `agent file ${rel}\n`.repeat(1 + (f % 5)));
      agentFiles.push(rel);
    }
  }
  const userFiles = [];
  for (let u = 0; u < USER_FILES; u++) {
    const rel = `user/u${u % 4}/file${u}.txt`;
    mkdirSync(join(ws, dirname(rel)), { recursive: true });
    writeFileSync(join(ws, rel), `user file ${u}\n`);
    userFiles.push(rel);
  }
  writeFileSync(join(ws, '.shadowignore'), 'user/\n');
  // Keep every run (retention would rightly delete refs this check expects to find) and take
  // auto snapshots often, so refs/shadow/auto moves during the test too.
  writeFileSync(join(ws, 'shadow.config.json'), JSON.stringify({ retention: { keepRuns: 1000, keepDays: 30, maxAutoSnapshots: 1000 }, autoSnapshot: { enabled: true, quietPeriod: 300 } }, null, 2));
  git(['add', '-A']);
  git(['commit', '-q', '-m', 'initial']);
  git(['checkout', '-q', '-b', 'other']);
  for (const rel of userFiles.slice(0, 10)) appendFileSync(join(ws, rel), 'only on branch other\n');
  git(['commit', '-q', '-am', 'other branch']);
  git(['checkout', '-q', 'main']);
  return { agentFiles, userFiles };
}

/** Random agent edits: modify, create, delete files under agent/. */
function agentEdits(ws, r, state, tag) {
  const n = 1 + r.int(5);
  for (let i = 0; i < n; i++) {
    const what = r.next();
    if (what < 0.6 || state.files.length < 50) {
      const rel = r.pick(state.files);
      mkdirSync(join(ws, dirname(rel)), { recursive: true });
      appendFileSync(join(ws, rel), `${tag} edit ${i} ${r.int(1e9)}\n`);
    } else if (what < 0.85) {
      const rel = `agent/d${r.int(AGENT_DIRS)}/new-${tag}-${i}.txt`;
      mkdirSync(join(ws, dirname(rel)), { recursive: true });
      writeFileSync(join(ws, rel), `created ${tag} ${r.int(1e9)}\n`);
      state.files.push(rel);
    } else {
      const idx = r.int(state.files.length);
      const rel = state.files[idx];
      if (existsSync(join(ws, rel))) unlinkSync(join(ws, rel));
      state.files.splice(idx, 1);
    }
  }
}

/** The user's git loop: each op is a separate git process; records every exit code. */
async function userLoop(ws, env, r, deadline, stats, failures, userFiles) {
  let branch = 'main';
  let round = 0;
  const run = async (op, args) => {
    const res = await gitAsync(ws, env, args);
    stats.user[op] = (stats.user[op] ?? 0) + 1;
    if (res.code !== 0) failures.push(`user git ${args.join(' ')} exited ${res.code}: ${res.stderr.trim().slice(0, 400)}`);
    return res;
  };
  while (Date.now() < deadline) {
    round++;
    const x = r.next();
    if (x < 0.3) await run('gc', ['gc', '--prune=now', '--quiet']);
    else if (x < 0.5) await run('pack-refs', ['pack-refs', '--all']);
    else if (x < 0.7) {
      appendFileSync(join(ws, r.pick(userFiles)), `user commit ${round}\n`);
      await run('commit', ['commit', '-q', '-m', `user commit ${round}`, '--', 'user/']);
    } else if (x < 0.9) {
      branch = branch === 'main' ? 'other' : 'main';
      await run('checkout', ['checkout', '-q', branch]);
    } else {
      appendFileSync(join(ws, r.pick(userFiles)), `user stash ${round}\n`);
      const push = await run('stash-push', ['stash', 'push', '-q', '--', 'user/']);
      if (push.code === 0) await run('stash-pop', ['stash', 'pop', '-q']);
      // Commit what the pop brought back, so the next checkout finds user/ clean.
      await run('commit', ['commit', '-q', '-m', `user stash ${round}`, '--', 'user/']);
    }
  }
}

/** The daemon loop: checkpoints and run start/cancel cycles; records every shadow commit. */
async function daemonLoop(client, api, ws, r, deadline, stats, failures, rec, state) {
  let round = 0;
  const call = async (label, method, params) => {
    try {
      return await client.request(method, params, { timeoutMs: 60_000 });
    } catch (err) {
      failures.push(`daemon ${label} failed: ${err.code ?? ''} ${err.message}`);
      return null;
    }
  };
  while (Date.now() < deadline) {
    round++;
    if (r.next() < 0.5) {
      agentEdits(ws, r, state, `cp${round}`);
      const c = await call('checkpoint', api.Checkpoint, { message: `besideGit ${round}` });
      if (c) {
        stats.checkpoints++;
        rec(c.ref, c.commit);
      }
      continue;
    }
    const s = await call('run.start', api.RunStart, { name: `besideGit-${round}` });
    if (!s) continue;
    stats.runs++;
    rec(s.ref, s.base);
    agentEdits(ws, r, state, `run${round}`);
    if (r.next() < 0.5) {
      const c = await call('checkpoint (run)', api.Checkpoint, { message: `in run ${round}`, run: s.run });
      if (c) {
        stats.checkpoints++;
        rec(c.ref, c.commit);
      }
      agentEdits(ws, r, state, `run${round}b`);
    }
    const action = r.next() < 0.5 ? 'remove_all' : 'rollback';
    const k = await call(`cancel ${action}`, api.Cancel, { run: s.run, action });
    if (!k) continue;
    stats.cancels[action]++;
    if (k.status !== 'cancelled') failures.push(`cancel of ${s.run} ended ${k.status}`);
    if (k.preAbort) rec('refs/shadow/undo', k.preAbort);
    if (k.restoredTo) rec(null, k.restoredTo);
    // The restore changed files behind our list: re-list agent/ (cheap: a few hundred files).
    state.files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'agent'], { cwd: ws, encoding: 'utf8' }).split('\n').filter(Boolean);
    if (state.files.length === 0) state.files = [...state.initial];
  }
}

/** Runs the scenario; returns the summary (ok false with failures on any problem). */
export async function besideGit({ seconds = 60, seed = 1, keep = false, log = () => {} } = {}) {
  const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'shadow-beside-')));
  const ws = join(tmp, 'ws');
  const runtime = mkdtempSync('/tmp/sbg-');
  const env = {
    ...process.env,
    SHADOW_RUNTIME_DIR: join(runtime, 'run'),
    SHADOW_BACKUP_DIR: join(runtime, 'backup'),
    HOME: join(runtime, 'home'),
    XDG_CONFIG_HOME: join(runtime, 'home', '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'User',
    GIT_AUTHOR_EMAIL: 'user@example.invalid',
    GIT_COMMITTER_NAME: 'User',
    GIT_COMMITTER_EMAIL: 'user@example.invalid',
  };
  mkdirSync(env.HOME, { recursive: true });
  mkdirSync(ws);
  const { agentFiles, userFiles } = makeRepo(ws, env);
  const api = await import(pathToFileURL(CLIENT).href);
  const stats = { seconds, seed, checkpoints: 0, runs: 0, cancels: { remove_all: 0, rollback: 0 }, user: {}, shadowCommits: 0, shadowRefs: 0 };
  const failures = [];
  const all = new Set();
  const last = new Map();
  const rec = (ref, oid) => {
    all.add(oid);
    if (ref) last.set(ref, oid);
  };
  let client;
  try {
    client = await api.ShadowClient.connect({ workspace: ws, env, clientName: 'besideGit' });
    const deadline = Date.now() + seconds * 1000;
    const r = rng(seed);
    const state = { files: [...agentFiles], initial: agentFiles };
    log(`workspace ${ws}, seed ${seed}, ${seconds} s`);
    await Promise.all([
      userLoop(ws, env, rng(seed ^ 0x5bd1e995), deadline, stats, failures, userFiles),
      daemonLoop(client, api, ws, r, deadline, stats, failures, rec, state),
    ]);
    // One more checkpoint after the storm: the daemon's queue is drained and it still works.
    try {
      const c = await client.request(api.Checkpoint, { message: 'after the storm' }, { timeoutMs: 60_000 });
      rec(c.ref, c.commit);
      stats.checkpoints++;
    } catch (err) {
      failures.push(`final checkpoint failed: ${err.code ?? ''} ${err.message}`);
    }
    verify(ws, env, all, last, stats, failures);
  } finally {
    client?.close();
    // Asynchronously: the daemon is our child (auto-started), and a blocked event loop could not
    // reap it, so `daemon stop` would wait for a zombie.
    const stop = await new Promise((res) => execFile(process.execPath, [CLI, '-C', ws, 'daemon', 'stop'], { env, timeout: 30_000 }, (err, _o, stderr) => res(err ? `exit ${err.code}: ${stderr.slice(0, 300)}` : null)));
    if (stop) failures.push(`daemon stop failed: ${stop}`);
    if (!keep) {
      rmSync(tmp, { recursive: true, force: true });
      rmSync(runtime, { recursive: true, force: true });
    }
  }
  stats.shadowCommits = all.size;
  return { ok: failures.length === 0, ...stats, failures, workspace: keep ? ws : undefined };
}

/** The end-of-test oracle, all native git. */
function verify(ws, env, all, last, stats, failures) {
  const git = (args, input) => {
    try {
      return { code: 0, out: execFileSync('git', args, { cwd: ws, env, encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] }) };
    } catch (err) {
      return { code: err.status ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
    }
  };
  // Every recorded commit with every object below it (commits, trees, blobs) is present.
  const objects = git(['rev-list', '--objects', '--missing=print', '--stdin'], [...all].join('\n') + '\n');
  const missing = objects.out.split('\n').filter((l) => l.startsWith('?'));
  if (objects.code !== 0) failures.push(`git rev-list --objects over the ${all.size} recorded commits failed: ${objects.out.slice(0, 400)}`);
  if (missing.length) failures.push(`${missing.length} object(s) of recorded shadow commits are missing: ${missing.slice(0, 5).join(' ')}`);
  const refs = git(['for-each-ref', '--format=%(refname) %(objectname)', 'refs/shadow/']).out.split('\n').filter(Boolean);
  stats.shadowRefs = refs.length;
  const current = new Map(refs.map((l) => l.split(' ')).map(([ref, oid]) => [ref, oid]));
  for (const [ref, oid] of current) {
    if (git(['cat-file', '-e', `${oid}^{commit}`]).code !== 0) failures.push(`${ref} → ${oid} does not resolve to a commit`);
  }
  for (const [ref, oid] of last) {
    const now = current.get(ref);
    if (!now) failures.push(`${ref} (last recorded ${oid}) is gone`);
    else if (ref === 'refs/shadow/manual' || ref === 'refs/shadow/undo') {
      if (now !== oid) failures.push(`${ref} is ${now}, last recorded value ${oid}`);
    } else if (git(['merge-base', '--is-ancestor', oid, now]).code !== 0) failures.push(`${ref} is ${now}, which does not contain the last recorded ${oid}`);
  }
  const fsck = git(['fsck', '--full', '--no-dangling', '--no-progress']);
  if (fsck.code !== 0 || /missing|broken|error|corrupt|bad/i.test(fsck.out)) failures.push(`git fsck --full: exit ${fsck.code}: ${fsck.out.slice(0, 600)}`);
  // S1.2: no lock of the user's left behind, and the user's ops are checked by their exit codes.
  for (const lock of ['index.lock', 'HEAD.lock', 'packed-refs.lock']) if (existsSync(join(ws, '.git', lock))) failures.push(`.git/${lock} left behind`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  const summary = await besideGit({ ...args, log: (m) => !args.json && console.error(m) });
  if (args.json) console.log(JSON.stringify(summary));
  else {
    const u = Object.entries(summary.user).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`besideGit: ${summary.seconds} s, seed ${summary.seed}: ${summary.checkpoints} checkpoints, ${summary.runs} runs, cancels remove_all ${summary.cancels.remove_all} / rollback ${summary.cancels.rollback}`);
    console.log(`  user git: ${u}`);
    console.log(`  ${summary.shadowCommits} shadow commits recorded, ${summary.shadowRefs} shadow refs at the end`);
    console.log(summary.ok ? '  OK: every commit readable, refs intact, user ops all succeeded, fsck clean' : `  FAILED (${summary.failures.length}):\n  - ${summary.failures.slice(0, 30).join('\n  - ')}`);
  }
  process.exit(summary.ok ? 0 : 1);
}
