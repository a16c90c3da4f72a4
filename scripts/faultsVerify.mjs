/**
 * What must hold after every SIGKILL of the fault-injection harness (issue #5, S1.6, S2.5): the
 * store passes `git fsck --full --strict`, every refs/shadow/* ref and every checkpoint recorded
 * before the kill is there with all its objects and still reachable from a shadow ref, and the
 * working tree is one of the states the operation allows (native git computes it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs native git in `cwd`; returns { code, stdout, stderr } instead of throwing. */
export function gitRun(cwd, env, args, input) {
  try {
    const stdout = execFileSync('git', args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
    return { code: 0, stdout: stdout.trim(), stderr: '' };
  } catch (err) {
    return { code: err.status ?? 1, stdout: String(err.stdout ?? '').trim(), stderr: String(err.stderr ?? err.message).trim() };
  }
}

/**
 * Native git's tree of the working directory (`git add -A && git write-tree`) with a throwaway
 * index and object directory: objects git writes into the repository would hide the ones a
 * checkpoint failed to write, and would spare the daemon writing them (no fault point reached).
 */
export function nativeTree(dir, env) {
  const scratch = mkdtempSync(join(tmpdir(), 'shadow-faults-idx-'));
  try {
    const objects = join(scratch, 'objects');
    mkdirSync(objects);
    const e = { ...env, GIT_INDEX_FILE: join(scratch, 'index'), GIT_OBJECT_DIRECTORY: objects, GIT_ALTERNATE_OBJECT_DIRECTORIES: join(dir, '.git', 'objects') };
    const add = gitRun(dir, e, ['add', '-A']);
    if (add.code) throw new Error(`git add -A failed: ${add.stderr}`);
    const w = gitRun(dir, e, ['write-tree']);
    if (w.code) throw new Error(`git write-tree failed: ${w.stderr}`);
    return w.stdout;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The tree of a commit, or null if it cannot be read. */
export function treeOf(dir, env, commit) {
  const r = gitRun(dir, env, ['rev-parse', '--verify', '-q', `${commit}^{tree}`]);
  return r.code ? null : r.stdout;
}

/**
 * The tree of commit `commit` with the working directory's `paths` laid over it (what a replay
 * must leave: the target, and every file the user wrote after the crash as it is on disk).
 * Throwaway index and object directory, like nativeTree.
 */
export function treeWithFiles(dir, env, commit, paths) {
  const scratch = mkdtempSync(join(tmpdir(), 'shadow-faults-idx-'));
  try {
    const objects = join(scratch, 'objects');
    mkdirSync(objects);
    const e = { ...env, GIT_INDEX_FILE: join(scratch, 'index'), GIT_OBJECT_DIRECTORY: objects, GIT_ALTERNATE_OBJECT_DIRECTORIES: join(dir, '.git', 'objects') };
    for (const args of [['read-tree', commit], ['update-index', '--add', '--', ...paths]]) {
      const r = gitRun(dir, e, args);
      if (r.code) throw new Error(`git ${args[0]} failed: ${r.stderr}`);
    }
    const w = gitRun(dir, e, ['write-tree']);
    if (w.code) throw new Error(`git write-tree failed: ${w.stderr}`);
    return w.stdout;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `*.lock` files under refs/shadow/ and packed-refs.lock: what a kill mid-update may leave. */
export function leftLocks(gitDir) {
  const out = [];
  const walk = (rel) => {
    let names;
    try {
      names = readdirSync(join(gitDir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      if (d.isDirectory()) walk(`${rel}/${d.name}`);
      else if (d.name.endsWith('.lock')) out.push(`${rel}/${d.name}`);
    }
  };
  walk('refs/shadow');
  if (existsSync(join(gitDir, 'packed-refs.lock'))) out.push('packed-refs.lock');
  return out;
}

/**
 * Checks the store after a kill. `recorded`: commits the harness saw taken before the kill.
 * Returns a list of problems (empty when all is well).
 */
export function verifyStore(dir, env, recorded) {
  const problems = [];
  const fsck = gitRun(dir, env, ['fsck', '--full', '--strict', '--no-progress']);
  const bad = `${fsck.stdout}\n${fsck.stderr}`.split('\n').filter((l) => /^(error|missing|broken|bad|warning|fatal)/i.test(l));
  if (fsck.code || bad.length) problems.push(`git fsck --full --strict exited ${fsck.code}: ${bad.slice(0, 5).join(' | ') || fsck.stderr.slice(0, 300)}`);

  const refs = gitRun(dir, env, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/shadow/']);
  if (refs.code) problems.push(`git for-each-ref refs/shadow/ failed: ${refs.stderr}`);
  const refOids = refs.stdout ? refs.stdout.split('\n').map((l) => l.split(' ')[0]) : [];
  // Every object of every recorded checkpoint and every shadow ref, down to the blobs.
  const tips = [...new Set([...refOids, ...recorded])];
  if (tips.length) {
    const objs = gitRun(dir, env, ['rev-list', '--objects', '--stdin'], tips.join('\n') + '\n');
    if (objs.code) problems.push(`git rev-list --objects over ${tips.length} recorded commits and refs failed: ${objs.stderr.slice(0, 300)}`);
    else {
      const check = gitRun(dir, env, ['cat-file', '--batch-check'], objs.stdout.split('\n').map((l) => l.split(' ')[0]).join('\n') + '\n');
      const missing = check.stdout.split('\n').filter((l) => l.endsWith(' missing'));
      if (check.code || missing.length) problems.push(`objects missing: ${missing.slice(0, 5).join(' | ')}`);
    }
  }
  // Recorded checkpoints must stay reachable from a shadow ref: unreachable ones die at the next gc.
  if (recorded.length) {
    const reach = gitRun(dir, env, ['rev-list', '--glob=refs/shadow/*']);
    const reachable = new Set(reach.stdout.split('\n'));
    const lost = recorded.filter((c) => !reachable.has(c));
    if (lost.length) problems.push(`${lost.length} recorded checkpoint(s) no longer reachable from refs/shadow/*: ${lost.slice(0, 3).join(', ')}`);
  }
  return problems;
}

/** The `.shadow-tmp-*` files of interrupted restore writes left in the working tree. */
export function restoreTempFiles(dir) {
  const out = [];
  const walk = (rel) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (d.name === '.git') continue;
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(child);
      else if (d.name.startsWith('.shadow-tmp-')) out.push(child);
    }
  };
  walk('');
  return out;
}
