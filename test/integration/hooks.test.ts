/**
 * `shadowctl hooks install|uninstall` end to end with native git (S8): hooks that checkpoint,
 * chain the hook that was there (arguments, stdin and exit status), honour core.hooksPath and
 * worktrees, install idempotently, uninstall byte for byte, and never hold git up without a daemon.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { HOOK_MARKER, SHADOW_HOOKS } from '../../client/cli/hookScript.js';
import { startStandInDaemon } from '../helpers/standInDaemon.js';
import { makeTempDir } from '../helpers/tempDir.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
const extra: (() => void)[] = [];
afterEach(async () => {
  await ws?.cleanup();
  for (const f of extra.splice(0)) f();
});

/** A hook that records its arguments and stdin in `out` (workspace-relative) and exits `code`. */
function recordingHook(out: string, code: number): string {
  return `#!/bin/sh\nprintf '%s\\n' "args:$*" >> "${out}"\ncat >> "${out}"\nexit ${code}\n`;
}

/** Bytes, mode and (for symlinks) target of every file in `dir`, by name. */
function snapshotDir(dir: string): Record<string, { mode: number; bytes: string }> {
  const out: Record<string, { mode: number; bytes: string }> = {};
  for (const name of readdirSync(dir)) {
    const st = lstatSync(join(dir, name));
    out[name] = { mode: st.mode, bytes: st.isSymbolicLink() ? `-> ${readlinkSync(join(dir, name))}` : readFileSync(join(dir, name), 'latin1') };
  }
  return out;
}

/** Runs git and returns its exit status instead of throwing. */
function gitStatus(args: string[]): number {
  try {
    gitIn(ws, args);
    return 0;
  } catch (err) {
    return (err as { status: number }).status;
  }
}

/** Subjects of the workspace's manual checkpoints (where hooks put theirs; auto snapshots may interleave elsewhere), newest first. */
async function subjects(): Promise<string[]> {
  const log = await ws.json<{ entries: { subject: string }[] }>(['log', '-n', '200', '--ref', 'manual']);
  return log.entries.map((e) => e.subject);
}

describe('shadowctl hooks (S8)', () => {
  it('S8: install adds executable, marked hooks; installing twice changes nothing byte for byte', async () => {
    ws = makeTestWorkspace({ git: true });
    const hooksDir = join(ws.dir, '.git', 'hooks');
    const first = await ws.json<{ hooksDir: string; installed: string[]; chained: string[]; skipped: unknown[] }>(['hooks', 'install']);
    expect(first).toMatchObject({ hooksDir, installed: [...SHADOW_HOOKS], chained: [], skipped: [] });
    for (const hook of SHADOW_HOOKS) {
      const st = lstatSync(join(hooksDir, hook));
      expect(st.mode & 0o111).toBe(0o111);
      expect(readFileSync(join(hooksDir, hook), 'utf8').split('\n')[1]).toBe(HOOK_MARKER);
    }
    const before = snapshotDir(hooksDir);
    const second = await ws.json(['hooks', 'install']);
    expect(second).toMatchObject({ installed: [], unchanged: [...SHADOW_HOOKS] });
    expect(snapshotDir(hooksDir)).toEqual(before);
  });

  it('S8: a pre-existing pre-commit still runs with its arguments and stdin, and still blocks the commit', async () => {
    ws = makeTestWorkspace({ git: true });
    const hooksDir = join(ws.dir, '.git', 'hooks');
    writeIn(ws, '.git/hooks/pre-commit', recordingHook(join(ws.dir, 'pre-commit.out'), 1), 0o755);
    const r = await ws.json<{ chained: string[] }>(['hooks', 'install']);
    expect(r.chained).toEqual(['pre-commit']);
    expect(readFileSync(join(hooksDir, 'pre-commit.shadow-orig'), 'utf8')).toContain('pre-commit.out');

    const head = gitIn(ws, ['rev-parse', 'HEAD']);
    expect(gitStatus(['commit', '-q', '--allow-empty', '-m', 'blocked'])).not.toBe(0);
    expect(gitIn(ws, ['rev-parse', 'HEAD'])).toBe(head);
    expect(readFileSync(join(ws.dir, 'pre-commit.out'), 'utf8')).toBe('args:\n');

    // git gives these hooks no stdin, so call ours directly to prove arguments and stdin pass through.
    let status = 0;
    try {
      execFileSync(join(hooksDir, 'pre-commit'), ['one', 'two words'], { cwd: ws.dir, env: { ...process.env, ...ws.env }, input: 'from stdin\n' });
    } catch (err) {
      status = (err as { status: number }).status;
    }
    expect(status).toBe(1);
    expect(readFileSync(join(ws.dir, 'pre-commit.out'), 'utf8')).toBe('args:\nargs:one two words\nfrom stdin\n');
  });

  it('S8: a chained post-checkout receives its three arguments', async () => {
    ws = makeTestWorkspace({ git: true });
    writeIn(ws, '.git/hooks/post-checkout', recordingHook(join(ws.dir, 'post-checkout.out'), 0), 0o755);
    await ws.json(['hooks', 'install']);
    const head = gitIn(ws, ['rev-parse', 'HEAD']);
    gitIn(ws, ['checkout', '-q', '-b', 'x']);
    expect(readFileSync(join(ws.dir, 'post-checkout.out'), 'utf8')).toBe(`args:${head} ${head} 1\n`);
  });

  it('S8: uninstall removes only our hooks and restores the originals byte for byte, mode and symlinks too', async () => {
    ws = makeTestWorkspace({ git: true });
    const hooksDir = join(ws.dir, '.git', 'hooks');
    writeIn(ws, '.git/hooks/pre-commit', '#!/bin/sh\n# odd bytes: \u00e9\t\r\nexit 0', 0o750);
    writeIn(ws, '.git/hooks/pre-rebase', '#!/bin/sh\nexit 0\n', 0o644); // not executable: git ignores it, so must we
    writeIn(ws, 'scripts/merge-hook', '#!/bin/sh\nexit 0\n', 0o755);
    symlinkSync('../../scripts/merge-hook', join(hooksDir, 'post-merge'));
    writeIn(ws, '.git/hooks/pre-push', '#!/bin/sh\nexit 0\n', 0o755); // not one of ours: untouched throughout
    const before = snapshotDir(hooksDir);

    const installed = await ws.json<{ chained: string[] }>(['hooks', 'install']);
    expect(installed.chained.sort()).toEqual(['post-merge', 'pre-commit', 'pre-rebase']);
    expect(lstatSync(join(hooksDir, 'post-merge.shadow-orig')).isSymbolicLink()).toBe(true);
    expect(gitStatus(['commit', '-q', '--allow-empty', '-m', 'passes'])).toBe(0);

    const removed = await ws.json<{ removed: string[]; restored: string[] }>(['hooks', 'uninstall']);
    expect(removed.removed).toEqual([...SHADOW_HOOKS]);
    expect(removed.restored.sort()).toEqual(['post-merge', 'pre-commit', 'pre-rebase']);
    expect(snapshotDir(hooksDir)).toEqual(before);
    // Uninstalling again finds nothing of ours and changes nothing.
    expect(await ws.json(['hooks', 'uninstall'])).toMatchObject({ removed: [], restored: [] });
    expect(snapshotDir(hooksDir)).toEqual(before);
  });

  it('S8: a foreign hook put over ours is never overwritten or deleted', async () => {
    ws = makeTestWorkspace({ git: true });
    const hooksDir = join(ws.dir, '.git', 'hooks');
    writeIn(ws, '.git/hooks/pre-commit', '#!/bin/sh\nexit 0\n', 0o755);
    await ws.json(['hooks', 'install']);
    writeIn(ws, '.git/hooks/pre-commit', '#!/bin/sh\necho newer\n', 0o755);
    const before = snapshotDir(hooksDir);
    const again = await ws.cli(['hooks', 'install', '--json']);
    expect(again.code).toBe(1);
    expect(again.json().skipped.map((s: { hook: string }) => s.hook)).toEqual(['pre-commit']);
    const un = await ws.json<{ skipped: { hook: string }[] }>(['hooks', 'uninstall']);
    expect(un.skipped.map((s) => s.hook)).toEqual(['pre-commit']);
    expect(readFileSync(join(hooksDir, 'pre-commit'), 'utf8')).toBe(before['pre-commit']!.bytes);
    expect(readFileSync(join(hooksDir, 'pre-commit.shadow-orig'), 'utf8')).toBe('#!/bin/sh\nexit 0\n');
  });

  it('S8: core.hooksPath is honoured, relative to the work tree top, and its hooks run under git', async () => {
    ws = makeTestWorkspace({ git: true });
    gitIn(ws, ['config', 'core.hooksPath', 'githooks']);
    writeIn(ws, 'githooks/pre-commit', recordingHook(join(ws.dir, 'hp.out'), 0), 0o755);
    const r = await ws.cli(['hooks', 'install', '--json'], { cwd: join(ws.dir, 'githooks') });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ hooksDir: join(ws.dir, 'githooks'), chained: ['pre-commit'] });
    expect(existsSync(join(ws.dir, '.git/hooks/pre-commit'))).toBe(false);
    expect(gitStatus(['commit', '-q', '--allow-empty', '-m', 'via hooksPath'])).toBe(0);
    expect(readFileSync(join(ws.dir, 'hp.out'), 'utf8')).toBe('args:\n');
  });

  it('S8: in a linked worktree, hooks go to the common git dir', async () => {
    ws = makeTestWorkspace({ git: true });
    const { dir: parent, cleanup } = makeTempDir('shadow-wt-');
    extra.push(cleanup);
    const wt = join(parent, 'wt');
    gitIn(ws, ['worktree', 'add', '-q', '-b', 'wt', wt]);
    const r = await ws.cli(['-C', wt, 'hooks', 'install', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().hooksDir).toBe(join(ws.dir, '.git', 'hooks'));
  });

  it('S8: a non-git workspace is refused with a clear error', async () => {
    ws = makeTestWorkspace();
    const r = await ws.cli(['hooks', 'install', '--json']);
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe('WORKSPACE_INVALID');
    expect((await ws.cli(['hooks', 'frobnicate'])).code).toBe(2);
  });

  it('S8: with a daemon running, checkout, commit, merge and rebase take checkpoints', async () => {
    ws = makeTestWorkspace({ git: true });
    await ws.json(['daemon', 'start']);
    await ws.json(['hooks', 'install']);
    gitIn(ws, ['checkout', '-q', '-b', 'x']);
    expect((await subjects())[0]).toBe('after git checkout');
    writeIn(ws, 'a.txt', 'a\n');
    gitIn(ws, ['add', 'a.txt']);
    gitIn(ws, ['commit', '-q', '-m', 'a']);
    expect(await subjects()).toContain('before git commit');
    gitIn(ws, ['checkout', '-q', 'main']);
    gitIn(ws, ['merge', '-q', '--ff-only', 'x']);
    expect((await subjects())[0]).toBe('after git merge');
    gitIn(ws, ['checkout', '-q', '-b', 'y', 'HEAD~1']);
    writeIn(ws, 'b.txt', 'b\n');
    gitIn(ws, ['add', 'b.txt']);
    gitIn(ws, ['commit', '-q', '-m', 'b']);
    gitIn(ws, ['rebase', '-q', 'main']);
    expect(await subjects()).toContain('before git rebase');
  });

  it('S8: with no daemon, git commit proceeds at once and no daemon is started', async () => {
    ws = makeTestWorkspace({ git: true });
    await ws.json(['hooks', 'install']);
    const started = Date.now();
    expect(gitStatus(['commit', '-q', '--allow-empty', '-m', 'no daemon'])).toBe(0);
    // Node's start-up plus one failed connect; far below the hook's 10 s bound.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(gitIn(ws, ['log', '-1', '--format=%s'])).toBe('no daemon');
    const status = await ws.cli(['daemon', 'status'], {});
    expect(status.code).toBe(3);
  });

  it('S8: a daemon that never answers holds git up no longer than SHADOW_HOOK_TIMEOUT', async () => {
    ws = makeTestWorkspace({ git: true });
    await ws.json(['hooks', 'install']);
    mkdirSync(ws.env.SHADOW_RUNTIME_DIR!, { recursive: true, mode: 0o700 });
    const stuck = await startStandInDaemon(ws.env.SHADOW_RUNTIME_DIR!, ws.dir, { checkpoint: () => new Promise(() => {}) });
    // Closed here, not in afterEach: ws.cleanup() would take the stand-in's made-up pid for a daemon's.
    try {
      const started = Date.now();
      // Async: the stand-in lives in this process, so git must not block its event loop.
      await promisify(execFile)('git', ['commit', '-q', '--allow-empty', '-m', 'stuck'], { cwd: ws.dir, env: { ...process.env, ...ws.env, SHADOW_HOOK_TIMEOUT: '1' } });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(stuck.paramsOf('checkpoint')).toEqual([expect.objectContaining({ message: 'before git commit' })]);
      expect(gitIn(ws, ['log', '-1', '--format=%s'])).toBe('stuck');
    } finally {
      await stuck.close();
    }
  });
});
