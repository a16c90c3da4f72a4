/**
 * Writing git objects the way git does, because isomorphic-git's writes are not atomic
 * (LIBRARIES.md): hash with node:crypto, deflate with zlib, write a temp file in the object's
 * directory and rename it into place, so a crash never leaves a half-written object. Bulk scans
 * collect their objects (`writeLater`) and write them as one pack (packWriter.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { faultPoint } from '../faultPoint.js';
import { PackBatch } from './packWriter.js';

/** Content collected by `writeLater` past which it is written out (memory bound). */
const PACK_BYTES = 32 * 1024 * 1024;
/** Fewer collected objects than this are written loose: many tiny packs slow every reader. */
const MIN_PACK_OBJECTS = 64;
/**
 * A checkpoint's objects (`collecting`) go into one pack from this many on: measured here, 40 loose
 * objects cost ≈ 4.6 ms and a pack of them ≈ 1.5 ms, 8 cost the same either way (docs/BENCHMARKS.md).
 * The engine merges these small packs in the background (packMerge.ts).
 */
export const CHECKPOINT_MIN_PACK_OBJECTS = 12;

/** Git object types Shadow writes. */
export type ObjectType = 'blob' | 'tree' | 'commit';

/** The git object id of `content` as an object of `type`. */
export function hashObject(type: ObjectType, content: Uint8Array): string {
  const h = createHash('sha1');
  h.update(`${type} ${content.length}\0`);
  h.update(content);
  return h.digest('hex');
}

/** Writes loose objects into an objects directory, atomically, skipping those already there. */
export class LooseObjectWriter {
  private readonly objectsDir: string;
  private readonly fanoutMade = new Set<string>();
  /** Objects actually written (for stats and tests). */
  written = 0;
  /** Objects collected by `writeLater`, written by `flush` (as one pack when there are many). */
  private readonly batch: PackBatch;
  /** Temp names: a random prefix per writer and a counter (randomBytes per object cost ~8 µs). */
  private readonly tmpPrefix = `tmp_obj_${randomBytes(6).toString('hex')}_`;
  private tmpSeq = 0;
  /** Depth of `collecting` scopes: while above 0, `write` collects like `writeLater`. */
  private collectDepth = 0;
  /** Called with the path of every pack written (the engine keeps a list of its own packs). */
  onPackWritten: (packPath: string) => void = () => undefined;

  constructor(objectsDir: string) {
    this.objectsDir = objectsDir;
    this.batch = new PackBatch(objectsDir);
  }

  /**
   * Hashes and writes `content` unless it already exists; returns its oid. Inside `collecting`,
   * the object is on disk only once the outermost scope has ended.
   */
  write(type: ObjectType, content: Uint8Array): string {
    return this.collectDepth > 0 ? this.writeLater(type, content) : this.writeLoose(type, content);
  }

  /** Hashes and writes `content` as a loose object now, unless it already exists; returns its oid. */
  private writeLoose(type: ObjectType, content: Uint8Array, retries = 0): string {
    const oid = hashObject(type, content);
    // Ask the disk, never a memory of writing it: the user's `git gc --prune`/`git prune` deletes loose
    // objects that are unreachable (e.g. a blob hashed for a `diff` but never committed), and a
    // commit must never name an object we only remember writing (S1.6). A packed copy is not
    // looked up: a duplicate loose copy is harmless.
    if (existsSync(this.pathOf(oid))) return oid;
    const header = Buffer.from(`${type} ${content.length}\0`);
    const deflated = deflateSync(Buffer.concat([header, content]), { level: 1 });
    const dir = join(this.objectsDir, oid.slice(0, 2));
    if (!this.fanoutMade.has(dir)) {
      makeFanout(dir);
      this.fanoutMade.add(dir);
    }
    const tmp = this.tmpPath(dir);
    const fd = openTemp(tmp, dir);
    try {
      writeSync(fd, deflated);
    } finally {
      closeSync(fd);
    }
    faultPoint('object.temp-written');
    try {
      renameSync(tmp, this.pathOf(oid));
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // the temp file is ours; if it is already gone there is nothing to clean
      }
      // `git prune --expire=now` (the user's `git gc --prune=now`) deletes tmp_obj_* files and the
      // fan-out directories it emptied, ours included, between our write and rename: write again (S1.6).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && retries < 5) return this.writeLoose(type, content, retries + 1);
      throw err;
    }
    this.written++;
    return oid;
  }

  /**
   * Hashes `content` now and returns its oid, but writes it only at `flush()`: a bulk scan (a
   * cold start hashes every file) collects its blobs and writes them as one pack (packWriter.ts)
   * rather than one loose file each. The object is on disk only once `flush()` has returned:
   * callers must flush before naming it in a commit or a ref.
   */
  writeLater(type: ObjectType, content: Uint8Array): string {
    const oid = hashObject(type, content);
    if (!this.batch.has(oid) && !existsSync(this.pathOf(oid))) this.batch.add(type, oid, content);
    return oid;
  }

  /** Whether the objects collected by `writeLater` hold more than `maxBytes` of content. */
  backlogged(maxBytes = PACK_BYTES): boolean {
    return this.batch.bytes > maxBytes;
  }

  /**
   * Runs `fn` with every `write` collected, then writes what was collected: as one pack from
   * CHECKPOINT_MIN_PACK_OBJECTS objects on, else loose. A checkpoint's ≈ 40 new blobs and trees
   * then cost two file creations instead of 40. Nests; `flush` inside only writes when the batch
   * passes its memory bound. The objects are written even when `fn` throws (an index may name them).
   */
  async collecting<T>(fn: () => Promise<T>): Promise<T> {
    this.collectDepth++;
    try {
      return await fn();
    } finally {
      this.collectDepth--;
      if (this.collectDepth === 0) this.writeBatch(CHECKPOINT_MIN_PACK_OBJECTS);
    }
  }

  /**
   * Writes the objects collected by `writeLater`: as one pack, or loose when they are few (a
   * checkpoint's handful of new files must not leave a pack each time). Throws on failure; the
   * collected objects are then dropped, and the caller must not commit what named them. Inside
   * `collecting`, only a batch past its memory bound is written (the scope writes the rest).
   */
  async flush(): Promise<void> {
    if (this.collectDepth > 0 && !this.backlogged()) return;
    this.writeBatch(MIN_PACK_OBJECTS);
  }

  private writeBatch(minPack: number): void {
    if (this.batch.count === 0) return;
    if (this.batch.count < minPack) {
      for (const o of this.batch.take()) this.writeLoose(o.type, o.content);
      return;
    }
    const count = this.batch.count;
    const pack = this.batch.write();
    this.written += count;
    if (pack) this.onPackWritten(pack);
  }

  private tmpPath(dir: string): string {
    return join(dir, `${this.tmpPrefix}${++this.tmpSeq}`);
  }

  private pathOf(oid: string): string {
    return join(this.objectsDir, oid.slice(0, 2), oid.slice(2));
  }
}

/**
 * `mkdir -p` of a fan-out directory. A concurrent `git prune` may remove it again while Node's
 * recursive mkdir checks what it found (ENOENT): the open that follows retries (S1.6).
 */
function makeFanout(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    ignoreEnoent(err);
  }
}

function ignoreEnoent(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

/**
 * Creates a temp object file. `git gc`/`git prune` remove fan-out directories they emptied,
 * behind our cache, and may do so again between our mkdir and our open (S1.6): retry.
 */
function openTemp(tmp: string, dir: string): number {
  for (let i = 0; ; i++) {
    try {
      return openSync(tmp, 'wx', 0o444);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || i >= 5) throw err;
      makeFanout(dir);
    }
  }
}
