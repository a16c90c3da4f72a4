/**
 * The safety net survives the work tree (issue #10.8): Shadow's objects and refs are kept in a
 * backup store outside the workspace ($XDG_DATA_HOME/shadow/<name>-<id>.git), so a job that
 * deletes `.git` (or `.shadow/`, or the whole project) can still be cancelled, undone and
 * recovered. Real daemon, real files, native git as the oracle.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, nativeTree } from '../helpers/gitOracle.js';
import { runCli } from '../helpers/shadowctl.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, readIn, writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
const scratch: string[] = [];
afterEach(async () => {
  await ws?.cleanup();
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The one backup store of the test's environment. */
function backupStore(): string {
  const root = join(ws.env.XDG_DATA_HOME as string, 'shadow');
  const stores = readdirSync(root).filter((n) => n.endsWith('.git'));
  expect(stores).toHaveLength(1);
  return join(root, stores[0] as string);
}

/** Runs a shell command in the workspace, as a job would. */
function job(script: string): void {
  execFileSync('sh', ['-c', script], { cwd: ws.dir, env: { ...process.env, ...ws.env } });
}

/** A repository with committed files, an ignore file and uncommitted user work before the run. */
function setupRepo(): void {
  ws = makeTestWorkspace({ git: true });
  writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
  writeIn(ws, '.gitignore', '*.log\n');
  writeIn(ws, 'src/main.ts', 'committed\n');
  writeIn(ws, 'bin/tool.sh', '#!/bin/sh\necho tool\n', 0o755);
  gitIn(ws, ['add', '-A']);
  gitIn(ws, ['commit', '-q', '-m', 'project']);
  writeIn(ws, 'src/main.ts', 'user edit before the run\n');
  writeIn(ws, 'notes.txt', 'never committed\n');
}

describe('the safety net survives the work tree (#10.8)', () => {
  it('#10.8 a job running `rm -rf .git && git init` is still cancellable to the base, undoable, and the backup fscks clean (S5.3, S5.4)', async () => {
    setupRepo();
    const start = await ws.json<{ run: string; base: string }>(['start', '--name', 'job']);
    const baseTree = gitIn(ws, ['rev-parse', `${start.base}^{tree}`]);
    expect(nativeTree(ws.dir, { repo: true, env: ws.env })).toBe(baseTree);

    writeIn(ws, 'src/main.ts', 'edited by the job\n');
    writeIn(ws, 'gen/out.ts', 'generated\n');
    job('rm -rf .git && git init -q');
    const during = nativeTree(ws.dir, { repo: true, env: ws.env });

    const r = await ws.json(['cancel']);
    expect(r).toMatchObject({ run: start.run, status: 'cancelled', action: 'remove_all', restoredTo: start.base });
    expect(nativeTree(ws.dir, { repo: true, env: ws.env })).toBe(baseTree);
    expect(readIn(ws, 'src/main.ts')).toBe('user edit before the run\n');
    expect(existsSync(join(ws.dir, 'gen'))).toBe(false);
    // No run is left `cancelling`: the record says cancelled.
    const status = await ws.json<{ run: unknown }>(['status']);
    expect(status.run).toBeNull();

    // The pre-abort commit is in the store put back (and mirrored): undo brings the job's tree back.
    await ws.json(['undo']);
    expect(nativeTree(ws.dir, { repo: true, env: ws.env })).toBe(during);
    expect(readIn(ws, 'src/main.ts')).toBe('edited by the job\n');

    const store = backupStore();
    execFileSync('git', ['--git-dir', store, 'fsck', '--strict', '--no-dangling'], { env: { ...process.env, ...ws.env }, stdio: 'pipe' });
    const mirrored = git(ws.dir, ['--git-dir', store, 'for-each-ref', '--format=%(refname)']).split('\n');
    expect(mirrored).toContain(`refs/shadow/runs/${start.run}`);
    expect(mirrored).toContain('refs/shadow/undo');
    expect(git(ws.dir, ['--git-dir', store, 'rev-parse', `refs/shadow/runs/${start.run}^{tree}`])).toBe(baseTree);
  });

  it('#10.8 a job emptying the whole project (`.git` included, no `git init`) is cancellable to the base; `.git` comes back as an empty repository (S5.3)', async () => {
    setupRepo();
    const start = await ws.json<{ run: string; base: string }>(['start', '--name', 'job']);
    const baseTree = gitIn(ws, ['rev-parse', `${start.base}^{tree}`]);
    job('find . -mindepth 1 -delete');
    expect(readdirSync(ws.dir)).toEqual([]);

    const r = await ws.json(['cancel']);
    expect(r).toMatchObject({ run: start.run, status: 'cancelled', restoredTo: start.base });
    expect(nativeTree(ws.dir, { repo: true, env: ws.env })).toBe(baseTree);
    expect((statSync(join(ws.dir, 'bin/tool.sh')).mode & 0o111) !== 0).toBe(true);
    // Shadow's checkpoints are back in a repository git recognises; the user's commits are not (README).
    expect(gitIn(ws, ['rev-parse', `refs/shadow/runs/${start.run}^{tree}`])).toBe(baseTree);
    expect(() => gitIn(ws, ['rev-parse', '--verify', '-q', 'HEAD'])).toThrow();
  });

  it('#10.8 a project deleted entirely is recovered into a new directory by `shadowctl recover` (no daemon needed)', async () => {
    setupRepo();
    const cp = await ws.json<{ commit: string; tree: string }>(['checkpoint', '-m', 'before the disaster']);
    expect(cp.tree).toBe(nativeTree(ws.dir, { repo: true, env: ws.env }));
    await ws.cli(['daemon', 'stop']);
    const workspace = ws.dir;
    rmSync(workspace, { recursive: true, force: true });

    const elsewhere = mkdtempSync(join(tmpdir(), 'shadow-recover-'));
    scratch.push(elsewhere);
    const list = await runCli(['recover', '--json'], { cwd: elsewhere, env: ws.env });
    expect(list.code).toBe(0);
    expect(list.json()).toMatchObject({ backups: [{ workspace, workspaceExists: false, newest: { commit: cp.commit } }] });

    const into = join(elsewhere, 'restored');
    const r = await runCli(['recover', '--from', workspace, '--into', into, '--json'], { cwd: elsewhere, env: ws.env });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ workspace, checkpoint: { commit: cp.commit, tree: cp.tree }, into });
    expect(nativeTree(into, { repo: false, env: ws.env })).toBe(cp.tree);
    expect(readFileSync(join(into, 'notes.txt'), 'utf8')).toBe('never committed\n');

    // Nothing is ever overwritten: a non-empty target is refused with a code.
    const again = await runCli(['recover', '--from', workspace, '--into', into, '--json'], { cwd: elsewhere, env: ws.env });
    expect(again.code).toBe(2);
    expect(again.json()).toMatchObject({ error: { code: 'RECOVER_TARGET_INVALID' } });
    const none = await runCli(['recover', '--from', join(elsewhere, 'nothing-here'), '--log', '--json'], { cwd: elsewhere, env: ws.env });
    expect(none.json()).toMatchObject({ error: { code: 'BACKUP_NOT_FOUND' } });
  });

  it('#10.8 a plain directory whose .shadow/ a job deleted is still cancellable to the base (S5.3)', async () => {
    ws = makeTestWorkspace();
    writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    writeIn(ws, 'a.txt', 'a\n');
    writeIn(ws, 'dir/b.txt', 'b\n');
    const start = await ws.json<{ run: string; base: string }>(['start', '--name', 'job']);
    const baseTree = git(ws.dir, ['--git-dir', join(ws.dir, '.shadow', 'git'), 'rev-parse', `${start.base}^{tree}`]);
    expect(nativeTree(ws.dir, { repo: false, env: ws.env })).toBe(baseTree);

    writeIn(ws, 'a.txt', 'changed by the job\n');
    writeIn(ws, 'new.txt', 'new\n');
    job('rm -rf .shadow dir');

    const r = await ws.json(['cancel']);
    expect(r).toMatchObject({ run: start.run, status: 'cancelled', restoredTo: start.base });
    expect(nativeTree(ws.dir, { repo: false, env: ws.env })).toBe(baseTree);
    expect(readIn(ws, 'dir/b.txt')).toBe('b\n');
    await ws.json(['undo']);
    expect(readIn(ws, 'a.txt')).toBe('changed by the job\n');
    expect(existsSync(join(ws.dir, 'dir'))).toBe(false);
  });

  it('#10.8 a daemon started after `.git` was deleted puts Shadow\'s checkpoints back from the backup', async () => {
    setupRepo();
    const cp = await ws.json<{ commit: string }>(['checkpoint', '-m', 'kept']);
    await ws.cli(['daemon', 'stop']);
    job('rm -rf .git && git init -q');
    const log = await ws.json<{ entries: { commit: string }[] }>(['log']);
    expect(log.entries.map((e) => e.commit)).toContain(cp.commit);
    expect(gitIn(ws, ['cat-file', '-t', cp.commit])).toBe('commit');
  });

  it('#10.8 retention prunes the backup store with the primary: pruned runs\' refs and the objects only they reached go (S1.7)', async () => {
    ws = makeTestWorkspace({ git: true });
    writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false }, retention: { keepRuns: 1, keepDays: 0, maxAutoSnapshots: 200 } }));
    const blobA = execFileSync('git', ['hash-object', '--stdin'], { input: 'content unique to run a\n', encoding: 'utf8' }).trim();
    const has = (store: string, oid: string): boolean => {
      try {
        execFileSync('git', ['--git-dir', store, 'cat-file', '-e', oid], { stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    };
    const runs: string[] = [];
    for (const tag of ['a', 'b', 'c']) {
      runs.push((await ws.json<{ run: string }>(['start', '--name', tag])).run);
      writeIn(ws, `only-${tag}.txt`, `content unique to run ${tag}\n`);
      await ws.json(['finish']);
      rmSync(join(ws.dir, `only-${tag}.txt`));
      // Mirrored as soon as the run's checkpoint is written.
      if (tag === 'a') expect(has(backupStore(), blobA)).toBe(true);
    }
    const store = backupStore();
    // The daemon's start-up gc may have pruned run a already: either way it is gone after this one.
    await ws.json(['gc']);
    expect(gitIn(ws, ['for-each-ref', '--format=%(refname)', 'refs/shadow/runs/'])).not.toContain(runs[0] as string);
    const refs = git(ws.dir, ['--git-dir', store, 'for-each-ref', '--format=%(refname)']);
    expect(refs).not.toContain(runs[0] as string);
    expect(refs).toContain(runs[2] as string);
    expect(has(store, blobA)).toBe(false);
    execFileSync('git', ['--git-dir', store, 'fsck', '--strict', '--no-dangling'], { stdio: 'pipe' });
  });
});
