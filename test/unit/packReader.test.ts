/**
 * PackReader against native git (S1.6: the user's `git gc` packs Shadow's objects beside theirs):
 * every object of packs git wrote — whole, OFS_DELTA and REF_DELTA chains — reads back byte for
 * byte as `git cat-file --batch` gives it; repacks under the reader are followed; a corrupt pack is
 * reported as OBJECT_CORRUPT, never returned as content.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readSync, writeSync, closeSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PackReader } from '../../daemon/store/packReader.js';
import { makeTempDir } from '../helpers/tempDir.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_NOSYSTEM: '1' };

/** A repository with history that packs into deltas: a big file edited over 12 commits, binaries, a symlink. */
function repoWithHistory(): { dir: string; git: (args: string[]) => string } {
  const t = makeTempDir();
  cleanups.push(t.cleanup);
  const dir = t.dir;
  const git = (args: string[]): string => execFileSync('git', args, { cwd: dir, env: ENV, encoding: 'utf8', maxBuffer: 1 << 28 });
  git(['init', '-q', '-b', 'main']);
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i}: ${'abcdefghij'.repeat(1 + (i % 5))}`);
  mkdirSync(join(dir, 'src'));
  for (let c = 0; c < 12; c++) {
    lines[(c * 97) % lines.length] = `edited in commit ${c}`;
    lines.push(`appended ${c}`);
    writeFileSync(join(dir, 'src', 'big.txt'), lines.join('\n'));
    writeFileSync(join(dir, 'src', `small${c}.txt`), `small ${c}\n`);
    writeFileSync(join(dir, `bin${c % 3}.dat`), Buffer.from(Array.from({ length: 5000 + c }, (_, i) => (i * 7 + c) & 0xff)));
    git(['add', '-A']);
    git(['commit', '-q', '-m', `commit ${c}`]);
  }
  symlinkSync('src/big.txt', join(dir, 'link'));
  writeFileSync(join(dir, 'empty'), '');
  git(['add', '-A']);
  git(['commit', '-q', '-m', 'link and empty']);
  return { dir, git };
}

/** Every object git knows, as git gives it: oid → [type, content]. */
function allObjects(dir: string): Map<string, [string, Buffer]> {
  const list = execFileSync('git', ['cat-file', '--batch-all-objects', '--batch-check=%(objectname)'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
  const out = execFileSync('git', ['cat-file', '--batch'], { cwd: dir, input: list.join('\n') + '\n', maxBuffer: 1 << 28 });
  const objects = new Map<string, [string, Buffer]>();
  let pos = 0;
  while (pos < out.length) {
    const nl = out.indexOf(10, pos);
    const [oid, type, size] = out.subarray(pos, nl).toString().split(' ') as [string, string, string];
    const content = out.subarray(nl + 1, nl + 1 + Number(size));
    objects.set(oid, [type, Buffer.from(content)]);
    pos = nl + 1 + Number(size) + 1;
  }
  return objects;
}

describe('PackReader (S1.6)', () => {
  for (const [label, config] of [
    ['OFS_DELTA packs (git default)', []],
    ['REF_DELTA packs (repack.useDeltaBaseOffset=false)', ['-c', 'repack.useDeltaBaseOffset=false']],
  ] as const) {
    it(`reads every object of ${label} exactly as git cat-file does`, () => {
      const { dir, git } = repoWithHistory();
      git([...config, 'repack', '-a', '-d', '-q', '--depth=20', '--window=50']);
      const verify = git(['verify-pack', '-v', ...readdirSync(join(dir, '.git/objects/pack')).filter((n) => n.endsWith('.idx')).map((n) => `.git/objects/pack/${n}`)]);
      expect(verify).toMatch(/chain length = [1-9]/); // deltas exist, so the delta paths are exercised
      const reader = new PackReader(join(dir, '.git/objects'));
      const objects = allObjects(dir);
      expect(objects.size).toBeGreaterThan(40);
      for (const [oid, [type, content]] of objects) {
        const got = reader.read(oid);
        expect(got?.type, oid).toBe(type);
        expect(Buffer.from(got?.object ?? []).equals(content), `${oid} content`).toBe(true);
      }
      expect(reader.read('0'.repeat(40))).toBeNull();
      expect(reader.unsupported).toBe(false);
    });
  }

  it('expand: a unique prefix gives the one packed id; a shared prefix gives two (ambiguous)', () => {
    const { dir, git } = repoWithHistory();
    git(['repack', '-a', '-d', '-q']);
    const reader = new PackReader(join(dir, '.git/objects'));
    const oids = [...allObjects(dir).keys()].sort();
    const head = git(['rev-parse', 'HEAD']).trim();
    expect(reader.expand(head.slice(0, 12))).toEqual([head]);
    expect(reader.expand(head)).toEqual([head]);
    // The longest prefix two of the ids share: it must match both.
    let shared = '';
    for (let i = 1; i < oids.length; i++) {
      const a = oids[i - 1] as string;
      const b = oids[i] as string;
      let n = 0;
      while (a[n] === b[n]) n++;
      if (n > shared.length) shared = a.slice(0, n);
    }
    if (shared.length >= 2) expect(reader.expand(shared).length).toBe(2);
    expect(reader.expand('ffffffffffff')).toEqual(oids.filter((o) => o.startsWith('ffffffffffff')));
    expect(reader.expand('not-hex')).toEqual([]);
  });

  it('follows the user repacking under it (old pack deleted, new one written)', () => {
    const { dir, git } = repoWithHistory();
    git(['repack', '-a', '-d', '-q']);
    const reader = new PackReader(join(dir, '.git/objects'));
    const objects = [...allObjects(dir)];
    expect(reader.read(objects[0]?.[0] as string)).not.toBeNull();
    writeFileSync(join(dir, 'new.txt'), 'after the first read\n');
    git(['add', '-A']);
    git(['commit', '-q', '-m', 'more']);
    git(['gc', '-q', '--prune=now']);
    for (const [oid, [, content]] of allObjects(dir)) expect(Buffer.from(reader.read(oid)?.object ?? []).equals(content), oid).toBe(true);
  });

  it('a flipped byte in a pack is OBJECT_CORRUPT, never wrong content', () => {
    const { dir, git } = repoWithHistory();
    git(['repack', '-a', '-d', '-q', '--depth=0']);
    const pack = readdirSync(join(dir, '.git/objects/pack')).find((n) => n.endsWith('.pack')) as string;
    const objects = [...allObjects(dir)];
    const fd = openSync(join(dir, '.git/objects/pack', pack), 'r+');
    const b = Buffer.alloc(1);
    // Somewhere in the middle of the object data (past the 12-byte header).
    const at = 12 + 4000;
    readSync(fd, b, 0, 1, at);
    b[0] = (b[0] as number) ^ 0x5a;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
    const reader = new PackReader(join(dir, '.git/objects'));
    let corrupt = 0;
    for (const [oid, [, content]] of objects) {
      try {
        const got = reader.read(oid);
        expect(Buffer.from(got?.object ?? []).equals(content), oid).toBe(true);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('OBJECT_CORRUPT');
        corrupt++;
      }
    }
    expect(corrupt).toBeGreaterThan(0);
  });
});
