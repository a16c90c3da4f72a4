/**
 * Merges small packs Shadow wrote (one per checkpoint of many objects, gitObjects.ts) into one, so
 * the pack directory does not grow by a pack per checkpoint: every object lookup, ours and git's,
 * searches each pack's index. Entries are copied as they are (Shadow's packs hold no deltas), after
 * checking each pack against its index (checksums, CRCs, counts); a pack that fails any check is
 * left as it is. The caller lists the merged pack before deleting the old ones (ownPacks.ts).
 * Nothing is dropped: in a git repository the user's own index or commits may name a blob that
 * exists only in one of our packs (git does not write an object it finds already stored).
 */
import { createHash } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { INDEX_NAMES_OFFSET, indexObjectCount } from './packReader.js';
import type { PackEntry } from './packWriter.js';
import { writePack } from './packWriter.js';

/** What a merge did. */
export interface MergeResult {
  /** Path of the pack written, or null when fewer than two packs could be merged. */
  pack: string | null;
  /** Names of the packs whose objects it holds (to delete once it is listed). */
  merged: string[];
  /** Objects in the new pack. */
  objects: number;
  /** Objects left out (not in `keep`). */
  dropped: number;
}

/**
 * Merges the packs named `names` (`pack-<sha>`) of `objectsDir` into a new pack; deletes nothing.
 * With `keep` (a plain workspace's gc, where the store is Shadow's alone), objects not in it are
 * left out, and one pack is enough to rewrite; the new pack is null when nothing is kept.
 */
export function mergePacks(objectsDir: string, names: string[], keep?: ReadonlySet<string>): MergeResult {
  const packDir = join(objectsDir, 'pack');
  const entries = new Map<string, PackEntry>();
  const merged: string[] = [];
  let dropped = 0;
  for (const name of names) {
    const read = readPackEntries(join(packDir, `${name}.pack`), join(packDir, `${name}.idx`));
    if (!read) continue;
    merged.push(name);
    for (const e of read) {
      if (keep && !keep.has(e.oid)) dropped++;
      else if (!entries.has(e.oid)) entries.set(e.oid, e);
    }
  }
  if (merged.length < (keep ? 1 : 2)) return { pack: null, merged: [], objects: 0, dropped: 0 };
  const pack = writePack(objectsDir, [...entries.values()]);
  return { pack, merged, objects: entries.size, dropped };
}

/** The object ids a pack's v2 index lists (empty when unreadable or another version). */
export function packObjectIds(idxPath: string): string[] {
  let idx: Buffer;
  try {
    idx = readFileSync(idxPath);
  } catch {
    return [];
  }
  const count = indexObjectCount(idx) ?? 0;
  return Array.from({ length: count }, (_, i) => idx.toString('hex', INDEX_NAMES_OFFSET + i * 20, INDEX_NAMES_OFFSET + i * 20 + 20));
}

/** Deletes packs (`pack-<sha>`): the index first, so no reader finds a pack without its data. */
export function deletePacks(objectsDir: string, names: string[]): void {
  for (const name of names) {
    for (const ext of ['.idx', '.pack']) {
      try {
        unlinkSync(join(objectsDir, 'pack', `${name}${ext}`));
      } catch (err) {
        // The user's `git repack -d` may have deleted it first.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
}

/**
 * The entries of a pack with a v2 index, each as stored (header + zlib stream); null when the
 * pack cannot be copied entry by entry: unreadable, a checksum, CRC or count that does not hold,
 * a delta entry, or 64-bit offsets (a large pack, not one of a checkpoint's).
 */
function readPackEntries(packPath: string, idxPath: string): PackEntry[] | null {
  let pack: Buffer;
  let idx: Buffer;
  try {
    pack = readFileSync(packPath);
    idx = readFileSync(idxPath);
  } catch {
    return null;
  }
  const count = indexObjectCount(idx);
  if (count === null) return null;
  const names = INDEX_NAMES_OFFSET;
  const crcs = names + count * 20;
  const offs = crcs + count * 4;
  if (idx.length !== offs + count * 4 + 40) return null; // 64-bit offsets follow, or a bad size
  if (pack.length < 32 || pack.toString('latin1', 0, 4) !== 'PACK' || pack.readUInt32BE(4) !== 2 || pack.readUInt32BE(8) !== count) return null;
  const trailer = pack.subarray(pack.length - 20);
  if (!createHash('sha1').update(pack.subarray(0, pack.length - 20)).digest().equals(trailer)) return null;
  if (!idx.subarray(idx.length - 40, idx.length - 20).equals(trailer)) return null;
  const rows = Array.from({ length: count }, (_, i) => ({
    oid: idx.toString('hex', names + i * 20, names + i * 20 + 20),
    crc: idx.readUInt32BE(crcs + i * 4),
    offset: idx.readUInt32BE(offs + i * 4),
  }));
  rows.sort((a, b) => a.offset - b.offset);
  const out: PackEntry[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as (typeof rows)[number];
    const end = i + 1 < rows.length ? (rows[i + 1] as (typeof rows)[number]).offset : pack.length - 20;
    if (row.offset < 12 || end <= row.offset) return null;
    const bytes = pack.subarray(row.offset, end);
    const type = ((bytes[0] as number) >> 4) & 7;
    if (type < 1 || type > 4) return null; // a delta (6, 7) cannot move to another pack as it is
    if (crc32(bytes) >>> 0 !== row.crc) return null;
    out.push({ oid: row.oid, bytes: Buffer.from(bytes) });
  }
  return out;
}
