#!/usr/bin/env node
/**
 * Store growth (issue #5.6): how the shadow object store grows over many checkpoints of small
 * edits, side by side with native git committing the same edits in the same run.
 *
 *   node scripts/storeGrowth.mjs [--checkpoints 1000] [--files 2000] [--mode plain|git] [--json]
 *
 * A workspace of ~2k files (plain directory: Shadow's private store `.shadow/git/objects`; or a
 * git repository: objects shared with `.git/objects`). Each step edits 1–3 small files (one line
 * replaced or appended), then Shadow takes a checkpoint (`request(Checkpoint)` on one open
 * connection) and native git commits the same state with a throwaway index and its own object
 * directory (`git add -A`, `write-tree`, `commit-tree`). Every 100 steps: bytes on disk (sum of
 * object file sizes) and loose object count of both stores, minus their size after the first
 * snapshot. Per step: the edited files' bytes (raw and deflated: the floor for loose blobs).
 * At the end, `gc` (the daemon's retention pass, as `shadowctl gc`) and its effect on the store;
 * then `git gc --prune=now` on both stores for the packed size.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { generateWorkspace } from './bench.mjs';
import { stopDaemon } from './daemonProcess.mjs';
import { mulberry32 } from './prng.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT = join(ROOT, 'dist/client/index.js');

function parseOptions(argv) {
  const o = { checkpoints: 1000, files: 2000, mode: 'plain', json: false, every: 100 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--checkpoints') o.checkpoints = Number(argv[++i]);
    else if (a === '--files') o.files = Number(argv[++i]);
    else if (a === '--mode') o.mode = argv[++i];
    else if (a === '--every') o.every = Number(argv[++i]);
    else if (a === '--json') o.json = true;
    else {
      console.error(`unknown option ${a}\nusage: node scripts/storeGrowth.mjs [--checkpoints N] [--files N] [--mode plain|git] [--every N] [--json]`);
      process.exit(2);
    }
  }
  if (!['plain', 'git'].includes(o.mode)) throw new Error(`bad --mode ${o.mode}`);
  return o;
}


/** Bytes of every file under an objects dir (loose and packs) and the loose object count. */
function storeSize(objects) {
  let bytes = 0;
  let loose = 0;
  let packBytes = 0;
  for (const name of readdirSync(objects)) {
    const dir = join(objects, name);
    if (/^[0-9a-f]{2}$/.test(name)) {
      for (const f of readdirSync(dir)) {
        bytes += statSync(join(dir, f)).size;
        loose++;
      }
    } else if (name === 'pack') {
      for (const f of readdirSync(dir)) {
        const s = statSync(join(dir, f)).size;
        bytes += s;
        packBytes += s;
      }
    }
  }
  return { bytes, loose, packBytes, duKb: Number(execFileSync('du', ['-sk', objects], { encoding: 'utf8' }).split('\t')[0]) };
}

function memory(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? NaN) / 1024);
  } catch {
    return null;
  }
}

/** Runs the measurement; returns the report. */
export async function runGrowth(opts) {
  const t0 = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'shadow-growth-'));
  const runtime = mkdtempSync('/tmp/sgr-');
  const ws = join(tmp, 'ws');
  const env = { ...process.env, SHADOW_RUNTIME_DIR: join(runtime, 'run'), SHADOW_BACKUP_DIR: join(runtime, 'backup'), HOME: join(runtime, 'home'), NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('GIT_')) delete env[k];
  delete env.SHADOW_RUN_ID;
  Object.assign(env, { GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'G', GIT_AUTHOR_EMAIL: 'g@example.com', GIT_COMMITTER_NAME: 'G', GIT_COMMITTER_EMAIL: 'g@example.com' });
  mkdirSync(env.HOME, { recursive: true });
  const { ShadowClient, Checkpoint, Gc, Shutdown, Log } = await import(CLIENT);
  let client = null;
  let pid = null;
  try {
    const files = generateWorkspace(ws, opts.files);
    // Auto snapshots at their defaults (on, 2 s quiet period): the auto chain is part of the store.
    writeFileSync(join(ws, 'shadow.config.json'), '{}\n');
    if (opts.mode === 'plain') rmSync(join(ws, '.git'), { recursive: true, force: true });
    else {
      execFileSync('git', ['add', '-A'], { cwd: ws, env });
      execFileSync('git', ['commit', '-q', '-m', 'growth workspace'], { cwd: ws, env });
    }
    // Native side: its own repository (index and object store), same working tree.
    const natGitDir = join(tmp, 'native', '.git');
    execFileSync('git', ['init', '-q', join(tmp, 'native')], { env });
    writeFileSync(join(natGitDir, 'info', 'exclude'), '/.shadow/\n/.git/\n');
    const natObjects = join(natGitDir, 'objects');
    const natEnv = { ...env, GIT_DIR: natGitDir, GIT_WORK_TREE: ws };
    const ngit = (args) => execFileSync('git', args, { cwd: ws, env: natEnv, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
    let natParent = null;
    const nativeCommit = (msg) => {
      ngit(['add', '-A']);
      const tree = ngit(['write-tree']);
      natParent = ngit(['commit-tree', tree, ...(natParent ? ['-p', natParent] : []), '-m', msg]);
      return tree;
    };

    client = await ShadowClient.connect({ workspace: ws, env, clientName: 'store-growth', startTimeoutMs: 120_000 });
    pid = client.hello.pid;
    const shadowObjects = opts.mode === 'plain' ? join(ws, '.shadow', 'git', 'objects') : join(ws, '.git', 'objects');
    const first = await client.request(Checkpoint, { message: 'growth: initial' }, { timeoutMs: 600_000 });
    const firstNative = nativeCommit('growth: initial');
    if (first.tree !== firstNative) throw new Error(`initial tree ${first.tree} != native ${firstNative}`);
    const base = { shadow: storeSize(shadowObjects), native: storeSize(natObjects) };

    const rand = mulberry32(opts.files + opts.checkpoints);
    let editedRaw = 0;
    let editedDeflated = 0;
    let changedBytes = 0;
    let edits = 0;
    let treeMismatches = 0;
    let hashedTotal = 0;
    const rows = [];
    const sample = (i) => {
      const s = storeSize(shadowObjects);
      const n = storeSize(natObjects);
      rows.push({
        checkpoints: i,
        shadowBytes: s.bytes - base.shadow.bytes,
        shadowLoose: s.loose - base.shadow.loose,
        nativeBytes: n.bytes - base.native.bytes,
        nativeLoose: n.loose - base.native.loose,
        shadowDuKb: s.duKb - base.shadow.duKb,
        nativeDuKb: n.duKb - base.native.duKb,
        editedRaw,
        editedDeflated,
        rssMb: memory(pid),
      });
    };
    const tLoop = Date.now();
    for (let i = 1; i <= opts.checkpoints; i++) {
      const k = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < k; j++) {
        const rel = files[Math.floor(rand() * files.length)];
        const full = join(ws, rel);
        const old = readFileSync(full, 'utf8');
        const line = `// edit ${i}.${j} ${Math.floor(rand() * 1e9)}\n`;
        // Half appends a line, half rewrites the first line: small edits either way.
        const next = rand() < 0.5 ? old + line : line + old.slice(old.indexOf('\n') + 1);
        writeFileSync(full, next);
        editedRaw += next.length;
        editedDeflated += deflateSync(Buffer.from(`blob ${Buffer.byteLength(next)}\0${next}`), { level: 1 }).length;
        changedBytes += line.length;
        edits++;
      }
      const c = await client.request(Checkpoint, { message: `growth ${i}` }, { timeoutMs: 600_000 });
      hashedTotal += c.hashed;
      if (c.tree !== nativeCommit(`growth ${i}`)) treeMismatches++;
      if (i % opts.every === 0 || i === opts.checkpoints) sample(i);
    }
    const loopSeconds = (Date.now() - tLoop) / 1000;
    const last = rows[rows.length - 1];
    const autoChain = (await client.request(Log, { n: 100_000, ref: 'auto' }, { timeoutMs: 600_000 })).entries.length;
    const manualChain = (await client.request(Log, { n: 100_000, ref: 'manual' }, { timeoutMs: 600_000 })).entries.length;

    const gcResult = await client.request(Gc, {}, { timeoutMs: 600_000 });
    const afterGc = storeSize(shadowObjects);
    // Packed: what `git gc` makes of each store (the shadow store is a git store: plain `git gc` works on it).
    const packed = {};
    const shadowGitDir = opts.mode === 'plain' ? join(ws, '.shadow', 'git') : join(ws, '.git');
    client.close();
    client = null;
    await stopDaemon({ ShadowClient, Shutdown }, ws, env, pid, 10_000);
    execFileSync('git', ['--git-dir', shadowGitDir, 'gc', '-q', '--prune=now'], { env });
    packed.shadow = storeSize(shadowObjects).bytes;
    ngit(['update-ref', 'refs/heads/main', natParent]);
    ngit(['gc', '-q', '--prune=now']);
    packed.native = storeSize(natObjects).bytes;

    return {
      ok: treeMismatches === 0,
      date: new Date().toISOString(),
      mode: opts.mode,
      files: opts.files,
      checkpoints: opts.checkpoints,
      edits,
      changedBytes,
      treeMismatches,
      hashedPerCheckpoint: Math.round((hashedTotal / opts.checkpoints) * 100) / 100,
      loopSeconds,
      base,
      rows,
      perCheckpoint: {
        shadowBytes: Math.round(last.shadowBytes / opts.checkpoints),
        nativeBytes: Math.round(last.nativeBytes / opts.checkpoints),
        shadowObjects: Math.round((last.shadowLoose / opts.checkpoints) * 100) / 100,
        nativeObjects: Math.round((last.nativeLoose / opts.checkpoints) * 100) / 100,
        editedRaw: Math.round(last.editedRaw / opts.checkpoints),
        editedDeflated: Math.round(last.editedDeflated / opts.checkpoints),
      },
      chains: { auto: autoChain, manual: manualChain },
      gc: { result: gcResult, shadowBytesAfter: afterGc.bytes - base.shadow.bytes, shadowDuKbAfter: afterGc.duKb - base.shadow.duKb, shadowLooseAfter: afterGc.loose - base.shadow.loose },
      packed,
      loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
      totalSeconds: Math.round((Date.now() - t0) / 1000),
    };
  } finally {
    client?.close();
    await stopDaemon({ ShadowClient, Shutdown }, ws, env, pid);
    rmSync(tmp, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  }
}


const kb = (b) => (b / 1024).toFixed(1);

function human(r) {
  const lines = [
    `store growth (${r.mode}): ${r.checkpoints} checkpoints of ${r.edits} small edits on ${r.files} files; tree parity with git: ${r.treeMismatches === 0 ? 'every checkpoint' : `${r.treeMismatches} MISMATCHES`}; ${r.hashedPerCheckpoint} files hashed per checkpoint; ${r.loopSeconds.toFixed(1)} s`,
    '| checkpoints | Shadow KB (du KB) | Shadow loose objects | git KB (du KB) | git loose objects | edited files, raw KB | edited files, deflated KB | Shadow / git bytes | daemon RSS MB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map((x) => `| ${x.checkpoints} | ${kb(x.shadowBytes)} (${x.shadowDuKb}) | ${x.shadowLoose} | ${kb(x.nativeBytes)} (${x.nativeDuKb}) | ${x.nativeLoose} | ${kb(x.editedRaw)} | ${kb(x.editedDeflated)} | ${(x.shadowBytes / x.nativeBytes).toFixed(2)} | ${x.rssMb} |`),
    '',
    `Per checkpoint: Shadow +${r.perCheckpoint.shadowBytes} B in ${r.perCheckpoint.shadowObjects} objects; git +${r.perCheckpoint.nativeBytes} B in ${r.perCheckpoint.nativeObjects} objects; edited files ${r.perCheckpoint.editedRaw} B raw, ${r.perCheckpoint.editedDeflated} B deflated (${(r.changedBytes / r.checkpoints).toFixed(0)} B of changed lines).`,
    `Chains: manual ${r.chains.manual} commits, auto ${r.chains.auto}. gc: ${JSON.stringify(r.gc.result)}; store after gc +${kb(r.gc.shadowBytesAfter)} KB (+${r.gc.shadowDuKbAfter} du KB), ${r.gc.shadowLooseAfter} loose.`,
    `Packed with git gc --prune=now: Shadow store ${kb(r.packed.shadow)} KB total, native ${kb(r.packed.native)} KB total.`,
    `loadavg ${r.loadavg.join(' ')}; ${r.totalSeconds} s in all`,
  ];
  return lines.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const opts = parseOptions(process.argv.slice(2));
  const report = await runGrowth(opts);
  process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : human(report));
  process.exit(report.ok ? 0 : 1);
}
