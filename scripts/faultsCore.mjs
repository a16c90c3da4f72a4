/**
 * Fault injection (issue #5, S1.6, S2.5): SIGKILL the daemon during a checkpoint, a ref update,
 * a restore and a cancel, then check that a fresh daemon starts, the store is sound, no
 * checkpoint was lost and the tree is one of the recorded states, never a mixture.
 *
 * Two kinds of kill: `timer` — after a random delay (seeded PRNG) from the request, spread over
 * the operation's measured duration; `point` — the daemon is started with
 * SHADOW_FAULT_KILL_AT=<point>[#n] and dies at that exact line (daemon/faultPoint.ts), for the
 * windows too narrow for a timer. Used by scripts/faults.mjs and test/integration/faults.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { PHASES } from './faultsPhases.mjs';
import { leftLocks, nativeTree, restoreTempFiles, verifyStore } from './faultsVerify.mjs';
import { mulberry32 } from './prng.mjs';

export { mulberry32 };

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Share of kills made at a fault point rather than after a random delay. */
const POINT_SHARE = 0.35;
/** The delay of a timer kill is drawn from [0, SPREAD × the operation's measured duration]. */
const SPREAD = 1.25;

/** The phases, in the order they run. */
export const PHASE_NAMES = Object.keys(PHASES);


/**
 * Which kills a seed makes: per phase, `{ mode, point }` for each kill (point: the fault point
 * a `point` kill is armed with). Drawn from its own stream, so the plan of a seed does not depend
 * on the machine's timing; the delays and file numbers come from a second stream.
 */
export function planKills(seed, counts) {
  const rng = mulberry32(seed);
  return Object.fromEntries(
    Object.entries(counts).map(([phase, n]) => [
      phase,
      Array.from({ length: n }, () => {
        const mode = rng() < POINT_SHARE ? 'point' : 'timer';
        const point = PHASES[phase].points[Math.floor(rng() * PHASES[phase].points.length)];
        return { mode, point: mode === 'point' ? point : null };
      }),
    ]),
  );
}

/** `kills` spread over the phases as evenly as possible, earlier phases getting the remainder. */
export function spreadKills(kills, phases = PHASE_NAMES) {
  return Object.fromEntries(phases.map((p, i) => [p, Math.floor(kills / phases.length) + (i < kills % phases.length ? 1 : 0)]));
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitDead(pid, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`daemon ${pid} still alive ${ms} ms after SIGKILL`);
    await sleep(10);
  }
}

/** A git repository with one commit, autoSnapshot off (the harness decides when checkpoints happen), and its own runtime dir. */
function makeWorkspace(root, phase) {
  const dir = join(root, phase);
  mkdirSync(dir);
  const rt = mkdtempSync('/tmp/sft-');
  const env = {
    SHADOW_RUNTIME_DIR: join(rt, 'run'),
    SHADOW_BACKUP_DIR: join(rt, 'backup'),
    HOME: join(rt, 'home'),
    XDG_CONFIG_HOME: join(rt, 'home', '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Faults',
    GIT_AUTHOR_EMAIL: 'faults@example.invalid',
    GIT_COMMITTER_NAME: 'Faults',
    GIT_COMMITTER_EMAIL: 'faults@example.invalid',
  };
  const full = { ...process.env, ...env };
  delete full.NODE_OPTIONS; // vitest's loader must not reach the daemon
  delete full.SHADOW_FAULT_KILL_AT;
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env: full });
  execFileSync('git', ['commit', '-q', '--allow-empty', '-m', 'init'], { cwd: dir, env: full });
  writeFileSync(join(dir, 'shadow.config.json'), JSON.stringify({ autoSnapshot: { enabled: false } }));
  return { dir, rt, env: full };
}

/**
 * Runs the fault injection. Options: kills (total, default 60), seed, files (tree size of the
 * checkpoint/restore/cancel phases, default 3000), phases (subset), log (progress lines), keep
 * (keep the workspaces of failed phases), dist (the build to run, default <repo>/dist).
 * Resolves to the report; never throws for a failed check.
 */
export async function runFaults(opts = {}) {
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const kills = opts.kills ?? 60;
  const files = opts.files ?? 3000;
  const log = opts.log ?? (() => undefined);
  const rng = mulberry32((seed ^ 0x5bd1e995) >>> 0);
  // `dist`: a private build, so that a rebuild of the shared dist/ mid-run cannot break the daemons started.
  const m = await import(pathToFileURL(join(opts.dist ?? join(ROOT, 'dist'), 'client/index.js')).href);
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'shadow-faults-')));
  const started = Date.now();
  const report = { seed, kills: 0, files, failures: 0, phases: {} };
  try {
    const plan = planKills(seed, spreadKills(kills, opts.phases ?? PHASE_NAMES));
    for (const [phase, kinds] of Object.entries(plan)) {
      if (kinds.length) report.phases[phase] = await runPhase({ phase, kinds, rng, m, root, files, log, keep: opts.keep });
    }
  } finally {
    if (!opts.keep || !Object.values(report.phases).some((p) => p.failures.length)) rmSync(root, { recursive: true, force: true });
  }
  for (const p of Object.values(report.phases)) {
    report.kills += p.kills;
    report.failures += p.failures.length;
  }
  report.ms = Date.now() - started;
  return report;
}

async function runPhase({ phase, kinds, rng, m, root, files, log, keep }) {
  const def = PHASES[phase];
  const ws = makeWorkspace(root, phase);
  const ctx = { ...ws, files, m, recorded: [], children: [], client: null, base: null };
  const stats = { list: [], kills: 0, timer: 0, point: 0, inFlight: 0, reached: 0, ok: 0, outcomes: {}, journals: 0, locks: 0, restartMs: [], failures: [] };
  const connect = async (env = ctx.env) => (ctx.client = await m.ShadowClient.connect({ workspace: ctx.dir, env, startTimeoutMs: 60_000, clientName: 'faults' }));
  try {
    def.setup(ctx);
    await connect();
    // Calibration: one operation left alone, to know how long the timer kills should spread over.
    const calib = await def.prepare(ctx, 0, rng);
    const t0 = Date.now();
    ctx.recorded.push(...calib.record(await calib.send(ctx.client)));
    const timing = { ms: Math.max(5, Date.now() - t0) };
    if (calib.check) await calib.check(ctx.client);
    log(`${phase}: one ${phase} takes ${timing.ms} ms; ${kinds.length} kills`);
    for (const [i, kind] of kinds.entries()) {
      const round = i + 1;
      const r0 = Date.now();
      const kill = await killOnce(ctx, def, round, kind, rng, timing, connect);
      stats.list.push({ round, mode: kill.mode, at: kill.at, inFlight: kill.inFlight, journal: kill.journal, locks: kill.locks, outcome: kill.outcome, ok: !kill.problems.length });
      stats.kills++;
      stats[kill.mode]++;
      if (kill.inFlight) stats.inFlight++;
      if (kill.reached) stats.reached++;
      if (kill.journal) stats.journals++;
      if (kill.locks.length) stats.locks++;
      if (kill.outcome) stats.outcomes[kill.outcome] = (stats.outcomes[kill.outcome] ?? 0) + 1;
      if (kill.restartMs !== undefined) stats.restartMs.push(kill.restartMs);
      if (kill.problems.length) stats.failures.push({ round, mode: kill.mode, at: kill.at, problems: kill.problems, workspace: ctx.dir });
      else stats.ok++;
      log(`${phase} #${round} ${kill.mode} ${kill.at}: ${kill.inFlight ? 'in flight' : 'after the answer'}${kill.journal ? ', journal left' : ''}${kill.locks.length ? `, left ${kill.locks.join(' ')}` : ''}; tree = ${kill.outcome ?? '?'}; ${kill.problems.length ? `FAILED: ${kill.problems.join('; ')}` : 'ok'} (${((Date.now() - r0) / 1000).toFixed(1)} s)`);
      if (kill.fatal) break;
    }
  } finally {
    await stopDaemon(ctx, m);
    for (const c of ctx.children) c.kill('SIGKILL');
    if (!keep || !stats.failures.length) rmSync(ctx.rt, { recursive: true, force: true });
  }
  return stats;
}

/** One kill and the checks after it. */
async function killOnce(ctx, def, round, { mode, point }, rng, timing, connect) {
  const { m } = ctx;
  const out = { mode, at: '', inFlight: false, reached: false, journal: false, locks: [], problems: [], outcome: null, fatal: false };
  let op;
  let pid;
  let answered = null;
  // The daemon dying closes the connection; any other error is the operation failing by itself.
  const refused = (e) => e?.code !== 'CONNECTION_CLOSED' && out.problems.push(`the request failed before the kill: ${e?.code} ${e?.message}`);
  try {
    if (mode === 'point') {
      // A daemon armed with the fault point; prepare's own requests never reach the phase's points.
      out.at = def.spec(ctx, point, rng);
      await stopDaemon(ctx, m);
      const untouched = nativeTree(ctx.dir, ctx.env);
      try {
        await connect({ ...ctx.env, SHADOW_FAULT_KILL_AT: out.at });
      } catch (err) {
        // Reached during the armed daemon's start-up: a kill all the same, with nothing sent yet.
        out.at += ` (at start-up: ${err.code})`;
        out.reached = true;
        await verifyAfter(ctx, { allowed: { untouched }, record: () => [] }, out, connect);
        return out;
      }
      op = await def.prepare(ctx, round, rng);
      pid = ctx.client.hello.pid;
      const res = await op.send(ctx.client).then((r) => ({ r }), (e) => ({ e }));
      if (res.r) {
        answered = res.r; // the point was not reached during this operation: kill it now
        process.kill(pid, 'SIGKILL');
      } else {
        out.reached = out.inFlight = true;
        refused(res.e);
      }
    } else {
      op = await def.prepare(ctx, round, rng);
      pid = ctx.client.hello.pid;
      const delay = Math.round(rng() * SPREAD * timing.ms);
      out.at = `${delay} ms`;
      const sent = Date.now();
      const pending = op.send(ctx.client).then((r) => ({ r, ms: Date.now() - sent }), (e) => ({ e }));
      await sleep(delay); // the instant of the kill is the experiment
      process.kill(pid, 'SIGKILL');
      const res = await pending;
      if (res.r) {
        answered = res.r;
        timing.ms = Math.max(5, Math.round((timing.ms + res.ms) / 2)); // the machine's load drifts: follow it
      }
      else {
        out.inFlight = true;
        refused(res.e);
      }
    }
    await waitDead(pid);
  } catch (err) {
    out.problems.push(`harness: ${err.message}`);
    out.fatal = true;
    return out;
  }
  ctx.client?.close();
  ctx.client = null;
  // An answer received before the kill is a promise kept: its commits must survive.
  if (answered) ctx.recorded.push(...op.record(answered));
  out.journal = existsSync(join(ctx.dir, '.git', 'shadow', 'journal.json'));
  out.locks = leftLocks(join(ctx.dir, '.git'));
  // Writes between the crash and the restart (and maybe a kill of the replay): the phase says what is allowed then.
  if (op.afterKill) {
    await op.afterKill(rng, connect);
    if (op.replayKill) out.at += `, replay killed at ${op.replayKill}`;
  }
  await verifyAfter(ctx, op, out, connect);
  return out;
}

async function verifyAfter(ctx, op, out, connect) {
  const t0 = Date.now();
  try {
    await connect();
  } catch (err) {
    out.problems.push(`a new daemon did not start: ${err.code ?? ''} ${err.message}`);
    out.fatal = true;
    return;
  }
  out.restartMs = Date.now() - t0;
  if (existsSync(join(ctx.dir, '.git', 'shadow', 'journal.json'))) out.problems.push('journal.json still there after the new daemon answered');
  out.problems.push(...verifyStore(ctx.dir, ctx.env, ctx.recorded));
  const now = nativeTree(ctx.dir, ctx.env);
  out.outcome = Object.keys(op.allowed).find((k) => op.allowed[k] === now) ?? null;
  if (!out.outcome) {
    const temps = restoreTempFiles(ctx.dir);
    out.problems.push(`working tree ${now} is none of ${Object.entries(op.allowed).map(([k, v]) => `${k} ${v}`).join(', ')}${temps.length ? ` (restore temp files left: ${temps.slice(0, 3).join(', ')})` : ''}`);
  }
  if (op.check) out.problems.push(...(await op.check(ctx.client).catch((e) => [`post-check: ${e.code ?? ''} ${e.message}`])));
  // The next checkpoint must go through: no stale `.lock` may block it, and it must see the disk as it is.
  try {
    const c = await ctx.client.request(ctx.m.Checkpoint, { message: 'after recovery' }, { timeoutMs: 30_000 });
    ctx.recorded.push(c.commit);
    if (c.tree !== now) out.problems.push(`checkpoint after recovery has tree ${c.tree}, the disk is ${now}`);
  } catch (err) {
    out.problems.push(`checkpoint after recovery failed: ${err.code ?? ''} ${err.message}`);
  }
}

async function stopDaemon(ctx, m) {
  if (!ctx.client) return;
  const pid = ctx.client.hello.pid;
  await ctx.client.request(m.Shutdown, {}, { timeoutMs: 20_000 }).catch(() => null);
  ctx.client.close();
  ctx.client = null;
  await waitDead(pid, 30_000).catch(() => process.kill(pid, 'SIGKILL'));
}

/** The report as a fixed-width table, one line per phase and a total. */
export function formatReport(report) {
  const head = ['phase', 'kills', 'timer', 'point', 'in flight', 'journal left', 'lock left', 'tree = target/pre/untouched', 'recovered ok', 'failures'];
  const rows = Object.entries(report.phases).map(([name, p]) => [
    name,
    p.kills,
    p.timer,
    `${p.point} (${p.reached} reached)`,
    p.inFlight,
    p.journals,
    p.locks,
    `${p.outcomes.target ?? 0}/${p.outcomes['pre-abort'] ?? 0}/${p.outcomes.untouched ?? 0}`,
    p.ok,
    p.failures.length,
  ]);
  const total = ['total', report.kills, ...[2, 3, 4, 5, 6].map((i) => rows.reduce((s, r) => s + (parseInt(String(r[i]), 10) || 0), 0)), '', rows.reduce((s, r) => s + r[8], 0), report.failures];
  const table = [head, ...rows, total].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = table.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  '));
  const details = Object.entries(report.phases).flatMap(([name, p]) => p.failures.map((f) => `  ${name} #${f.round} (${f.mode} ${f.at}): ${f.problems.join('; ')}`));
  return [`seed ${report.seed}, ${report.kills} kills, ${report.files} files, ${(report.ms / 1000).toFixed(0)} s`, ...lines, ...(details.length ? ['failures:', ...details] : [])].join('\n');
}
