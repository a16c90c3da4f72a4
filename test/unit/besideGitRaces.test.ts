/**
 * The store's races with the user's own git, each forced deterministically (S1.6):
 * - `git pack-refs --all` moving a shadow ref between RefStore.list's loose and packed reads;
 * - `git gc` packing, and `--prune=now` dropping, objects ObjectPresence is asked about;
 * - `git prune` deleting our temp object file or its fan-out directory mid-write.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointReader } from '../../daemon/store/checkpointReader.js';
import { LooseObjectWriter } from '../../daemon/store/gitObjects.js';
import { ObjectPresence } from '../../daemon/store/objectPresence.js';
import { RefStore } from '../../daemon/store/refStore.js';
import { git } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return { ...real, renameSync: vi.fn(real.renameSync), openSync: vi.fn(real.openSync), mkdirSync: vi.fn(real.mkdirSync) };
});

const ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_NOSYSTEM: '1' };

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
  vi.restoreAllMocks();
});

function repo(): { dir: string; gitDir: string; head: string } {
  const t = makeTempDir();
  cleanup = t.cleanup;
  git(t.dir, ['init', '-q', '-b', 'main'], ENV);
  fs.writeFileSync(join(t.dir, 'a.txt'), 'a\n');
  git(t.dir, ['add', '-A'], ENV);
  git(t.dir, ['commit', '-q', '-m', 'init'], ENV);
  return { dir: t.dir, gitDir: join(t.dir, '.git'), head: git(t.dir, ['rev-parse', 'HEAD'], ENV).trim() };
}

describe('RefStore.list beside git pack-refs (S1.6)', () => {
  type WithPacked = { packed(): Map<string, string> };

  it('S1.6 a pack-refs right after the packed-refs read hides no ref (loose refs are read first)', () => {
    const { dir, gitDir, head } = repo();
    for (const r of ['auto', 'manual', 'runs/a']) git(dir, ['update-ref', `refs/shadow/${r}`, head], ENV);
    const refs = new RefStore(gitDir);
    const proto = RefStore.prototype as unknown as WithPacked;
    const original = proto.packed;
    // The user's pack-refs lands between our two reads: packed-refs read (old), loose files gone.
    vi.spyOn(proto, 'packed').mockImplementation(function (this: WithPacked) {
      const snapshot = original.call(this);
      git(dir, ['pack-refs', '--all'], ENV);
      return snapshot;
    });
    expect([...refs.list().keys()].sort()).toEqual(['refs/shadow/auto', 'refs/shadow/manual', 'refs/shadow/runs/a']);
  });

  it('S1.6 a pack-refs right before the packed-refs read hides no ref either', () => {
    const { dir, gitDir, head } = repo();
    for (const r of ['auto', 'runs/b']) git(dir, ['update-ref', `refs/shadow/${r}`, head], ENV);
    const refs = new RefStore(gitDir);
    const proto = RefStore.prototype as unknown as WithPacked;
    const original = proto.packed;
    vi.spyOn(proto, 'packed').mockImplementation(function (this: WithPacked) {
      git(dir, ['pack-refs', '--all'], ENV);
      return original.call(this);
    });
    expect(refs.list()).toEqual(new Map([['refs/shadow/auto', head], ['refs/shadow/runs/b', head]]));
    expect(refs.read('refs/shadow/runs/b')).toBe(head);
  });
});

describe('RefStore.update beside git pack-refs --prune (S1.6)', () => {
  it('S1.6 makes the ref directory again when pack-refs removed it between our mkdir and our lock', () => {
    const { dir, gitDir, head } = repo();
    const refs = new RefStore(gitDir);
    const open = vi.mocked(fs.openSync);
    const real = open.getMockImplementation() as typeof fs.openSync;
    let removed = 0;
    open.mockImplementation((path, flags, mode) => {
      if (String(path).endsWith('r1.lock') && removed === 0) {
        removed++;
        fs.rmSync(join(String(path), '..'), { recursive: true, force: true }); // git's try_remove_empty_parents
      }
      return real(path, flags, mode);
    });
    refs.update('refs/shadow/runs/r1', head, null);
    expect(removed).toBe(1);
    expect(git(dir, ['rev-parse', 'refs/shadow/runs/r1'], ENV).trim()).toBe(head);
  });
});

describe('ObjectPresence beside git gc (S1.6)', () => {
  it('S1.6 finds loose objects, packed ones after gc, and no longer those gc --prune=now dropped', () => {
    const { dir, gitDir, head } = repo();
    const writer = new LooseObjectWriter(join(gitDir, 'objects'));
    const kept = writer.write('blob', Buffer.from('kept by a shadow ref\n'));
    const orphan = writer.write('blob', Buffer.from('reachable from nothing\n'));
    const presence = new ObjectPresence(join(gitDir, 'objects'));
    for (const oid of [kept, orphan, head]) expect(presence.has(oid)).toBe(true);
    // `kept` is reachable through a shadow commit; gc packs everything reachable, prunes the rest.
    const tree = mktree(dir, `100644 blob ${kept}\tk.txt\n`);
    git(dir, ['update-ref', 'refs/shadow/runs/x', git(dir, ['commit-tree', tree, '-m', 'k'], ENV).trim()], ENV);
    git(dir, ['gc', '--prune=now', '--quiet'], ENV);
    expect(fs.existsSync(join(gitDir, 'objects', kept.slice(0, 2), kept.slice(2)))).toBe(false); // packed, not loose
    presence.refresh();
    expect(presence.has(kept)).toBe(true);
    expect(presence.has(head)).toBe(true);
    expect(presence.has(orphan)).toBe(false);
    // A second gc replaces the pack: after refresh() the old pack's index no longer counts.
    git(dir, ['update-ref', '-d', 'refs/shadow/runs/x'], ENV);
    git(dir, ['gc', '--prune=now', '--quiet'], ENV);
    presence.refresh();
    expect(presence.has(kept)).toBe(false);
    expect(presence.has(head)).toBe(true);
  });
});

describe('CheckpointReader beside git repack (S1.6)', () => {
  it('S1.6 a packed read beside a repack that deleted a pack index it listed still succeeds', async () => {
    const { dir, gitDir, head } = repo();
    git(dir, ['gc', '--quiet'], ENV); // HEAD's commit is now packed only
    // A pack index that sorts first and is unreadable stands for a pack a concurrent
    // `git repack -a -d` deleted after isomorphic-git listed it; the repack is over by the retry.
    const dead = join(gitDir, 'objects', 'pack', 'pack-0000000000000000000000000000000000000000.idx');
    fs.writeFileSync(dead, 'not an index');
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      fs.rmSync(dead, { force: true });
      return realSetTimeout(fn, ms);
    }) as typeof setTimeout);
    const reader = new CheckpointReader(gitDir, new RefStore(gitDir));
    // Whether the pack reader skips the dead index or a retry comes after it is gone, the read succeeds.
    const c = await reader.readCommit(head);
    expect(c.subject).toBe('init');
  });
});

describe('LooseObjectWriter beside git prune (S1.6)', () => {
  it('S1.6 writes again when prune deletes our tmp_obj_ file before the rename', () => {
    const { gitDir } = repo();
    const objects = join(gitDir, 'objects');
    const writer = new LooseObjectWriter(objects);
    const rename = vi.mocked(fs.renameSync);
    const real = rename.getMockImplementation() as typeof fs.renameSync;
    rename.mockImplementationOnce((from, to) => {
      fs.unlinkSync(from); // what `git prune --expire=now` does to tmp_obj_* files
      return real(from, to);
    });
    const oid = writer.write('blob', Buffer.from('written twice\n'));
    expect(fs.existsSync(join(objects, oid.slice(0, 2), oid.slice(2)))).toBe(true);
    expect(fs.readdirSync(join(objects, oid.slice(0, 2))).filter((n) => n.startsWith('tmp_obj_'))).toEqual([]);
  });

  it('S1.6 writes again when prune removes the fan-out directory between our mkdir and open', () => {
    const { gitDir } = repo();
    const objects = join(gitDir, 'objects');
    const writer = new LooseObjectWriter(objects);
    const content = Buffer.from('fan-out dir removed twice\n');
    const open = vi.mocked(fs.openSync);
    const real = open.getMockImplementation() as typeof fs.openSync;
    let removals = 0;
    open.mockImplementation((path, flags, mode) => {
      if (String(path).includes('tmp_obj_') && removals < 2) {
        removals++;
        fs.rmSync(join(String(path), '..'), { recursive: true, force: true }); // prune's rmdir of an emptied fan-out dir
      }
      return real(path, flags, mode);
    });
    const oid = writer.write('blob', content);
    expect(removals).toBe(2);
    expect(git(join(gitDir, '..'), ['cat-file', '-p', oid], ENV)).toBe('fan-out dir removed twice');
  });
});

/** `git mktree` with `input` on stdin. */
describe('LooseObjectWriter beside git prune: mkdir (S1.6)', () => {
  it('S1.6 a fan-out mkdir that fails with ENOENT (prune removed it mid-mkdir) is not fatal', () => {
    const { gitDir } = repo();
    const writer = new LooseObjectWriter(join(gitDir, 'objects'));
    const mkdir = vi.mocked(fs.mkdirSync);
    mkdir.mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOENT: no such file or directory, mkdir'), { code: 'ENOENT' });
    });
    const oid = writer.write('blob', Buffer.from('mkdir raced\n'));
    expect(git(join(gitDir, '..'), ['cat-file', '-p', oid], ENV)).toBe('mkdir raced');
  });
});

function mktree(dir: string, input: string): string {
  return execFileSync('git', ['mktree'], { cwd: dir, input, encoding: 'utf8', env: { ...process.env, ...ENV } }).trim();
}
