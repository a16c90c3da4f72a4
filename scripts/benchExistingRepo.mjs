/**
 * The issue #10 cold-start scenario of `npm run bench`: the first checkpoint in an existing
 * repository whose index is current, page cache warm, beside git doing the same from a copy of
 * that index (`GIT_INDEX_FILE=<copy> git add -A && git write-tree`, the repository's own object
 * store: git finds every stat clean and hashes nothing). Target: Shadow ≤ 2× git.
 *
 * The repository is the generated tree committed once and repacked (as a clone's objects are
 * packed), its index written well after the files (no racy entry). Each Shadow run starts with no
 * daemon, no state folder and no shadow ref (`shadowctl checkpoint` includes the daemon's start,
 * as the cold scenario does); the packs Shadow wrote are removed after it. Both sides alternate
 * going first; each Shadow tree is checked equal to git's.
 */
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mayRun, progress, shadowctl, stopDaemon, summarize, timed } from './bench.mjs';

/** Removes everything a Shadow run left: state folder, shadow refs, the packs it listed. */
function forgetShadow(ws, env) {
  const state = join(ws, '.git/shadow');
  const listed = join(state, 'packs.txt');
  if (existsSync(listed)) {
    for (const line of readFileSync(listed, 'utf8').split('\n')) {
      const name = line.trim().split(/\s+/)[0];
      if (!/^pack-[0-9a-f]{40}$/.test(name ?? '')) continue;
      for (const ext of ['pack', 'idx', 'rev']) rmSync(join(ws, '.git/objects/pack', `${name}.${ext}`), { force: true });
    }
  }
  rmSync(state, { recursive: true, force: true });
  const refs = timed('git', ['for-each-ref', '--format=%(refname)', 'refs/shadow/'], { cwd: ws, env }).stdout.split('\n').filter(Boolean);
  for (const ref of refs) timed('git', ['update-ref', '-d', ref], { cwd: ws, env });
}

/**
 * Runs the scenario on the generated workspace `ws` (committed and repacked here; left so).
 * Returns medians of Shadow (`shadowctl checkpoint`, daemon start included) and git, and the
 * files Shadow hashed in its first scan (0 but the untracked ones when the index is reused).
 */
export function scenarioExistingRepo({ ws, env, tmp, runs }) {
  const git = (args, e = env) => timed('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...args], { cwd: ws, env: e });
  git(['add', '-A']);
  // Real repositories commit a few files their own ignore rules match (S1.1: still captured).
  git(['add', '-f', 'build/out.js', 'debug.log']);
  git(['commit', '-q', '--no-verify', '-m', 'existing']);
  git(['repack', '-adq']);
  // The index rewritten now, well after every file's mtime: no entry is racy (git's own rule).
  git(['update-index', '--refresh', '-q']);
  const copy = join(tmp, 'existing.index');
  const shadow = [];
  const native = [];
  const hashed = [];
  for (let i = 0; mayRun(i, runs); i++) {
    let sTree;
    let nTree;
    for (const side of i % 2 === 0 ? ['shadow', 'native'] : ['native', 'shadow']) {
      if (side === 'shadow') {
        forgetShadow(ws, env);
        const r = shadowctl(ws, env, ['checkpoint', '--json']);
        shadow.push(r.ms);
        const out = JSON.parse(r.stdout);
        sTree = out.tree;
        stopDaemon(ws, env); // flushes its log
        hashed.push(firstScanHashed(ws));
      } else {
        copyFileSync(join(ws, '.git/index'), copy);
        const genv = { ...env, GIT_INDEX_FILE: copy };
        const a = timed('git', ['add', '-A'], { cwd: ws, env: genv });
        const w = timed('git', ['write-tree'], { cwd: ws, env: genv });
        native.push(a.ms + w.ms);
        nTree = w.stdout.trim();
      }
    }
    if (sTree !== nTree) throw new Error(`existing repository: tree parity broken (shadow ${sTree}, git ${nTree})`);
    progress(`  existing repo ${i + 1}/${runs}: shadow ${shadow.at(-1).toFixed(0)} ms (hashed ${hashed.at(-1)}), git ${native.at(-1).toFixed(0)} ms`);
  }
  forgetShadow(ws, env);
  rmSync(copy, { force: true });
  return { shadow: summarize(shadow), native: summarize(native), hashed: hashed.length ? Math.max(...hashed.filter((h) => h !== null)) : null };
}

/** Files hashed by the daemon's first scan, from its log line (null when not found). */
function firstScanHashed(ws) {
  try {
    for (const line of readFileSync(join(ws, '.git/shadow/logs/daemon.log'), 'utf8').split('\n')) {
      if (line.includes('"first scan done"')) return JSON.parse(line).hashed;
    }
  } catch {
    // no log: reported as unknown
  }
  return null;
}
