/**
 * Item 10 of issue #10: paths longer than the OS takes in one system call (PATH_MAX, S1.1a). One
 * such path failed every checkpoint and cancel with a raw ENAMETOOLONG and degraded the watcher
 * for the daemon's life; git warns and goes on. Deep trees are built with relative steps (`cd`
 * in a shell): an absolute path over PATH_MAX fails in every system call.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
afterEach(async () => {
  // rm(1) walks with openat: Node's recursive rm cannot take a tree deeper than PATH_MAX.
  if (ws) execFileSync('rm', ['-rf', NAME], { cwd: ws.dir });
  await ws?.cleanup();
});

const NAME = 'd'.repeat(200);
const LEVELS = 25; // 25 × 201 bytes: over Linux's 4096 whatever the workspace's own path

/** Runs a bash script in the workspace (for `cd` steps no absolute path could take). */
function sh(script: string): string {
  return execFileSync('bash', ['-c', script], { cwd: ws.dir, encoding: 'utf8' });
}

/** Creates `NAME/NAME/…/deep.txt`, LEVELS deep, with `content`. */
function makeDeepFile(content: string): void {
  sh(`for i in $(seq ${LEVELS}); do mkdir -p ${NAME} && cd ${NAME} || exit 1; done; printf '${content}' > deep.txt`);
}

/** The content of the deep file, read with relative steps ('' when it is gone). */
function readDeepFile(): string {
  return sh(`for i in $(seq ${LEVELS}); do cd ${NAME} 2>/dev/null || exit 0; done; cat deep.txt 2>/dev/null || true`);
}

describe('paths over PATH_MAX (#10.10, S1.1a)', () => {
  it('#10.10 a path over PATH_MAX is uncaptured with a reason: checkpoints, cancel and the watcher go on (S1.1a)', async () => {
    ws = makeTestWorkspace({ git: true });
    writeFileSync(join(ws.dir, 'keep.txt'), 'kept\n');
    makeDeepFile('deep bytes');
    // The daemon starts on this tree: its watcher crawls into the long path at once.
    await ws.json(['start']);
    const status = await ws.json(['status']);
    expect(status.watcher.mode).toBe('events');
    unlinkSync(join(ws.dir, 'keep.txt'));
    writeFileSync(join(ws.dir, 'new.txt'), 'made by the job\n');
    const cp = await ws.json(['checkpoint']);
    expect(cp.uncaptured).toHaveLength(1);
    const long = cp.uncaptured[0] as { path: string; reason: string };
    expect(long.path.startsWith(`${NAME}/`)).toBe(true);
    expect(long.reason).toMatch(/ENAMETOOLONG/);
    const r = await ws.json(['cancel']);
    expect(r.status).toBe('cancelled');
    expect(r.restored).toEqual(['keep.txt']);
    expect(r.removed).toEqual(['new.txt']);
    expect(r.preserved).toEqual([long.path]);
    expect(r.preservedReasons[long.path]).toMatch(/^uncaptured: .*ENAMETOOLONG/);
    expect(readFileSync(join(ws.dir, 'keep.txt'), 'utf8')).toBe('kept\n');
    expect(existsSync(join(ws.dir, 'new.txt'))).toBe(false);
    expect(readDeepFile()).toBe('deep bytes');
    expect((await ws.json(['status'])).watcher.mode).toBe('events');
  });

  it('#10.10 restore writes what fits and reports a checkpoint path the OS cannot take as error: ENAMETOOLONG (S1.8)', async () => {
    ws = makeTestWorkspace({ git: true });
    // A commit (not a Shadow checkpoint) may name a path that fits git's limit but not the OS's
    // once the workspace's own path is added: 20 × 201 + 70 = 4090 bytes.
    const rel = `${`${NAME}/`.repeat(20)}${'f'.repeat(66)}.txt`;
    expect(Buffer.byteLength(ws.dir) + 1 + rel.length).toBeGreaterThanOrEqual(4096);
    writeFileSync(join(ws.dir, 'fits.txt'), 'fits\n');
    gitIn(ws, ['add', 'fits.txt']);
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: ws.dir, input: 'too long\n', encoding: 'utf8' }).trim();
    gitIn(ws, ['update-index', '--add', '--cacheinfo', `100644,${blob},${rel}`]);
    gitIn(ws, ['commit', '-q', '-m', 'with a long path']);
    const commit = gitIn(ws, ['rev-parse', 'HEAD']);
    gitIn(ws, ['rm', '-q', '--cached', rel]);
    unlinkSync(join(ws.dir, 'fits.txt'));
    await ws.json(['checkpoint']);
    const r = await ws.json(['restore', commit]);
    expect(r.restored).toEqual(['fits.txt']);
    expect(r.preserved).toEqual([{ path: rel, reason: 'error: ENAMETOOLONG' }]);
    expect(readFileSync(join(ws.dir, 'fits.txt'), 'utf8')).toBe('fits\n');
    // Refused before its parent directories were made: no empty chain is left behind.
    expect(existsSync(join(ws.dir, NAME))).toBe(false);
    const cp = await ws.json(['checkpoint']);
    expect(cp.uncaptured).toEqual([]);
    expect((await ws.json(['status'])).watcher.mode).toBe('events');
  });
});
