/**
 * Reads single objects out of git packfiles, the way git does: binary search in the pack's
 * `.idx` (v2), a positioned read of just that object, inflate, resolve deltas. isomorphic-git
 * loads a whole pack into memory to read one object (LIBRARIES.md, #291), and without a cache
 * shared across reads it does so for every object: 30 ms an object on a 20k-object pack, so a
 * restore of a few thousand files after the user's `git gc` took minutes, and a multi-GB pack
 * could not be read at all. The user's repository packs our objects beside theirs, so this is
 * the common case, not a corner.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { ShadowError } from '../../shared/errors.js';

/** An object read from a pack: its type and content. */
export interface PackedObject {
  type: 'commit' | 'tree' | 'blob' | 'tag';
  object: Uint8Array;
}

const TYPES = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' } as const;
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Delta chains in git packs are at most 50 deep by default (pack.depth); 4095 is git's hard cap. */
const MAX_DELTA_DEPTH = 4095;
/** Delta bases kept in memory between reads (a chain's bases are shared by its neighbours). */
const BASE_CACHE_BYTES = 32 * 1024 * 1024;

interface PackIndex {
  idxPath: string;
  packPath: string;
  /** Stat signature of the .idx: a rewritten index (same name) is re-read. */
  signature: string;
  buf: Buffer;
  count: number;
}

/** Reads objects from the packs of one objects directory. Not thread-safe; call from the store's queue or read-only paths. */
export class PackReader {
  private readonly packDir: string;
  private indexes: PackIndex[] | null = null;
  private readonly bases = new Map<string, PackedObject>();
  private baseBytes = 0;
  /** The pack directory's stat when last listed. */
  private listedSignature = '';
  /** Set when a pack index of another version than 2 was skipped. */
  unsupported = false;

  constructor(objectsDir: string) {
    this.packDir = join(objectsDir, 'pack');
  }

  /**
   * The object `oid` if a pack holds it, else null. A pack deleted or replaced under us (the
   * user's gc repacks) makes it re-list the packs once. Throws OBJECT_CORRUPT when the pack's
   * bytes do not hash to `oid`. Packs whose index is not version 2 are skipped and flagged in
   * `unsupported` (the caller may ask another reader).
   */
  read(oid: string): PackedObject | null {
    for (let attempt = 0; attempt < 2; attempt++) {
      // A miss re-lists only when the pack directory changed since the last listing.
      const indexes = this.indexes === null || (attempt === 1 && this.packDirSignature() !== this.listedSignature) ? this.listNow() : this.indexes;
      try {
        for (const idx of indexes) {
          const offset = findOffset(idx, oid);
          if (offset === null) continue;
          const obj = this.readAt(idx, offset, 0);
          const actual = createHash('sha1').update(`${obj.type} ${obj.object.length}\0`).update(obj.object).digest('hex');
          if (actual !== oid) throw new ShadowError('OBJECT_CORRUPT', `Pack ${idx.packPath} holds corrupt data for ${oid} (it hashes to ${actual})`, { oid, pack: idx.packPath });
          return obj;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.listedSignature = ''; // a pack vanished under us: list again
      }
    }
    return null;
  }

  /** Lists the pack directory again now (indexes of unchanged packs are kept parsed). */
  relist(): void {
    this.listNow();
  }

  /** Whether a pack of the last listing holds `oid` (callers `relist()` first when a repack may have run). */
  contains(oid: string): boolean {
    const want = oidBytes(oid);
    return want !== null && (this.indexes ?? this.listNow()).some((idx) => findOffsetOf(idx, want) !== null);
  }

  /** The `.pack` path of the listed pack holding `oid`, or null (the backup store links whole packs). */
  packOf(oid: string): string | null {
    const want = oidBytes(oid);
    return want === null ? null : ((this.indexes ?? this.listNow()).find((idx) => findOffsetOf(idx, want) !== null)?.packPath ?? null);
  }

  /** Full ids of packed objects whose id starts with `prefix` (even-or-odd hex, ≥ 2 chars); at most `limit`. */
  expand(prefix: string, limit = 2): string[] {
    if (!/^[0-9a-f]{2,40}$/.test(prefix)) return [];
    const found = new Set<string>();
    const low = Buffer.from(prefix.padEnd(40, '0'), 'hex');
    for (const { buf, count } of this.listNow()) {
      const first = low[0] as number;
      let lo = first === 0 ? 0 : buf.readUInt32BE(8 + (first - 1) * 4);
      let hi = buf.readUInt32BE(8 + first * 4);
      const names = INDEX_NAMES_OFFSET;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (buf.compare(low, 0, 20, names + mid * 20, names + mid * 20 + 20) < 0) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < count && found.size < limit; i++) {
        const name = buf.subarray(names + i * 20, names + i * 20 + 20).toString('hex');
        if (!name.startsWith(prefix)) break;
        found.add(name);
      }
    }
    return [...found];
  }

  private listNow(): PackIndex[] {
    this.listedSignature = this.packDirSignature();
    this.indexes = this.listIndexes();
    return this.indexes;
  }

  private packDirSignature(): string {
    try {
      const st = statSync(this.packDir);
      return `${st.ino}:${st.mtimeMs}`;
    } catch {
      return 'none';
    }
  }

  private listIndexes(): PackIndex[] {
    let names: string[];
    try {
      names = readdirSync(this.packDir).filter((n) => n.startsWith('pack-') && n.endsWith('.idx'));
    } catch {
      return [];
    }
    const old = new Map((this.indexes ?? []).map((i) => [i.idxPath, i]));
    const out: PackIndex[] = [];
    for (const name of names) {
      const idxPath = join(this.packDir, name);
      const packPath = idxPath.slice(0, -4) + '.pack';
      try {
        const st = statSync(idxPath);
        const signature = `${st.ino}:${st.size}:${st.mtimeMs}`;
        const known = old.get(idxPath);
        const idx = known && known.signature === signature ? known : loadIndex(idxPath, packPath, signature);
        if (idx) out.push(idx);
        else this.unsupported = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted since the listing
        throw err;
      }
    }
    // Packs changed: cached bases are keyed by pack path and offset, which a new pack may reuse.
    if (out.length !== old.size || out.some((i) => old.get(i.idxPath) !== i)) this.dropBases();
    return out;
  }

  private readAt(idx: PackIndex, offset: number, depth: number): PackedObject {
    const key = `${idx.packPath}:${offset}`;
    const cached = this.bases.get(key);
    if (cached) return cached;
    if (depth > MAX_DELTA_DEPTH) throw corrupt(idx, offset, 'delta chain too deep');
    const fd = openSync(idx.packPath, 'r');
    let obj: PackedObject;
    try {
      const fileSize = fstatSync(fd).size;
      const head = Buffer.alloc(Math.min(32, fileSize - offset));
      readSync(fd, head, 0, head.length, offset);
      let pos = 0;
      let byte = head[pos++] as number;
      const type = (byte >> 4) & 7;
      let size = byte & 15;
      for (let shift = 4; byte & 0x80; shift += 7) {
        byte = head[pos++] as number;
        size += (byte & 0x7f) * 2 ** shift;
      }
      let base: PackedObject | null = null;
      if (type === OFS_DELTA) {
        byte = head[pos++] as number;
        let back = byte & 0x7f;
        while (byte & 0x80) {
          byte = head[pos++] as number;
          back = (back + 1) * 128 + (byte & 0x7f);
        }
        if (back <= 0 || back > offset) throw corrupt(idx, offset, 'bad delta base offset');
        base = this.readAt(idx, offset - back, depth + 1);
      } else if (type === REF_DELTA) {
        const baseOid = head.subarray(pos, pos + 20).toString('hex');
        pos += 20;
        const baseOffset = findOffset(idx, baseOid);
        base = baseOffset === null ? this.read(baseOid) : this.readAt(idx, baseOffset, depth + 1);
        if (!base) throw corrupt(idx, offset, `delta base ${baseOid} not found`);
      } else if (!(type in TYPES)) {
        throw corrupt(idx, offset, `unknown object type ${type}`);
      }
      // The compressed length is not stored: read zlib's worst case for `size` bytes (or up to
      // the pack's trailer); inflate stops at the end of the stream.
      const bound = size + Math.ceil(size / 8) + Math.ceil(size / 64) + 64;
      const start = offset + pos;
      const data = Buffer.alloc(Math.max(0, Math.min(bound, fileSize - 20 - start)));
      readSync(fd, data, 0, data.length, start);
      let inflated: Buffer;
      try {
        inflated = inflateSync(data);
      } catch (err) {
        throw corrupt(idx, offset, `inflate failed: ${(err as Error).message}`);
      }
      if (inflated.length !== size) throw corrupt(idx, offset, `inflated ${inflated.length} bytes, header says ${size}`);
      obj = base ? { type: base.type, object: applyDelta(base.object, inflated, () => corrupt(idx, offset, 'bad delta')) } : { type: TYPES[type as 1 | 2 | 3 | 4], object: inflated };
    } finally {
      closeSync(fd);
    }
    if (depth > 0) this.keepBase(key, obj);
    return obj;
  }

  private keepBase(key: string, obj: PackedObject): void {
    if (obj.object.length > BASE_CACHE_BYTES / 4) return;
    this.bases.set(key, obj);
    this.baseBytes += obj.object.length;
    for (const [k, v] of this.bases) {
      if (this.baseBytes <= BASE_CACHE_BYTES) break;
      this.bases.delete(k);
      this.baseBytes -= v.object.length;
    }
  }

  private dropBases(): void {
    this.bases.clear();
    this.baseBytes = 0;
  }
}

/** Byte offset of the sorted object names in a v2 pack index (after magic, version, fan-out). */
export const INDEX_NAMES_OFFSET = 8 + 1024;

/**
 * The object count of a version 2 pack index (git writes v2 since 2007), or null when `buf` is
 * not one or is too short to hold its names.
 */
export function indexObjectCount(buf: Buffer): number | null {
  if (buf.length < INDEX_NAMES_OFFSET || buf.readUInt32BE(0) !== 0xff744f63 || buf.readUInt32BE(4) !== 2) return null;
  const count = buf.readUInt32BE(8 + 255 * 4);
  return buf.length < INDEX_NAMES_OFFSET + count * 20 ? null : count;
}

/** The parsed index, or null when it is not a version 2 index. */
function loadIndex(idxPath: string, packPath: string, signature: string): PackIndex | null {
  const buf = readFileSync(idxPath);
  const count = indexObjectCount(buf);
  return count === null ? null : { idxPath, packPath, signature, buf, count };
}

/** Binary search of `oid` in the index's sorted object names; its pack offset or null. */
function findOffset(idx: PackIndex, oid: string): number | null {
  const want = oidBytes(oid);
  return want === null ? null : findOffsetOf(idx, want);
}

/** The 20 bytes of a lowercase hex object id, or null when `oid` is not one. */
function oidBytes(oid: string): Buffer | null {
  return /^[0-9a-f]{40}$/.test(oid) ? Buffer.from(oid, 'hex') : null;
}

/**
 * `findOffset` for an id already in binary. The names are compared byte by byte here: a guard's
 * check of 30 000 new blobs does ≈ 500 000 comparisons, and `Buffer.compare` with ranges costs
 * its argument checks each time (a quarter of a 30 000-file checkpoint's synchronous tail, S2.2).
 */
function findOffsetOf(idx: PackIndex, want: Buffer): number | null {
  const { buf, count } = idx;
  const first = want[0] as number;
  let lo = first === 0 ? 0 : buf.readUInt32BE(8 + (first - 1) * 4);
  let hi = buf.readUInt32BE(8 + first * 4);
  const names = INDEX_NAMES_OFFSET;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = names + mid * 20;
    // Negative when the index's name at `mid` sorts before the wanted one (byte 0 is equal: fan-out).
    let cmp = 0;
    for (let k = 1; k < 20 && cmp === 0; k++) cmp = (buf[at + k] as number) - (want[k] as number);
    if (cmp === 0) {
      const offsets = names + count * 24;
      const small = buf.readUInt32BE(offsets + mid * 4);
      if (!(small & 0x80000000)) return small;
      return Number(buf.readBigUInt64BE(offsets + count * 4 + (small & 0x7fffffff) * 8));
    }
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return null;
}

/** Applies a git delta (copy/insert instructions) to `base`. */
export function applyDelta(base: Uint8Array, delta: Buffer, bad: () => Error): Buffer {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= delta.length) throw bad();
      const b = delta[pos++] as number;
      value += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return value;
    }
  };
  if (varint() !== base.length) throw bad();
  const out = Buffer.alloc(varint());
  let at = 0;
  while (pos < delta.length) {
    const op = delta[pos++] as number;
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) off += (delta[pos++] as number) * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) len += (delta[pos++] as number) * 2 ** (8 * i);
      if (len === 0) len = 0x10000;
      if (off + len > base.length || at + len > out.length) throw bad();
      out.set(base.subarray(off, off + len), at);
      at += len;
    } else if (op > 0) {
      if (pos + op > delta.length || at + op > out.length) throw bad();
      delta.copy(out, at, pos, pos + op);
      at += op;
      pos += op;
    } else {
      throw bad();
    }
  }
  if (at !== out.length) throw bad();
  return out;
}

function corrupt(idx: PackIndex, offset: number, why: string): ShadowError {
  return new ShadowError('OBJECT_CORRUPT', `Cannot read the object at offset ${offset} of ${idx.packPath}: ${why}`, { pack: idx.packPath, offset });
}
