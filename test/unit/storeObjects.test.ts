/**
 * The store's object and ref primitives against native git (S1.1, S1.5, S1.6): tree order and
 * bytes, loose object format, commit trailers, the ref lock protocol and packed-refs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCommit, encodeCommit } from '../../daemon/store/commitCodec.js';
import { hashObject, LooseObjectWriter } from '../../daemon/store/gitObjects.js';
import { RefStore } from '../../daemon/store/refStore.js';
import { EMPTY_TREE, SnapshotIndex } from '../../daemon/store/snapshotIndex.js';
import type { TreeEntry } from '../../daemon/store/treeCodec.js';
import { decodeTree, encodeTree } from '../../daemon/store/treeCodec.js';
import { makeTempDir } from '../helpers/tempDir.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function repo(): { dir: string; git: (args: string[], input?: string) => string; writer: LooseObjectWriter } {
  const t = makeTempDir();
  cleanups.push(t.cleanup);
  execFileSync('git', ['init', '-q', '--bare', t.dir]);
  const git = (args: string[], input?: string) => execFileSync('git', ['--git-dir', t.dir, ...args], { input, encoding: 'utf8' }).trim();
  return { dir: t.dir, git, writer: new LooseObjectWriter(join(t.dir, 'objects')) };
}

describe('git objects (S1.1)', () => {
  it('hashes and writes blobs exactly as git does, atomically (no temp files left)', () => {
    const { git, writer, dir } = repo();
    for (const content of ['', 'hello\n', 'crlf\r\nline\r\n', '\0binary\xff']) {
      const buf = Buffer.from(content, 'latin1');
      const oid = writer.write('blob', buf);
      expect(oid).toBe(hashObject('blob', buf));
      expect(git(['cat-file', '-t', oid])).toBe('blob');
      expect(execFileSync('git', ['--git-dir', dir, 'cat-file', 'blob', oid])).toEqual(buf);
    }
    const leftovers = readdirSync(join(dir, 'objects'), { recursive: true }).filter((p) => String(p).includes('tmp_obj_'));
    expect(leftovers).toEqual([]);
    expect(git(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });

  it('writeLater: the oid at once; flush writes many objects as one valid pack (git reads and verifies it), duplicates once', async () => {
    const { git, writer, dir } = repo();
    const contents = Array.from({ length: 300 }, (_, i) => Buffer.from(`file ${i % 250}\n`.repeat(1 + (i % 7))));
    contents.push(Buffer.alloc(0), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff)));
    const oids = contents.map((c) => writer.writeLater('blob', c));
    expect(oids).toEqual(contents.map((c) => hashObject('blob', c)));
    expect(writer.backlogged(1000)).toBe(true);
    expect(writer.backlogged()).toBe(false); // far below the pack size
    await writer.flush();
    expect(writer.backlogged(0)).toBe(false);
    const packs = readdirSync(join(dir, 'objects', 'pack'));
    expect(packs.filter((n) => n.endsWith('.pack'))).toHaveLength(1);
    expect(packs.filter((n) => n.startsWith('tmp_'))).toEqual([]);
    const idx = packs.find((n) => n.endsWith('.idx')) as string;
    // verify-pack checks the pack's checksum, every entry's CRC and inflated size against the index.
    expect(git(['verify-pack', '-v', join(dir, 'objects', 'pack', idx)])).toContain(`non delta: ${new Set(oids).size} objects`);
    for (const i of [0, 1, 149, 299, 300, 301]) expect(execFileSync('git', ['--git-dir', dir, 'cat-file', 'blob', oids[i] as string])).toEqual(contents[i]);
    expect(writer.written).toBe(new Set(oids).size);
    expect(git(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });

  it('writeLater: a few objects are written loose (no pack per checkpoint)', async () => {
    const { git, writer, dir } = repo();
    const oids = ['a\n', 'b\n', 'a\n'].map((c) => writer.writeLater('blob', Buffer.from(c)));
    await writer.flush();
    expect(readdirSync(join(dir, 'objects', 'pack')).filter((n) => n.endsWith('.pack'))).toEqual([]);
    for (const oid of oids) expect(existsSync(join(dir, 'objects', oid.slice(0, 2), oid.slice(2)))).toBe(true);
    expect(git(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });

  it('writeLater: a failed write is thrown by flush, not lost', async () => {
    const t = makeTempDir();
    cleanups.push(t.cleanup);
    writeFileSync(join(t.dir, 'objects'), 'a file where the objects directory should be');
    const writer = new LooseObjectWriter(join(t.dir, 'objects'));
    for (let i = 0; i < 100; i++) writer.writeLater('blob', Buffer.from(`x${i}`));
    await expect(writer.flush()).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('orders tree entries like git (a directory sorts as "name/")', () => {
    const { git, writer } = repo();
    const blob = writer.write('blob', Buffer.from('x'));
    const sub = writer.write('tree', encodeTree([{ name: 'f', mode: '100644', oid: blob }]));
    const entries: TreeEntry[] = [
      { name: 'a', mode: '40000', oid: sub },
      { name: 'a-b', mode: '100644', oid: blob },
      { name: 'a.txt', mode: '100755', oid: blob },
      { name: 'a0', mode: '120000', oid: blob },
      { name: 'B', mode: '100644', oid: blob },
      { name: 'é', mode: '100644', oid: blob },
      { name: 'with space', mode: '100644', oid: blob },
    ];
    const ours = writer.write('tree', encodeTree([...entries].reverse()));
    const mktreeInput = entries.map((e) => `${e.mode === '40000' ? '040000 tree' : `${e.mode} blob`} ${e.oid}\t${e.name}`).join('\n') + '\n';
    expect(ours).toBe(git(['mktree'], mktreeInput));
    const listed = git(['-c', 'core.quotePath=false', 'ls-tree', ours]).split('\n').map((l) => l.split('\t')[1]);
    expect(decodeTree(execFileSync('git', ['--git-dir', git(['rev-parse', '--absolute-git-dir']), 'cat-file', 'tree', ours])).map((e) => e.name)).toEqual(listed);
    expect(git(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });

  it('writes commits with Shadow trailers that plain git log shows (S1.5)', () => {
    const { git, writer } = repo();
    const commit = writer.write('commit', encodeCommit({ tree: EMPTY_TREE, parents: [], subject: 'before\nmigration', meta: { kind: 'checkpoint', run: 'r1', phase: 'build', step: null, reason: null }, time: 1_700_000_000 }));
    writer.write('tree', encodeTree([]));
    expect(git(['log', '-1', '--format=%(trailers:key=Shadow-Kind,valueonly)', commit])).toBe('checkpoint');
    expect(git(['log', '-1', '--format=%(trailers:key=Shadow-Run,valueonly)', commit])).toBe('r1');
    const decoded = decodeCommit(execFileSync('git', ['--git-dir', git(['rev-parse', '--git-dir']), 'cat-file', 'commit', commit]));
    expect(decoded).toMatchObject({ tree: EMPTY_TREE, parents: [], time: 1_700_000_000, subject: 'before migration', meta: { kind: 'checkpoint', run: 'r1', phase: 'build' } });
    expect(git(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });
});

describe('refs (S1.6)', () => {
  it('updates with compare-and-swap through a .lock file and reads packed refs', () => {
    const { dir, git, writer } = repo();
    const refs = new RefStore(dir);
    const c1 = writer.write('commit', encodeCommit({ tree: writer.write('tree', encodeTree([])), parents: [], subject: 'one', meta: { kind: 'checkpoint' } }));
    const c2 = writer.write('commit', encodeCommit({ tree: EMPTY_TREE, parents: [c1], subject: 'two', meta: { kind: 'checkpoint' } }));
    refs.update('refs/shadow/manual', c1, null);
    expect(() => refs.update('refs/shadow/manual', c2, null)).toThrow(expect.objectContaining({ code: 'REF_LOCKED' }));
    refs.update('refs/shadow/manual', c2, c1);
    expect(git(['rev-parse', 'refs/shadow/manual'])).toBe(c2);
    // git pack-refs moves it into packed-refs: still readable, still updatable.
    git(['pack-refs', '--all']);
    expect(existsSync(join(dir, 'refs/shadow/manual'))).toBe(false);
    expect(refs.read('refs/shadow/manual')).toBe(c2);
    expect(refs.list().get('refs/shadow/manual')).toBe(c2);
    // A lock held by someone else (git) makes the update wait, then fail with REF_LOCKED.
    writeFileSync(join(dir, 'refs/shadow/manual.lock'), '');
    expect(() => refs.update('refs/shadow/manual', c1, c2, 50)).toThrow(expect.objectContaining({ code: 'REF_LOCKED' }));
    expect(refs.read('refs/shadow/manual')).toBe(c2);
    expect(() => refs.update('refs/heads/main', c1, null)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('snapshot index (S1.4)', () => {
  it('rewrites only the trees above a change and omits empty directories', () => {
    const { git, writer } = repo();
    const index = new SnapshotIndex();
    const rec = (oid: string) => ({ mode: '100644' as const, perms: 0o644, oid, size: 1, mtimeMs: 0, ctimeMs: 0, ino: 1, hashedAt: 0 });
    const b1 = writer.write('blob', Buffer.from('1'));
    const b2 = writer.write('blob', Buffer.from('2'));
    for (const p of ['a/x', 'a/b/y', 'c/z', 'top']) index.set(p, rec(b1));
    let writes = 0;
    const writeTree = (e: TreeEntry[]) => (writes++, writer.write('tree', encodeTree(e)));
    const root1 = index.rootTree(writeTree);
    expect(writes).toBe(4);
    writes = 0;
    index.set('a/b/y', rec(b2));
    index.rootTree(writeTree);
    expect(writes).toBe(3); // a/b, a, root — c untouched
    index.remove('a/b/y');
    index.remove('a/b/y'); // idempotent
    expect(index.hasDir('a/b')).toBe(false);
    index.set('a/b/y', rec(b1));
    expect(index.rootTree(writeTree)).toBe(root1);
    index.remove('c');
    index.remove('a');
    index.remove('top');
    expect(index.size).toBe(0);
    expect(index.rootTree(writeTree)).toBe(EMPTY_TREE);
    expect(git(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });
});
