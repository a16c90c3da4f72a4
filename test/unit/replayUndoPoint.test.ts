/**
 * What `undo` restores after a journal replay (issue #10.3, S2.5, S5.4): the state before the
 * interrupted restore, with every path the user changed after the crash taken as the restart
 * found it; and the per-path re-check of a restore (S1.1a) on real files.
 */
import { lstatSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlatEntry, FlatTree } from '../../daemon/store/flatTree.js';
import { hashObject } from '../../daemon/store/gitObjects.js';
import { recheckPath } from '../../daemon/store/pathRecheck.js';
import { changedAfterCrash, undoTreeAfterReplay } from '../../daemon/store/replayUndoPoint.js';

const e = (oid: string): FlatEntry => ({ mode: '100644', oid: oid.repeat(40).slice(0, 40) });
const tree = (o: Record<string, string>): FlatTree => new Map(Object.entries(o).map(([p, v]) => [p, e(v)]));

describe('undo after a replay (#10.3, S5.4)', () => {
  it('#10.3 keeps the state before the restore, and takes every path changed after the crash as found', () => {
    const before = tree({ 'a.txt': '1', 'b.txt': '2', 'run-new.txt': '3', dir: '4' });
    const target = tree({ 'a.txt': '5', 'b.txt': '6' });
    // Half restored (a back at the target, b not yet), then the user edits b, adds u and makes `dir` a directory.
    const found = tree({ 'a.txt': '5', 'b.txt': '7', 'run-new.txt': '3', 'u.txt': '8', 'dir/x': '9' });
    const t = { before, target, found, inScope: () => true };
    expect(['a.txt', 'b.txt', 'run-new.txt', 'u.txt', 'dir', 'dir/x'].filter((p) => changedAfterCrash(t, p))).toEqual(['b.txt', 'u.txt', 'dir/x']);
    const undo = undoTreeAfterReplay(t);
    expect(Object.fromEntries([...undo].map(([p, v]) => [p, v.oid[0]]))).toEqual({ 'a.txt': '1', 'b.txt': '7', 'run-new.txt': '3', 'u.txt': '8', 'dir/x': '9' });
  });

  it('#10.3 paths outside a partial restore are taken as found', () => {
    const before = tree({ 'in/a': '1', 'out/b': '2' });
    const target = tree({ 'in/a': '3', 'out/b': '4' });
    const found = tree({ 'in/a': '3', 'out/b': '2' });
    const undo = undoTreeAfterReplay({ before, target, found, inScope: (p) => p.startsWith('in/') });
    expect(Object.fromEntries([...undo].map(([p, v]) => [p, v.oid[0]]))).toEqual({ 'in/a': '1', 'out/b': '2' });
  });
});

describe('per-path re-check (#10.4, S1.1a)', () => {
  it('#10.4 same when unchanged, changed for other content, mode or a new file, absent when gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shadow-recheck-'));
    try {
      const f = join(dir, 'f');
      writeFileSync(f, 'one\n');
      const st = lstatSync(f);
      const captured = { mode: '100644' as const, oid: hashObject('blob', Buffer.from('one\n')), size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, hashedAt: Date.now() };
      expect(recheckPath(f, captured)).toBe('same');
      writeFileSync(f, 'two\n'); // same size: only the content tells
      expect(recheckPath(f, captured)).toBe('changed');
      writeFileSync(f, 'one\n'); // back to the captured bytes: nothing would be lost
      expect(recheckPath(f, captured)).toBe('same');
      expect(recheckPath(join(dir, 'missing'), captured)).toBe('absent');
      expect(recheckPath(f, null)).toBe('changed');
      symlinkSync('one\n', join(dir, 'l'));
      expect(recheckPath(join(dir, 'l'), captured)).toBe('changed');
      expect(recheckPath(dir, captured)).toBe('changed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
