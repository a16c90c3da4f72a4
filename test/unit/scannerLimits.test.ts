/**
 * maxFileSize (S1.8) holds for the bytes actually read: a file that grows past the limit between
 * the scanner's lstat and its read is reported uncaptured, never stored.
 */
import { appendFileSync, lstatSync, writeFileSync } from 'node:fs';
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
  it('a file that grows past the limit between lstat and read is uncaptured, not stored', () => {
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
    scanner.scanPaths(['grows.bin', 'small.txt']);
    expect(index.get('grows.bin')).toBeUndefined();
    expect(scanner.uncaptured.get('grows.bin')).toMatch(/maxFileSize/);
    expect(index.get('small.txt')).toBeDefined();
    expect(writer.written).toBe(1);
  });
});
