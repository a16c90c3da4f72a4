/**
 * Writes many objects at once as one git pack (v2) and its index (v2), as `git index-pack` and
 * `git fast-import` do, instead of one loose file each. A cold start hashes every file of the
 * workspace: 10 000 loose objects cost 10 000 file creations and renames (about 2 s of metadata
 * writes on ext4, more than reading the files), a pack costs two files. The pack is written to a
 * temp name and renamed, then its index likewise: git (and PackReader) see a pack only through its
 * index, so a crash leaves at worst an orphan temp file, never a half pack in use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { ObjectType } from './gitObjects.js';

const TYPE_CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3 };
/** Size of one write when writing a pack file. */
const WRITE_CHUNK = 1024 * 1024;

/** An object collected for the pack. */
export interface PackObject {
  oid: string;
  type: ObjectType;
  content: Uint8Array;
}

/** One object as stored in a pack (no delta): its type-and-size header, then the zlib stream. */
export interface PackEntry {
  oid: string;
  bytes: Buffer;
}

/**
 * From this many objects on, a batch deflates each object as it is added. A deflate costs ≈ 20 µs
 * of fixed overhead even for 15 bytes (a zlib handle per call): 30 000 tiny files deflated at
 * write time held the event loop for ≈ 1 s (S2.2); added one by one inside a sliced scan, the cost
 * is spread between its yields. Fewer objects may still be written loose, which needs only the content.
 */
const DEFLATE_ON_ADD_FROM = 12;

/** Collects objects in memory and writes them as one pack. */
export class PackBatch {
  private objects: PackObject[] = [];
  /** Pack entry bytes of `objects[i]`, once deflated (see DEFLATE_ON_ADD_FROM). */
  private packed: Buffer[] = [];
  private readonly oids = new Set<string>();
  /** Bytes of content collected. */
  bytes = 0;

  constructor(private readonly objectsDir: string) {}

  /** Objects collected so far. */
  get count(): number {
    return this.objects.length;
  }

  /** Whether `oid` is already collected. */
  has(oid: string): boolean {
    return this.oids.has(oid);
  }

  /** Adds an object (its `oid` computed by the caller); a repeated oid is ignored. */
  add(type: ObjectType, oid: string, content: Uint8Array): void {
    if (this.oids.has(oid)) return;
    this.oids.add(oid);
    this.objects.push({ oid, type, content });
    this.bytes += content.length;
    if (this.objects.length >= DEFLATE_ON_ADD_FROM) this.deflatePending();
  }

  /** Takes the collected objects out of the batch, which is then empty. */
  take(): PackObject[] {
    const objects = this.objects;
    this.objects = [];
    this.packed = [];
    this.oids.clear();
    this.bytes = 0;
    return objects;
  }

  /**
   * Writes the collected objects as `objects/pack/pack-<sha>.pack` and `.idx`, empties the batch
   * and returns the pack's path (null when empty). Throws on I/O errors; the batch is emptied
   * either way, so the caller must treat its objects as not written.
   */
  write(): string | null {
    this.deflatePending();
    const packed = this.packed;
    const entries: PackEntry[] = this.take().map((o, i) => ({ oid: o.oid, bytes: packed[i] as Buffer }));
    return writePack(this.objectsDir, entries);
  }

  private deflatePending(): void {
    for (let i = this.packed.length; i < this.objects.length; i++) this.packed.push(packEntryBytes(this.objects[i] as PackObject));
  }
}

/** An object's bytes in a pack: its type-and-size header, then its zlib-deflated content. */
function packEntryBytes(o: PackObject): Buffer {
  return Buffer.concat([entryHeader(TYPE_CODES[o.type], o.content.length), deflateSync(o.content, { level: 1 })]);
}

/**
 * Writes `entries` as `objects/pack/pack-<sha>.pack` and `.idx` (pack first, index last: a pack
 * is seen only through its index) and returns the pack's path; null when there are none.
 */
export function writePack(objectsDir: string, entries: PackEntry[]): string | null {
  if (entries.length === 0) return null;
  const dir = join(objectsDir, 'pack');
  mkdirSync(dir, { recursive: true });
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(entries.length, 8);
  const sha = createHash('sha1').update(header);
  const offsets: number[] = [];
  let offset = header.length;
  for (const e of entries) {
    offsets.push(offset);
    sha.update(e.bytes);
    offset += e.bytes.length;
  }
  const packSha = sha.digest();
  const name = `pack-${packSha.toString('hex')}`;
  const tmpPack = join(dir, `tmp_pack_${randomBytes(6).toString('hex')}`);
  writeWhole(tmpPack, [header, ...entries.map((e) => e.bytes), packSha]);
  const index = buildIndex(entries, offsets, packSha);
  const tmpIdx = join(dir, `tmp_idx_${randomBytes(6).toString('hex')}`);
  try {
    writeWhole(tmpIdx, [index]);
    renameSync(tmpPack, join(dir, `${name}.pack`));
    renameSync(tmpIdx, join(dir, `${name}.idx`));
  } catch (err) {
    for (const f of [tmpPack, tmpIdx]) {
      try {
        unlinkSync(f);
      } catch {
        // not created, or already renamed
      }
    }
    throw err;
  }
  return join(dir, `${name}.pack`);
}

/** A pack entry's header: type in bits 4–6 of the first byte, the size in 4 + 7·n bits, little end first. */
function entryHeader(type: number, size: number): Buffer {
  const out: number[] = [];
  let c = (type << 4) | (size & 15);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    out.push(c | 0x80);
    c = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  out.push(c);
  return Buffer.from(out);
}

/** The v2 index: fan-out, sorted names, CRC-32 of each entry, offsets, pack and index checksums. */
function buildIndex(entries: PackEntry[], offsets: number[], packSha: Buffer): Buffer {
  const order = entries.map((e, i) => ({ oid: e.oid, crc: crc32(e.bytes), offset: offsets[i] as number }));
  // Lowercase hex sorts as the bytes do; comparing strings is far cheaper than Buffer.compare.
  order.sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  const n = order.length;
  const large = order.filter((o) => o.offset >= 0x80000000);
  const idx = Buffer.alloc(8 + 1024 + n * 28 + large.length * 8 + 40);
  idx.writeUInt32BE(0xff744f63, 0);
  idx.writeUInt32BE(2, 4);
  const fanout = new Array<number>(256).fill(0);
  for (const o of order) {
    const b = parseInt(o.oid.slice(0, 2), 16);
    fanout[b] = (fanout[b] as number) + 1;
  }
  let total = 0;
  for (let b = 0; b < 256; b++) {
    total += fanout[b] as number;
    idx.writeUInt32BE(total, 8 + b * 4);
  }
  const names = 8 + 1024;
  const crcs = names + n * 20;
  const offs = crcs + n * 4;
  const bigOffs = offs + n * 4;
  let big = 0;
  order.forEach((o, i) => {
    idx.write(o.oid, names + i * 20, 20, 'hex');
    idx.writeUInt32BE(o.crc >>> 0, crcs + i * 4);
    if (o.offset < 0x80000000) {
      idx.writeUInt32BE(o.offset, offs + i * 4);
    } else {
      idx.writeUInt32BE((0x80000000 | big) >>> 0, offs + i * 4);
      idx.writeBigUInt64BE(BigInt(o.offset), bigOffs + big * 8);
      big++;
    }
  });
  const tail = bigOffs + big * 8;
  packSha.copy(idx, tail);
  createHash('sha1').update(idx.subarray(0, tail + 20)).digest().copy(idx, tail + 20);
  return idx;
}

/** Writes `parts` to a new file, joined into ≈ 1 MiB writes (a pack of tiny objects has 30 000 parts). */
function writeWhole(path: string, parts: Buffer[]): void {
  const fd = openSync(path, 'wx', 0o444);
  try {
    let chunk: Buffer[] = [];
    let size = 0;
    const writeChunk = (): void => {
      const buf = chunk.length === 1 ? (chunk[0] as Buffer) : Buffer.concat(chunk, size);
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
      chunk = [];
      size = 0;
    };
    for (const p of parts) {
      chunk.push(p);
      size += p.length;
      if (size >= WRITE_CHUNK) writeChunk();
    }
    if (size > 0) writeChunk();
  } finally {
    closeSync(fd);
  }
}
