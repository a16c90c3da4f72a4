/**
 * The issue #3 scenario of `npm run bench`: cancel a run on a 5k-file git repository (S5.9:
 * under 500 ms from the request to the run `cancelled` with its files back).
 *
 * Each repetition starts a fresh run, edits 100 files and creates 50, waits until the daemon has
 * handled the watcher events, then times `shadowctl cancel` (reason user_cancel → remove_all) end
 * to end; a second loop times `request(Cancel)` alone on an open connection (the daemon side).
 * After every cancel the tree must equal native git's tree of the base state.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CLIENT, daemonPid, generateWorkspace, mayRun, progress, settle, shadowctl, stopDaemon, summarize, timed } from './bench.mjs';

const EDITED = 100;
const CREATED = 50;
/** Files edited before the run and never committed: the base is not HEAD, and a cancel must keep them. */
const UNCOMMITTED = 5;

/** `git add -A && git write-tree` with a throwaway index and object store (kept between calls: warm). */
function nativeTree(ws, env, tmp) {
  const genv = { ...env, GIT_INDEX_FILE: join(tmp, 'cancel.index'), GIT_OBJECT_DIRECTORY: join(tmp, 'cancel-objects') };
  mkdirSync(genv.GIT_OBJECT_DIRECTORY, { recursive: true });
  timed('git', ['add', '-A'], { cwd: ws, env: genv });
  return timed('git', ['write-tree'], { cwd: ws, env: genv }).stdout.trim();
}

/** What a run does to the tree: EDITED files get a line appended, CREATED new files appear (a different set each round). */
function runWrites(ws, files, round) {
  const stride = Math.floor(files.length / EDITED);
  for (let i = 0; i < EDITED; i++) appendFileSync(join(ws, files[(i * stride + round * 13) % files.length]), `// run ${round} edit ${i}\n`);
  const dirStride = Math.floor(files.length / CREATED);
  for (let i = 0; i < CREATED; i++) writeFileSync(join(ws, dirname(files[(i * dirStride + round) % files.length]), `new-${round}-${i}.ts`), `export const n = ${i};\n`);
}

/** Throws unless a cancel did what remove_all promises: run cancelled, tree back to the base (native git's tree). */
function verify(label, r, base, ws, env, tmp, baseTree) {
  const what = `${r.status} ${r.reason} ${r.action}, ${r.removed.length} removed, ${r.restored.length} restored, ${r.preserved.length} preserved, restoredTo ${r.restoredTo}`;
  if (r.status !== 'cancelled' || r.reason !== 'user_cancel' || r.action !== 'remove_all' || r.restoredTo !== base || r.removed.length !== CREATED || r.restored.length !== EDITED || r.preserved.length) {
    throw new Error(`${label}: unexpected cancel result (${what})`);
  }
  const tree = nativeTree(ws, env, tmp);
  if (tree !== baseTree) throw new Error(`${label}: tree after the cancel ${tree} is not the base tree ${baseTree} (${what})`);
}

/**
 * Runs the scenario in its own workspace under `tmp` and stops its daemon. Returns median/p90 of
 * `node -e 0` (timed next to each cancel), `shadowctl cancel`, and `request(Cancel)` alone.
 */
/** `ws`/`files`: an existing generated workspace to use (kept); `withNative`: also time git's reset + clean after each cancel. */
export async function scenarioCancel({ tmp, env, runs, n = 5000, ws: givenWs, files: givenFiles, withNative = false }) {
  const ws = givenWs ?? join(tmp, 'ws-cancel');
  const files = givenFiles ?? generateWorkspace(ws, n);
  const git = (args) => timed('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...args], { cwd: ws, env });
  git(['add', '-A']);
  git(['commit', '-q', '--no-verify', '-m', 'base']);
  for (let i = 0; i < UNCOMMITTED; i++) appendFileSync(join(ws, files[i * 37 + 3]), '// uncommitted work from before the run\n');
  const baseTree = nativeTree(ws, env, tmp);
  const node = [];
  const cancel = [];
  const inproc = [];
  const native = [];
  try {
    // Warm-up (untimed): starts the daemon, waits for its first scan, runs one start/cancel cycle.
    shadowctl(ws, env, ['start', '--json']);
    shadowctl(ws, env, ['cancel', '--json']);
    const pid = daemonPid(ws, env);
    await settle(pid);
    let round = 1;

    for (let i = 0; mayRun(i, runs, 5); i++, round++) {
      const { base } = JSON.parse(shadowctl(ws, env, ['start', '--json']).stdout);
      const startTree = timed('git', ['rev-parse', `${base}^{tree}`], { cwd: ws, env }).stdout.trim();
      if (startTree !== baseTree) throw new Error(`cancel: the run's base checkpoint ${base} has tree ${startTree}, git says ${baseTree}`);
      await settle(pid);
      runWrites(ws, files, round);
      await settle(pid, 200);
      node.push(timed(process.execPath, ['-e', '0'], { env }).ms);
      const r = shadowctl(ws, env, ['cancel', '--json']);
      cancel.push(r.ms);
      verify('cancel', JSON.parse(r.stdout), base, ws, env, tmp, baseTree);
      progress(`  cancel ${i + 1}/${runs}: shadowctl cancel ${r.ms.toFixed(0)} ms (node -e 0 ${node.at(-1).toFixed(0)} ms)`);
      await settle(pid);
      if (withNative) {
        // Native git's nearest way to throw a run's writes away: reset the tracked files, remove
        // the new ones. It also drops the uncommitted edits made before the run, put back untimed.
        runWrites(ws, files, 1000 + round);
        await settle(pid, 200);
        native.push(git(['reset', '--hard', '-q']).ms + git(['clean', '-fdq']).ms);
        for (let u = 0; u < UNCOMMITTED; u++) appendFileSync(join(ws, files[u * 37 + 3]), '// uncommitted work from before the run\n');
        const tree = nativeTree(ws, env, tmp);
        if (tree !== baseTree) throw new Error(`native reset + clean left tree ${tree}, not the base tree ${baseTree}`);
        progress(`  native git reset --hard + clean -fd ${native.at(-1).toFixed(0)} ms`);
        await settle(pid);
      }
    }

    // Daemon side: one connection, then time request(Cancel) alone (no process start).
    const { ShadowClient, Cancel, RunStart } = await import(pathToFileURL(CLIENT).href);
    const client = await ShadowClient.connect({ workspace: ws, env, autoStart: false });
    try {
      for (let i = 0; mayRun(i, runs, 5); i++, round++) {
        const { base } = await client.request(RunStart, {});
        await settle(pid);
        runWrites(ws, files, round);
        await settle(pid, 200);
        const t = performance.now();
        const r = await client.request(Cancel, {});
        inproc.push(performance.now() - t);
        verify('request(Cancel)', r, base, ws, env, tmp, baseTree);
        await settle(pid);
      }
    } finally {
      client.close();
    }
    progress(`  request(Cancel) alone: median ${summarize(inproc).median.toFixed(0)} ms`);
  } finally {
    stopDaemon(ws, env);
  }
  return { n, edited: EDITED, created: CREATED, node: summarize(node), cancel: summarize(cancel), inproc: summarize(inproc), ...(withNative ? { native: summarize(native) } : {}) };
}

/**
 * What the verifying rescan of a destructive step costs (S1.1a) at `n` files: a checkpoint after
 * one edited file (the watcher's dirty set) against a restore to that same checkpoint after one
 * more edit (a full stat rescan against the cache, the pre-abort commit, a one-file plan), on one
 * open connection. The difference of the medians is the rescan's price.
 */
export async function scenarioVerifyRescan({ tmp, env, n, runs }) {
  const ws = join(tmp, `ws-verify-${n}`);
  const files = generateWorkspace(ws, n);
  timed('git', ['init', '-q', ws], { env });
  writeFileSync(join(ws, 'shadow.config.json'), JSON.stringify({ autoSnapshot: { enabled: false } }));
  const { ShadowClient, Checkpoint, Restore } = await import(pathToFileURL(CLIENT).href);
  const client = await ShadowClient.connect({ workspace: ws, env, startTimeoutMs: 600_000 });
  const checkpoint = [];
  const restore = [];
  try {
    const pid = client.hello.pid;
    await client.request(Checkpoint, {}, { timeoutMs: 600_000 });
    await settle(pid);
    for (let i = 0; i < runs; i++) {
      appendFileSync(join(ws, files[(i * 7919) % files.length]), `// edit ${i}\n`);
      await settle(pid, 200);
      let t = performance.now();
      const c = await client.request(Checkpoint, {});
      checkpoint.push(performance.now() - t);
      appendFileSync(join(ws, files[(i * 7919 + 1) % files.length]), `// edit ${i}\n`);
      await settle(pid, 200);
      t = performance.now();
      await client.request(Restore, { checkpoint: c.commit }, { timeoutMs: 600_000 });
      restore.push(performance.now() - t);
      progress(`  verify ${n}: checkpoint ${checkpoint.at(-1).toFixed(0)} ms, restore with a full rescan ${restore.at(-1).toFixed(0)} ms`);
      await settle(pid);
    }
  } finally {
    client.close();
    stopDaemon(ws, env);
  }
  return { n, checkpoint: summarize(checkpoint), restore: summarize(restore) };
}

// `node scripts/benchCancel.mjs --verify-rescan 10000 [--runs N]`: the rescan's price alone.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--verify-rescan') {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const n = Number(process.argv[3] ?? 10_000);
  const runs = process.argv[4] === '--runs' ? Number(process.argv[5]) : 5;
  const tmp = mkdtempSync(join(tmpdir(), 'shverify-'));
  mkdirSync(join(tmp, 'rt'), { mode: 0o700 });
  const env = { ...process.env, SHADOW_RUNTIME_DIR: join(tmp, 'rt'), SHADOW_BACKUP_DIR: join(tmp, 'backup'), NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('GIT_') || k === 'SHADOW_RUN_ID') delete env[k];
  try {
    console.log(JSON.stringify(await scenarioVerifyRescan({ tmp, env, n, runs })));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
