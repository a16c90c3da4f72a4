/**
 * A checkpoint's objects as one pack, and the merge of those small packs (S1.4 speed, S1.6 beside
 * the user's git, S1.7 store growth), with native git as the oracle: `git cat-file`, `verify-pack`
 * and `fsck` must accept every pack, and no object may ever go missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_MIN_PACK_OBJECTS, hashObject, LooseObjectWriter } from '../../daemon/store/gitObjects.js';
import { OwnPacks } from '../../daemon/store/ownPacks.js';
import { MERGE_AT, PackMaintenance } from '../../daemon/store/packMaintenance.js';
import { deletePacks, mergePacks } from '../../daemon/store/packMerge.js';
import { makeTempDir } from '../helpers/tempDir.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

interface Repo {
  dir: string;
  objects: string;
  packDir: string;
  git: (args: string[]) => string;
  writer: LooseObjectWriter;
  /** Packs written by the writer, in order. */
  written: string[];
}

function repo(): Repo {
  const t = makeTempDir();
  cleanups.push(t.cleanup);
  execFileSync('git', ['init', '-q', '--bare', t.dir]);
  const objects = join(t.dir, 'objects');
  const writer = new LooseObjectWriter(objects);
  const written: string[] = [];
  writer.onPackWritten = (p) => written.push(p);
  const git = (args: string[]) => execFileSync('git', ['--git-dir', t.dir, ...args], { encoding: 'utf8' }).trim();
  return { dir: t.dir, objects, packDir: join(objects, 'pack'), git, writer, written };
}

const packNames = (r: Repo): string[] =>
  existsSync(r.packDir)
    ? readdirSync(r.packDir)
        .filter((n) => n.endsWith('.idx'))
        .map((n) => n.slice(0, -4))
        .sort()
    : [];

/** Writes `n` distinct blobs (tagged by `tag`) in one collecting scope; returns their oids. */
async function checkpointOf(r: Repo, n: number, tag: string): Promise<string[]> {
  return r.writer.collecting(async () => Array.from({ length: n }, (_, i) => r.writer.write('blob', Buffer.from(`${tag} object ${i}\n`.repeat(1 + (i % 5))))));
}

function expectAllPresent(r: Repo, oids: string[]): void {
  const out = execFileSync('git', ['--git-dir', r.dir, 'cat-file', '--batch-check'], { input: oids.join('\n') + '\n', encoding: 'utf8' });
  expect(out.split('\n').filter((l) => l.endsWith(' missing'))).toEqual([]);
}

describe('a checkpoint writes its objects as one pack (gitObjects.ts collecting)', () => {
  it('many objects: one pack git verifies, no loose file, nothing on disk before the scope ends', async () => {
    const r = repo();
    let seenInside: boolean | null = null;
    const oids = await r.writer.collecting(async () => {
      const inner = Array.from({ length: 40 }, (_, i) => r.writer.write('blob', Buffer.from(`blob ${i}\n`)));
      seenInside = existsSync(join(r.objects, inner[0]!.slice(0, 2), inner[0]!.slice(2))) || packNames(r).length > 0;
      return inner;
    });
    expect(seenInside).toBe(false);
    expect(oids[3]).toBe(hashObject('blob', Buffer.from('blob 3\n')));
    expect(r.written).toHaveLength(1);
    expect(packNames(r)).toHaveLength(1);
    expect(r.git(['count-objects', '-v'])).toMatch(/^count: 0$/m);
    expect(r.git(['verify-pack', '-v', join(r.packDir, `${packNames(r)[0]}.idx`)])).toMatch(/: ok$/);
    expectAllPresent(r, oids);
  });

  it('few objects stay loose (a pack costs as much as a handful of loose files)', async () => {
    const r = repo();
    const oids = await checkpointOf(r, CHECKPOINT_MIN_PACK_OBJECTS - 1, 'few');
    expect(r.written).toEqual([]);
    expect(packNames(r)).toEqual([]);
    expect(r.git(['count-objects', '-v'])).toMatch(new RegExp(`^count: ${CHECKPOINT_MIN_PACK_OBJECTS - 1}$`, 'm'));
    expectAllPresent(r, oids);
  });

  it('the objects are written even when the scope throws (an index may already name them)', async () => {
    const r = repo();
    let oids: string[] = [];
    await expect(
      r.writer.collecting(async () => {
        oids = Array.from({ length: 20 }, (_, i) => r.writer.write('blob', Buffer.from(`thrown ${i}`)));
        throw new Error('scan failed');
      }),
    ).rejects.toThrow('scan failed');
    expectAllPresent(r, oids);
  });
});

describe('merging small packs (packMerge.ts, packMaintenance.ts)', () => {
  it('merges packs into one holding every object, deletes the old ones; git fsck and verify-pack are clean', async () => {
    const r = repo();
    const all: string[] = [];
    for (let k = 0; k < 5; k++) all.push(...(await checkpointOf(r, 20, `cp${k}`)));
    all.push(...(await checkpointOf(r, 20, 'cp0'))); // the same objects again: stored once in the merge
    const before = packNames(r);
    expect(before.length).toBeGreaterThanOrEqual(5);
    const m = mergePacks(r.objects, before);
    expect(m.merged.sort()).toEqual(before);
    expect(m.objects).toBe(new Set(all).size);
    deletePacks(r.objects, m.merged);
    expect(packNames(r)).toEqual([m.pack!.split('/').pop()!.slice(0, -5)]);
    expectAllPresent(r, all);
    expect(r.git(['verify-pack', '-v', m.pack!.replace(/\.pack$/, '.idx')])).toMatch(/: ok$/);
    expect(r.git(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
  });

  it('a damaged pack is left alone, never merged or deleted', async () => {
    const r = repo();
    await checkpointOf(r, 20, 'a');
    await checkpointOf(r, 20, 'b');
    const bad = await checkpointOf(r, 20, 'c');
    const [p1, p2, p3] = r.written as [string, string, string];
    const bytes = readFileSync(p3);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 30) ^ 0xff, bytes.length - 30); // inside the last entry: the pack checksum no longer holds
    writeFileSync(p3, bytes);
    const names = [p1, p2, p3].map((p) => p.split('/').pop()!.slice(0, -5));
    const m = mergePacks(r.objects, names);
    expect(m.merged.sort()).toEqual([names[0], names[1]].sort());
    deletePacks(r.objects, m.merged);
    expect(existsSync(p3)).toBe(true);
    expect(existsSync(p3.replace(/\.pack$/, '.idx'))).toBe(true);
    expect(bad).toHaveLength(20);
  });

  it(`merges only the packs Shadow listed, and only from ${MERGE_AT} small ones on; the user's packs stay`, async () => {
    const r = repo();
    // A user's pack: written by native git, never listed.
    const userBlob = execFileSync('git', ['--git-dir', r.dir, 'hash-object', '-w', '--stdin'], { input: 'the user\'s own blob\n', encoding: 'utf8' }).trim();
    r.git(['update-ref', 'refs/tags/users-blob', userBlob]);
    r.git(['repack', '-q', '-a', '-d']);
    const userPack = packNames(r)[0]!;
    const state = makeTempDir();
    cleanups.push(state.cleanup);
    const listFile = join(state.dir, 'packs.txt');
    const own = new OwnPacks(listFile, r.packDir);
    const logs: string[] = [];
    const maint = new PackMaintenance({
      objectsDir: r.objects,
      gitDir: r.dir,
      listFile,
      exclusive: async (fn) => fn(),
      relist: () => undefined,
      logger: { info: (_o, m) => logs.push(m), warn: (_o, m) => logs.push(m) },
    });
    cleanups.push(() => maint.close());
    r.writer.onPackWritten = (p) => own.add(p);
    const all: string[] = [];
    for (let k = 0; k < MERGE_AT - 1; k++) all.push(...(await checkpointOf(r, 15, `own${k}`)));
    expect(maint.mergeNow()).toBeNull(); // one short
    all.push(...(await checkpointOf(r, 15, 'last')));
    writeFileSync(listFile, readFileSync(listFile, 'utf8') + 'not a pack name\n../../etc/passwd\n');
    const merged = maint.mergeNow();
    expect(merged).not.toBeNull();
    expect(packNames(r).sort()).toEqual([userPack, merged!.split('/').pop()!.slice(0, -5)].sort());
    expect(own.list().map((p) => p.name)).toEqual([merged!.split('/').pop()!.slice(0, -5)]);
    expectAllPresent(r, [...all, userBlob]);
    expect(r.git(['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
    expect(logs).toContain('packs merged');
  });

  it("not while the user's git gc runs (its gc.pid): it repacks them itself", async () => {
    const r = repo();
    const listFile = join(r.dir, 'packs-list.txt');
    const own = new OwnPacks(listFile, r.packDir);
    r.writer.onPackWritten = (p) => own.add(p);
    for (let k = 0; k < MERGE_AT; k++) await checkpointOf(r, 15, `gc${k}`);
    writeFileSync(join(r.dir, 'gc.pid'), '12345 host\n');
    const maint = new PackMaintenance({ objectsDir: r.objects, gitDir: r.dir, listFile, exclusive: async (fn) => fn(), relist: () => undefined, logger: { info: () => undefined, warn: () => undefined } });
    cleanups.push(() => maint.close());
    expect(maint.mergeNow()).toBeNull();
    expect(packNames(r)).toHaveLength(MERGE_AT);
  });
});
