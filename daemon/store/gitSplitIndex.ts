/**
 * A split index (`core.splitIndex`, `git update-index --split-index`): `<gitDir>/index` holds only
 * the entries changed since `<gitDir>/sharedindex.<hex>` was written, and a `link` extension
 * saying which shared entries are deleted and which replaced (two EWAH bitmaps). Merged as git's
 * `merge_base_index` does: replacements take the shared entry's name (theirs is empty) in bitmap
 * order, deletions are dropped, the remaining entries are added, all sorted by name then stage.
 */
import { ShadowError } from '../../shared/errors.js';
import type { GitIndexContent, RawIndexEntry } from './gitIndex.js';
import { contentFromEntries, rawIndexEntries } from './gitIndex.js';

function corrupt(file: string, why: string): ShadowError {
  return new ShadowError('GIT_INDEX_CORRUPT', `split git index ${file} is damaged (${why}); it is not used`, { file });
}

/**
 * Decodes an EWAH bitmap (git's ewah_io.c layout: bit count, word count, 64-bit big-endian words,
 * position of the last run-length word) at `off`; returns the set bit positions and the offset
 * after it. Each run-length word: bit 0 the running bit, bits 1–32 the number of words of that bit,
 * bits 33–63 the number of literal words that follow it.
 */
export function readEwah(buf: Buffer, off: number, file: string): { bits: number[]; next: number } {
  if (off + 8 > buf.length) throw corrupt(file, 'truncated bitmap');
  const words = buf.readUInt32BE(off + 4);
  const body = off + 8;
  const next = body + words * 8 + 4;
  if (next > buf.length) throw corrupt(file, 'truncated bitmap');
  const bits: number[] = [];
  let pos = 0;
  let w = 0;
  while (w < words) {
    const high = buf.readUInt32BE(body + w * 8);
    const low = buf.readUInt32BE(body + w * 8 + 4);
    const run = (low >>> 1) + (high & 1) * 2 ** 31;
    const literals = high >>> 1;
    if (low & 1) for (let k = 0; k < run * 64; k++) bits.push(pos + k);
    pos += run * 64;
    w++;
    if (w + literals > words) throw corrupt(file, 'bitmap literal words past its end');
    for (let l = 0; l < literals; l++, w++) {
      const h = buf.readUInt32BE(body + w * 8);
      const lo = buf.readUInt32BE(body + w * 8 + 4);
      for (let c = 0; c < 32; c++) if ((lo >>> c) & 1) bits.push(pos + c);
      for (let c = 0; c < 32; c++) if ((h >>> c) & 1) bits.push(pos + 32 + c);
      pos += 64;
    }
  }
  return { bits, next };
}

/** Reads a split index (`split`, whose `link` extension body is `link`) with its shared index. */
export function readSplitIndex(split: Buffer, file: string, link: Buffer, readShared: (name: string) => Buffer): GitIndexContent {
  if (link.length < 20) throw corrupt(file, 'short link extension');
  const sharedName = link.toString('hex', 0, 20);
  const own = rawIndexEntries(split, file);
  // All zeroes: this index needs no shared one (git writes that right after --no-split-index).
  if (/^0+$/.test(sharedName)) return contentFromEntries(own.version, own.entries, own.sparse);
  const del = readEwah(link, 20, file);
  const rep = readEwah(link, del.next, file);
  let sharedBuf: Buffer;
  try {
    sharedBuf = readShared(`sharedindex.${sharedName}`);
  } catch (err) {
    throw new ShadowError('GIT_INDEX_CORRUPT', `split git index ${file} needs sharedindex.${sharedName}, which cannot be read: ${(err as Error).message}`, { file, shared: sharedName, errno: (err as NodeJS.ErrnoException).code });
  }
  const shared = rawIndexEntries(sharedBuf, `${file} (sharedindex.${sharedName})`);
  if (shared.link) throw corrupt(file, 'its shared index is split too');
  const base: (RawIndexEntry | null)[] = [...shared.entries];
  let used = 0;
  for (const pos of rep.bits) {
    const src = own.entries[used++];
    const dst = base[pos];
    if (!src || !dst || src.path !== '') throw corrupt(file, `bad replacement of shared entry ${pos}`);
    base[pos] = { ...src, path: dst.path };
  }
  for (const pos of del.bits) {
    if (pos >= base.length) throw corrupt(file, `deletion of shared entry ${pos} past its end`);
    base[pos] = null;
  }
  const merged = base.filter((e): e is RawIndexEntry => e !== null);
  for (const e of own.entries.slice(used)) {
    if (e.path === '') throw corrupt(file, 'an added entry has no name');
    // Added after the shared ones: the sort is stable, so a same-named stage-0 entry added here
    // wins over the shared one, as add_index_entry replaces it.
    merged.push(e);
  }
  return contentFromEntries(own.version, merged, own.sparse || shared.sparse);
}
