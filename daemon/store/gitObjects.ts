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

  constructor(objectsDir: string) {
    this.objectsDir = objectsDir;
    this.batch = new PackBatch(objectsDir);
  }

  /** Hashes and writes `content` unless it already exists; returns its oid. */
  write(type: ObjectType, content: Uint8Array, retries = 0): string {
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
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && retries < 5) return this.write(type, content, retries + 1);
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
   * Writes the objects collected by `writeLater`: as one pack, or loose when they are few (a
   * checkpoint's handful of new files must not leave a pack each time). Throws on failure; the
   * collected objects are then dropped, and the caller must not commit what named them.
   */
  async flush(): Promise<void> {
    if (this.batch.count === 0) return;
    if (this.batch.count < MIN_PACK_OBJECTS) {
      for (const o of this.batch.take()) this.write(o.type, o.content);
      return;
    }
    const count = this.batch.count;
    this.batch.write();
    this.written += count;
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
