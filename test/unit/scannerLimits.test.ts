/**
 * maxFileSize (S1.8) holds for the bytes actually read: a file that grows past the limit between
 * the scanner's lstat and its read is reported uncaptured, never stored.
 */
import { appendFileSync, lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LooseObjectWriter } from '../../daemon/store/gitObjects.js';
import { loadWorkspaceIgnoreRules } from '../../daemon/store/ignoreRules.js';
import { SnapshotIndex } from '../../daemon/store/snapshotIndex.js';
import { WorkspaceScanner } from '../../daemon/store/workspaceScanner.js';
import { makeTempDir } from '../helpers/tempDir.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

describe('WorkspaceScanner and maxFileSize (S1.8)', () => {
  it('a file that grows past the limit between lstat and read is uncaptured, not stored', async () => {
    const ws = makeTempDir();
    const store = makeTempDir();
    cleanups.push(ws.cleanup, store.cleanup);
    writeFileSync(join(ws.dir, 'grows.bin'), Buffer.alloc(100, 1));
    writeFileSync(join(ws.dir, 'small.txt'), 'small\n');
    const ignore = loadWorkspaceIgnoreRules({ root: ws.dir, gitDir: null, stateDirRel: null, configIgnore: [] });
    const index = new SnapshotIndex();
    const writer = new LooseObjectWriter(join(store.dir, 'objects'));
    const scanner = new WorkspaceScanner(ws.dir, index, writer, ignore, 1000);
    // The writer (a generator, an agent) appends right after the scanner took its stat.
    const internals = scanner as unknown as { lstat(path: string): ReturnType<typeof lstatSync> | undefined };
    internals.lstat = (path: string) => {
      const st = lstatSync(join(ws.dir, path));
      if (path === 'grows.bin') appendFileSync(join(ws.dir, path), Buffer.alloc(5000, 2));
      return st;
    };
    await scanner.scanPaths(['grows.bin', 'small.txt']);
    expect(index.get('grows.bin')).toBeUndefined();
    expect(scanner.uncaptured.get('grows.bin')).toMatch(/maxFileSize/);
    expect(index.get('small.txt')).toBeDefined();
    expect(writer.written).toBe(1);
  });
});

describe('WorkspaceScanner and type swaps reported by path (S1.4, S1.8)', () => {
  it('a directory replaced by a file, and a file by a directory, leave no trace of the old kind in the index', async () => {
    const ws = makeTempDir();
    const store = makeTempDir();
    cleanups.push(ws.cleanup, store.cleanup);
    mkdirSync(join(ws.dir, 'was-dir'));
    writeFileSync(join(ws.dir, 'was-dir', 'inner.txt'), 'inner\n');
    writeFileSync(join(ws.dir, 'was-file'), 'file\n');
    const ignore = loadWorkspaceIgnoreRules({ root: ws.dir, gitDir: null, stateDirRel: null, configIgnore: [] });
    const index = new SnapshotIndex();
    const scanner = new WorkspaceScanner(ws.dir, index, new LooseObjectWriter(join(store.dir, 'objects')), ignore, 1000);
    await scanner.scanPaths(['was-dir', 'was-file']);
    expect(index.get('was-dir/inner.txt')).toBeDefined();
    rmSync(join(ws.dir, 'was-dir'), { recursive: true });
    writeFileSync(join(ws.dir, 'was-dir'), 'a file now\n');
    rmSync(join(ws.dir, 'was-file'));
    mkdirSync(join(ws.dir, 'was-file'));
    writeFileSync(join(ws.dir, 'was-file', 'child.txt'), 'child\n');
    // The watcher reports the names (their parent's events) and the old child (the old
    // directory's own watch), in whatever order the events came.
    await scanner.scanPaths(['was-dir', 'was-dir/inner.txt', 'was-file']);
    expect(index.hasDir('was-dir')).toBe(false);
    expect(index.get('was-dir/inner.txt')).toBeUndefined();
    expect(index.get('was-dir')).toBeDefined();
    expect(index.get('was-file')).toBeUndefined();
    expect(index.get('was-file/child.txt')).toBeDefined();
  });

  it('a directory queued for a re-read that became a file meanwhile is taken in as the file', async () => {
    const ws = makeTempDir();
    const store = makeTempDir();
    cleanups.push(ws.cleanup, store.cleanup);
    mkdirSync(join(ws.dir, 'swap'));
    writeFileSync(join(ws.dir, 'swap', 'inner.txt'), 'inner\n');
    const ignore = loadWorkspaceIgnoreRules({ root: ws.dir, gitDir: null, stateDirRel: null, configIgnore: [] });
    const index = new SnapshotIndex();
    const scanner = new WorkspaceScanner(ws.dir, index, new LooseObjectWriter(join(store.dir, 'objects')), ignore, 1000);
    await scanner.rescanAll();
    rmSync(join(ws.dir, 'swap'), { recursive: true });
    writeFileSync(join(ws.dir, 'swap'), 'a file now\n');
    // The watcher had asked for a re-read of the directory (its watch was made after it was read).
    await scanner.scanDirsShallow(['swap']);
    expect(index.get('swap/inner.txt')).toBeUndefined();
    expect(index.get('swap')).toBeDefined();
  });

  it('a directory replaced by a symlink: paths reported below it are not read through the link, in any order', async () => {
    for (const order of [['conf', 'conf/passwd'], ['conf/passwd', 'conf']]) {
      const ws = makeTempDir();
      const outside = makeTempDir();
      const store = makeTempDir();
      cleanups.push(ws.cleanup, outside.cleanup, store.cleanup);
      mkdirSync(join(ws.dir, 'conf'));
      writeFileSync(join(ws.dir, 'conf', 'passwd'), 'workspace copy\n');
      const ignore = loadWorkspaceIgnoreRules({ root: ws.dir, gitDir: null, stateDirRel: null, configIgnore: [] });
      const index = new SnapshotIndex();
      const scanner = new WorkspaceScanner(ws.dir, index, new LooseObjectWriter(join(store.dir, 'objects')), ignore, 1000);
      await scanner.rescanAll();
      rmSync(join(ws.dir, 'conf'), { recursive: true });
      writeFileSync(join(outside.dir, 'passwd'), 'outside\n');
      writeFileSync(join(outside.dir, 'other'), 'outside too\n');
      symlinkSync(outside.dir, join(ws.dir, 'conf'));
      await scanner.scanPaths(order);
      expect(index.hasDir('conf'), order.join(' then ')).toBe(false);
      expect(index.get('conf/passwd'), order.join(' then ')).toBeUndefined();
      expect(index.get('conf')?.mode, order.join(' then ')).toBe('120000');
      // A re-read of the old directory (unwatched, queued) lists nothing through the link either.
      await scanner.scanDirsShallow(['conf']);
      expect(index.get('conf/other')).toBeUndefined();
      expect(index.get('conf')?.mode).toBe('120000');
    }
  });
});
