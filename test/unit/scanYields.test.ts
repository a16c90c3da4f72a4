/**
 * S2.2: a bulk scan yields to the event loop between the files of one directory, not only
 * between directories (a directory of thousands of new files held the loop for its whole read,
 * hash and deflate). S1.8: after such a yield the directory is checked again, so a directory the
 * user replaced by a symlink meanwhile is never read through.
 */
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LooseObjectWriter } from '../../daemon/store/gitObjects.js';
import { loadWorkspaceIgnoreRules } from '../../daemon/store/ignoreRules.js';
import { SnapshotIndex } from '../../daemon/store/snapshotIndex.js';
import { WorkspaceScanner } from '../../daemon/store/workspaceScanner.js';
import { makeTempDir } from '../helpers/tempDir.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const FILES = 5000;

function fillDir(dir: string, tag: string): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `f${i}.txt`), `${tag} ${i}\n`);
}

function makeScanner(root: string): { scanner: WorkspaceScanner; index: SnapshotIndex } {
  const store = makeTempDir();
  cleanups.push(store.cleanup);
  const ignore = loadWorkspaceIgnoreRules({ root, gitDir: null, stateDirRel: null, configIgnore: [] });
  const index = new SnapshotIndex();
  return { scanner: new WorkspaceScanner(root, index, new LooseObjectWriter(join(store.dir, 'objects')), ignore, 1_000_000), index };
}

/** Calls `onTick` at every turn of the event loop until `done` settles; returns the number of turns. */
async function ticksWhile(done: Promise<unknown>, onTick: () => void = () => undefined): Promise<number> {
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  let ticks = 0;
  while (!finished) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (finished) break;
    ticks++;
    onTick();
  }
  await done;
  return ticks;
}

describe('bulk scans yield within a directory (S2.2, S1.8)', () => {
  it('S2.2 scanning one directory of 5 000 new files lets the event loop run several times meanwhile', async () => {
    const ws = makeTempDir();
    cleanups.push(ws.cleanup);
    fillDir(join(ws.dir, 'big'), 'v1');
    const { scanner, index } = makeScanner(ws.dir);
    // Before the fix the whole directory was one synchronous stretch: the loop ran once, after it.
    const ticks = await ticksWhile(scanner.rescanAll());
    expect(index.size).toBe(FILES);
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  it('S1.8 a directory replaced by a symlink while its files are examined is taken in as the symlink; nothing is read through it', async () => {
    const ws = makeTempDir();
    const outside = makeTempDir();
    cleanups.push(ws.cleanup, outside.cleanup);
    fillDir(join(ws.dir, 'big'), 'inside');
    fillDir(join(outside.dir, 'big'), 'OUTSIDE');
    const { scanner, index } = makeScanner(ws.dir);
    let swapped = false;
    const scan = scanner.rescanAll();
    await ticksWhile(scan, () => {
      // Swap once the scan is inside `big` (some of its files taken in, not all).
      if (swapped || index.size === 0) return;
      renameSync(join(ws.dir, 'big'), join(outside.dir, 'moved-away'));
      symlinkSync(join(outside.dir, 'big'), join(ws.dir, 'big'));
      swapped = true;
    });
    expect(swapped).toBe(true);
    expect(index.get('big')?.mode).toBe('120000');
    expect(index.hasDir('big')).toBe(false);
    expect(index.size).toBe(1);
  });
});
