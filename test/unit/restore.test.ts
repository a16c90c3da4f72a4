import { createHash } from 'node:crypto';
import {
  chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyRestore } from '../../daemon/store/applyRestore.js';
import type { BlobReader, FlatTree } from '../../daemon/store/flatTree.js';
import { planRestore, type RestoreInput, type RestorePlan } from '../../daemon/store/restorePlan.js';
import { normalizeUserPath, validateTreePath } from '../../daemon/store/validateTreePath.js';
import { git, nativeTree } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';

type Ignore = (path: string, isDir: boolean) => boolean;
const never: Ignore = () => false;
/** Current rules of most tests: `*.log` and `node_modules/` anywhere, deep. */
const logsAndModules: Ignore = (p) => p.endsWith('.log') || p.split('/').includes('node_modules');

/** Blobs by oid, shared by every snapshot of a test: the BlobReader reads them back. */
let blobs: Map<string, Buffer>;
const readBlob: BlobReader = async (oid) => {
  const b = blobs.get(oid);
  if (!b) throw Object.assign(new Error(`no blob ${oid}`), { code: 'OBJECT_CORRUPT' });
  return b;
};
const hashBlob = (content: Buffer): string => {
  const oid = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
  blobs.set(oid, content);
  return oid;
};

/** Snapshots `dir` like the store does: no symlink followed, `.git` and ignored paths skipped. */
function snapshot(dir: string, ignored: Ignore = never, rel = ''): FlatTree {
  const tree: FlatTree = new Map();
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const abs = join(dir, path);
    const st = lstatSync(abs);
    if (name === '.git' || ignored(path, st.isDirectory())) continue;
    if (st.isDirectory()) for (const [p, e] of snapshot(dir, ignored, path)) tree.set(p, e);
    else if (st.isSymbolicLink()) tree.set(path, { mode: '120000', oid: hashBlob(readlinkSync(abs, { encoding: 'buffer' })) });
    else tree.set(path, { mode: st.mode & 0o111 ? '100755' : '100644', oid: hashBlob(readFileSync(abs)) });
  }
  return tree;
}

/** Writes files: string = content, {x} = executable, {link} = symlink. */
function populate(dir: string, files: Record<string, string | { x: string } | { link: string }>): void {
  for (const [path, spec] of Object.entries(files)) {
    const abs = join(dir, path);
    mkdirSync(join(abs, '..'), { recursive: true });
    if (typeof spec === 'string') writeFileSync(abs, spec);
    else if ('x' in spec) writeFileSync(abs, spec.x, { mode: 0o755 });
    else symlinkSync(spec.link, abs);
  }
}

const input = (target: FlatTree, current: FlatTree, extra: Partial<RestoreInput> = {}): RestoreInput => ({
  target, current, uncaptured: new Map(), isIgnoredNow: never, isIgnoredInTarget: never, ...extra,
});
const emptyPlan = (plan: RestorePlan): boolean => plan.write.length === 0 && plan.remove.length === 0;

let ws: string;
let cleanups: (() => void)[];
beforeEach(() => {
  blobs = new Map();
  cleanups = [];
  const t = makeTempDir('shadow-restore-');
  ws = t.dir;
  cleanups.push(t.cleanup);
});
afterEach(() => {
  for (const c of cleanups) c();
});

describe('validateTreePath / normalizeUserPath (S1.8)', () => {
  it('S1.8 accepts ordinary paths, backslashes included', () => {
    for (const p of ['a', 'a/b/c.txt', '.gitignore', 'x/.github/ci.yml', 'dir\\name', '.git2/x', 'a..b', '...', 'é/ü']) {
      expect(() => validateTreePath(p)).not.toThrow();
    }
  });
  it('S1.8 rejects hostile paths with PATH_INVALID', () => {
    for (const p of ['', '/etc/passwd', '../x', 'a/../../b', 'a/./b', '.', 'a//b', 'a/', '.git/config', 'x/.GIT/hooks/pre-commit', '.Git', 'a\0b', 'a/'.repeat(2100) + 'b']) {
      expect(() => validateTreePath(p), JSON.stringify(p.slice(0, 20))).toThrow(expect.objectContaining({ code: 'PATH_INVALID' }));
    }
  });
  it('S1.8 normalizes user paths relative to cwd and keeps them inside the workspace', () => {
    expect(normalizeUserPath('/w', 'src/a.ts')).toBe('src/a.ts');
    expect(normalizeUserPath('/w', '.')).toBe('');
    expect(normalizeUserPath('/w', '/w')).toBe('');
    expect(normalizeUserPath('/w', '/w/src/')).toBe('src');
    expect(normalizeUserPath('/w', '../b', '/w/src/lib')).toBe('src/b');
    expect(normalizeUserPath('/w', 'x', 'src')).toBe('src/x');
    for (const [p, cwd] of [['..', undefined], ['/etc', undefined], ['../../x', '/w/a'], ['x', '/elsewhere'], ['/wx', undefined], ['a\0', undefined]] as const) {
      expect(() => normalizeUserPath('/w', p, cwd)).toThrow(expect.objectContaining({ code: 'PATH_INVALID' }));
    }
  });
});

describe('planRestore + applyRestore on real directories (S1.8)', () => {
  it('S1.8 restores adds, edits, deletes, chmod, symlink/file and file/directory swaps, removes emptied dirs; native git agrees', async () => {
    populate(ws, {
      'keep.txt': 'same',
      'edit.txt': 'original',
      'deleted.txt': 'will be deleted',
      'exec.sh': { x: '#!/bin/sh\necho hi\n' },
      'plain.sh': 'not executable',
      'to-link': 'a file that becomes a symlink',
      'from-link': { link: 'keep.txt' },
      'becomes-dir': 'a file that becomes a directory',
      'was-dir/inner/file.txt': 'a directory that becomes a file',
      'nested/deep/file.txt': 'deep',
      'é ü.txt': 'unicode name',
    });
    const oracleBefore = nativeTree(ws, { repo: false });
    const target = snapshot(ws);

    writeFileSync(join(ws, 'edit.txt'), 'changed');
    rmSync(join(ws, 'deleted.txt'));
    chmodSync(join(ws, 'exec.sh'), 0o644);
    chmodSync(join(ws, 'plain.sh'), 0o755);
    rmSync(join(ws, 'to-link'));
    symlinkSync('/etc/hostname', join(ws, 'to-link'));
    rmSync(join(ws, 'from-link'));
    writeFileSync(join(ws, 'from-link'), 'now a file');
    rmSync(join(ws, 'becomes-dir'));
    populate(ws, { 'becomes-dir/child.txt': 'x', 'becomes-dir/sub/more.txt': 'y' });
    rmSync(join(ws, 'was-dir'), { recursive: true });
    writeFileSync(join(ws, 'was-dir'), 'file now');
    populate(ws, { 'created.txt': 'new', 'new/dir/tree/file.txt': 'new deep' });
    rmSync(join(ws, 'nested/deep/file.txt'));
    const current = snapshot(ws);

    const plan = planRestore(input(target, current));
    expect(plan.remove).toEqual(['becomes-dir/child.txt', 'becomes-dir/sub/more.txt', 'created.txt', 'new/dir/tree/file.txt', 'was-dir']);
    expect(plan.write.map((w) => w.path)).toEqual(['becomes-dir', 'deleted.txt', 'edit.txt', 'exec.sh', 'from-link', 'nested/deep/file.txt', 'plain.sh', 'to-link', 'was-dir/inner/file.txt']);
    const progress: [number, number][] = [];
    const result = await applyRestore(ws, plan, readBlob, { onProgress: (d, t) => progress.push([d, t]) });

    expect(result.preserved).toEqual([]);
    expect(result.restored).toEqual(plan.write.map((w) => w.path));
    expect(result.removed).toEqual(plan.remove);
    expect(progress.at(-1)).toEqual([14, 14]);
    expect(progress).toHaveLength(14);
    expect(snapshot(ws)).toEqual(target);
    expect(nativeTree(ws, { repo: false })).toBe(oracleBefore);
    expect(existsSync(join(ws, 'new'))).toBe(false); // emptied directories removed, walking up
    expect(statSync(join(ws, 'exec.sh')).mode & 0o777).toBe(0o755);
    expect(statSync(join(ws, 'plain.sh')).mode & 0o777).toBe(0o644);
    expect(readlinkSync(join(ws, 'from-link'))).toBe('keep.txt');
    expect(lstatSync(join(ws, 'to-link')).isFile()).toBe(true);
    expect(readdirSync(ws).filter((n) => n.startsWith('.shadow-tmp-'))).toEqual([]);
    // Idempotence: a second plan against the restored tree is empty, and replaying the first changes nothing.
    expect(emptyPlan(planRestore(input(target, snapshot(ws))))).toBe(true);
    const replay = await applyRestore(ws, plan, readBlob);
    // A stale plan never deletes a directory where it expected a file: reported, left alone.
    expect(replay.preserved).toEqual([{ path: 'was-dir', reason: 'in the way: was-dir' }]);
    expect(snapshot(ws)).toEqual(target);
  });

  it('S1.8 blob oids match git hash-object (the oracle for the test snapshots)', () => {
    populate(ws, { f: 'hello\n', l: { link: 'f' } });
    const tree = snapshot(ws);
    expect(tree.get('f')!.oid).toBe(git(ws, ['hash-object', 'f']));
    expect(tree.get('l')!.oid).toBe(hashOfBytes('f'));
  });

  it('S1.8 ignored files (current or checkpoint rules) are never deleted or overwritten, and keep their directories', async () => {
    populate(ws, { 'src/a.ts': 'a', 'cache': 'cache was a file' });
    const target = snapshot(ws, logsAndModules);
    populate(ws, {
      'lib/a.js': 'created', 'lib/debug.log': 'ignored now', 'node_modules/pkg/index.js': 'ignored dir',
      'scratch.tmp': 'ignored under the checkpoint rules', 'src/trace.log': 'ignored',
    });
    rmSync(join(ws, 'cache'));
    populate(ws, { 'cache/x.log': 'ignored file in a dir that must become a file' });
    const current = snapshot(ws, logsAndModules);
    const plan = planRestore(input(target, current, { isIgnoredNow: logsAndModules, isIgnoredInTarget: (p) => p.endsWith('.tmp') }));
    expect(plan.remove).toEqual(['lib/a.js']);
    expect(plan.preserved).toEqual([{ path: 'scratch.tmp', reason: 'ignored-in-checkpoint' }]);
    const result = await applyRestore(ws, plan, readBlob);
    expect(result.removed).toEqual(['lib/a.js']);
    expect(result.preserved).toEqual([{ path: 'cache', reason: 'in the way: cache' }, { path: 'scratch.tmp', reason: 'ignored-in-checkpoint' }]);
    expect(readFileSync(join(ws, 'lib/debug.log'), 'utf8')).toBe('ignored now');
    expect(readFileSync(join(ws, 'node_modules/pkg/index.js'), 'utf8')).toBe('ignored dir');
    expect(readFileSync(join(ws, 'scratch.tmp'), 'utf8')).toBe('ignored under the checkpoint rules');
    expect(readFileSync(join(ws, 'cache/x.log'), 'utf8')).toBe('ignored file in a dir that must become a file');
    expect(readFileSync(join(ws, 'src/trace.log'), 'utf8')).toBe('ignored');
  });

  it('S1.8 a working-tree path git would refuse (x/.GIT/y) is preserved, never deleted, and does not block the restore', () => {
    const oid = hashBlob(Buffer.from('x'));
    const current: FlatTree = new Map([['x/.GIT/y', { mode: '100644', oid }], ['z', { mode: '100644', oid }]]);
    const plan = planRestore(input(new Map(), current));
    expect(plan.remove).toEqual(['z']);
    expect(plan.preserved).toEqual([{ path: 'x/.GIT/y', reason: 'unsafe path: .git segment' }]);
  });

  it('S1.8 a checkpoint file now ignored is not written over whatever is on disk', () => {
    populate(ws, { 'out.log': 'tracked then' });
    const target = snapshot(ws);
    writeFileSync(join(ws, 'out.log'), 'ignored now, different bytes');
    const plan = planRestore(input(target, snapshot(ws, logsAndModules), { isIgnoredNow: logsAndModules }));
    expect(plan.write).toEqual([]);
    expect(plan.preserved).toEqual([{ path: 'out.log', reason: 'ignored' }]);
  });

  it('S1.8 uncaptured files are never deleted nor overwritten, and are reported', async () => {
    populate(ws, { 'big.bin': 'checkpoint version', 'a.txt': 'a' });
    const target = snapshot(ws);
    writeFileSync(join(ws, 'big.bin'), 'too large now');
    populate(ws, { 'huge.dat': 'too large, created since', 'b.txt': 'b' });
    const current = snapshot(ws);
    current.delete('big.bin');
    current.delete('huge.dat');
    const uncaptured = new Map([['big.bin', 'too large'], ['huge.dat', 'unreadable']]);
    const plan = planRestore(input(target, current, { uncaptured }));
    expect(plan.write).toEqual([]);
    expect(plan.remove).toEqual(['b.txt']);
    const result = await applyRestore(ws, plan, readBlob);
    expect(result.preserved).toEqual([{ path: 'big.bin', reason: 'uncaptured: too large' }, { path: 'huge.dat', reason: 'uncaptured: unreadable' }]);
    expect(readFileSync(join(ws, 'big.bin'), 'utf8')).toBe('too large now');
    expect(readFileSync(join(ws, 'huge.dat'), 'utf8')).toBe('too large, created since');
  });

  it('S1.8 a symlink to an outside directory is replaced by a real directory; the outside is untouched', async () => {
    const outside = makeTempDir('shadow-outside-');
    cleanups.push(outside.cleanup);
    populate(outside.dir, { passwd: 'root:x:0:0', 'sub/keep': 'k' });
    const outsideBefore = snapshot(outside.dir);
    populate(ws, { 'evil/passwd': 'restored content', 'evil/sub/new': 'n' });
    const target = snapshot(ws);
    rmSync(join(ws, 'evil'), { recursive: true });
    symlinkSync(outside.dir, join(ws, 'evil'));
    const current = snapshot(ws);
    expect(current.get('evil')?.mode).toBe('120000');
    const result = await applyRestore(ws, planRestore(input(target, current)), readBlob);
    expect(result.removed).toEqual(['evil']);
    expect(result.restored).toEqual(['evil/passwd', 'evil/sub/new']);
    expect(lstatSync(join(ws, 'evil')).isDirectory()).toBe(true);
    expect(snapshot(ws)).toEqual(target);
    expect(snapshot(outside.dir)).toEqual(outsideBefore);
    expect(readFileSync(join(outside.dir, 'passwd'), 'utf8')).toBe('root:x:0:0');
    expect(readdirSync(outside.dir).sort()).toEqual(['passwd', 'sub']);
  });

  it('S1.8 hostile plans never reach outside: symlinked parents block writes and removals, hard links are not written through', async () => {
    const outside = makeTempDir('shadow-outside-');
    cleanups.push(outside.cleanup);
    populate(outside.dir, { passwd: 'secret', linked: 'outside bytes' });
    symlinkSync(outside.dir, join(ws, 'evil'));
    linkSync(join(outside.dir, 'linked'), join(ws, 'hard'));
    const oid = hashBlob(Buffer.from('pwned'));
    // The plan does not remove `evil`: writing below it must be refused, not followed.
    const plan: RestorePlan = {
      write: [{ path: 'evil/passwd', entry: { mode: '100644', oid } }, { path: 'evil/new', entry: { mode: '100644', oid } }, { path: 'hard', entry: { mode: '100644', oid } }],
      remove: ['evil/sub/x', 'evil/linked'],
      preserved: [],
    };
    const result = await applyRestore(ws, plan, readBlob);
    expect(result.preserved).toEqual([{ path: 'evil/new', reason: 'in the way: evil' }, { path: 'evil/passwd', reason: 'in the way: evil' }]);
    expect(readFileSync(join(outside.dir, 'passwd'), 'utf8')).toBe('secret');
    expect(readFileSync(join(outside.dir, 'linked'), 'utf8')).toBe('outside bytes'); // rename, not in-place write
    expect(readFileSync(join(ws, 'hard'), 'utf8')).toBe('pwned');
    expect(readdirSync(outside.dir).sort()).toEqual(['linked', 'passwd']);
    expect(readlinkSync(join(ws, 'evil'))).toBe(outside.dir);
  });

  it('S1.8 hostile checkpoint paths are rejected with PATH_INVALID before any change', async () => {
    populate(ws, { 'a.txt': 'a', 'created.txt': 'c' });
    const before = snapshot(ws);
    const oid = hashBlob(Buffer.from('x'));
    for (const bad of ['../x', '.git/config', 'a/../../b', '/tmp/abs', 'sub/.GIT/hooks/post-checkout', 'a//b']) {
      const target: FlatTree = new Map([['a.txt', { mode: '100644', oid }], [bad, { mode: '100644', oid }]]);
      expect(() => planRestore(input(target, before)), bad).toThrow(expect.objectContaining({ code: 'PATH_INVALID' }));
      const plan: RestorePlan = { write: [{ path: 'a.txt', entry: { mode: '100644', oid } }, { path: bad, entry: { mode: '100644', oid } }], remove: ['created.txt'], preserved: [] };
      await expect(applyRestore(ws, plan, readBlob), bad).rejects.toMatchObject({ code: 'PATH_INVALID' });
      await expect(applyRestore(ws, { write: [], remove: ['created.txt', bad], preserved: [] }, readBlob)).rejects.toMatchObject({ code: 'PATH_INVALID' });
    }
    // A path that is both a file and a directory is ambiguous: rejected too.
    const conflict: FlatTree = new Map([['d', { mode: '100644', oid }], ['d/x', { mode: '100644', oid }]]);
    expect(() => planRestore(input(conflict, before))).toThrow(expect.objectContaining({ code: 'PATH_INVALID' }));
    expect(snapshot(ws)).toEqual(before);
    expect(readdirSync(ws).sort()).toEqual(['a.txt', 'created.txt']);
  });

  it('S1.8 path filters restore only the chosen paths', async () => {
    populate(ws, { 'src/a.ts': 'a', 'src/lib/b.ts': 'b', 'src2/c.ts': 'c', 'docs/d.md': 'd' });
    const target = snapshot(ws);
    populate(ws, { 'src/a.ts': 'A!', 'src/lib/b.ts': 'B!', 'src/new.ts': 'new', 'src2/c.ts': 'C!', 'docs/d.md': 'D!', 'docs/new.md': 'new' });
    const current = snapshot(ws);
    const plan = planRestore(input(target, current, { paths: [normalizeUserPath(ws, 'lib', join(ws, 'src')), 'src/a.ts', 'docs/new.md'] }));
    expect(plan.write.map((w) => w.path)).toEqual(['src/a.ts', 'src/lib/b.ts']);
    expect(plan.remove).toEqual(['docs/new.md']);
    await applyRestore(ws, plan, readBlob);
    const after = snapshot(ws);
    for (const p of ['src/a.ts', 'src/lib/b.ts']) expect(after.get(p)).toEqual(target.get(p));
    for (const p of ['src/new.ts', 'src2/c.ts', 'docs/d.md']) expect(after.get(p)).toEqual(current.get(p));
    expect(after.has('docs/new.md')).toBe(false);
    expect(emptyPlan(planRestore(input(target, current, { paths: [] })))).toBe(true);
    expect(planRestore(input(target, current, { paths: [''] })).write).toHaveLength(4);
  });

  it('S1.8 modes are exact whatever the umask; writes go through temp files and renames', async () => {
    populate(ws, { 'f.txt': 'f', 'x.sh': { x: 'x' }, 'd/e/g.txt': 'g' });
    chmodSync(join(ws, 'f.txt'), 0o644);
    chmodSync(join(ws, 'x.sh'), 0o755);
    const target = snapshot(ws);
    rmSync(join(ws, 'd'), { recursive: true });
    writeFileSync(join(ws, 'f.txt'), 'changed');
    const inoBefore = statSync(join(ws, 'f.txt')).ino;
    const old = process.umask(0o077);
    try {
      await applyRestore(ws, planRestore(input(target, snapshot(ws))), readBlob);
    } finally {
      process.umask(old);
    }
    expect(statSync(join(ws, 'f.txt')).mode & 0o777).toBe(0o644);
    expect(statSync(join(ws, 'd/e/g.txt')).mode & 0o777).toBe(0o644);
    expect(statSync(join(ws, 'f.txt')).ino).not.toBe(inoBefore);
    expect(snapshot(ws)).toEqual(target);
  });

  it('S1.8 a failure on one path is reported as preserved and the others still happen', async () => {
    populate(ws, { 'a.txt': 'a', 'b.txt': 'b', 'dir/c.txt': 'c' });
    const target = snapshot(ws);
    populate(ws, { 'a.txt': 'A', 'b.txt': 'B', 'dir/c.txt': 'C', 'extra.txt': 'e' });
    blobs.delete(target.get('b.txt')!.oid);
    const result = await applyRestore(ws, planRestore(input(target, snapshot(ws))), readBlob);
    expect(result.restored).toEqual(['a.txt', 'dir/c.txt']);
    expect(result.removed).toEqual(['extra.txt']);
    expect(result.preserved).toEqual([{ path: 'b.txt', reason: 'error: OBJECT_CORRUPT' }]);
    expect(readFileSync(join(ws, 'b.txt'), 'utf8')).toBe('B');
  });

  it.skipIf(process.getuid?.() === 0)('S1.8 EACCES on one directory is reported, the rest is restored', async () => {
    populate(ws, { 'ro/a.txt': 'a', 'b.txt': 'b' });
    const target = snapshot(ws);
    populate(ws, { 'ro/a.txt': 'A', 'b.txt': 'B' });
    chmodSync(join(ws, 'ro'), 0o555);
    try {
      const result = await applyRestore(ws, planRestore(input(target, snapshot(ws))), readBlob);
      expect(result.restored).toEqual(['b.txt']);
      expect(result.preserved).toEqual([{ path: 'ro/a.txt', reason: 'error: EACCES' }]);
    } finally {
      chmodSync(join(ws, 'ro'), 0o755);
    }
  });
});

/** `git hash-object` of a symlink's target bytes, as git stores a symlink. */
function hashOfBytes(linkTarget: string): string {
  writeFileSync(join(ws, '.link-target'), linkTarget);
  const oid = git(ws, ['hash-object', '.link-target']);
  rmSync(join(ws, '.link-target'));
  return oid;
}
