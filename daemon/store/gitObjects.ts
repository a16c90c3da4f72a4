/**
 * Writing git objects the way git does, because isomorphic-git's writes are not atomic
 * (LIBRARIES.md): hash with node:crypto, deflate with zlib, write a temp file in the object's
 * directory and rename it into place, so a crash never leaves a half-written object.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { access, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';
import { faultPoint } from '../faultPoint.js';

const deflateAsync = promisify(deflate);

/** Queued writes past which a bulk scan waits (memory bound: content is held until written). */
const BACKLOG_OBJECTS = 256;
const BACKLOG_BYTES = 64 * 1024 * 1024;

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
  /** Oids known to exist (written or seen) in this process: saves a stat per object. */
  private readonly known = new Set<string>();
  private readonly fanoutMade = new Set<string>();
  /** Objects actually written (for stats and tests). */
  written = 0;
  /** Objects queued by `writeLater` and not yet on disk, by oid. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Bytes of content held by queued writes. */
  private inflightBytes = 0;
  /** Who waits in `easeBacklog`, and for how low. */
  private lowWater: { objects: number; bytes: number; reached: Promise<void>; resolve: () => void } | null = null;
  /** The first failure of a queued write, reported by the next `flush`. */
  private failure: unknown = null;
  /** Temp names: a random prefix per writer and a counter (randomBytes per object cost ~8 µs). */
  private readonly tmpPrefix = `tmp_obj_${randomBytes(6).toString('hex')}_`;
  private tmpSeq = 0;

  constructor(objectsDir: string) {
    this.objectsDir = objectsDir;
  }

  /** Whether the object is known to exist as a loose object (packed objects are not looked up: a duplicate loose copy is harmless). */
  has(oid: string): boolean {
    if (this.known.has(oid)) return true;
    if (existsSync(this.pathOf(oid))) {
      this.known.add(oid);
      return true;
    }
    return false;
  }

  /** Hashes and writes `content` unless it already exists; returns its oid. */
  write(type: ObjectType, content: Uint8Array, retries = 0): string {
    const oid = hashObject(type, content);
    // Ask the disk, not the `known` cache: the user's `git gc --prune`/`git prune` deletes loose
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
    this.known.add(oid);
    this.written++;
    return oid;
  }

  /**
   * Hashes `content` now and returns its oid, but deflates and writes it on libuv's thread pool,
   * so a bulk scan (a cold start hashes every file) overlaps its reads with the writes. The object
   * is on disk only once `flush()` has resolved: callers must flush before naming it in a commit
   * or a ref. Same atomicity as `write`: temp file, then rename.
   */
  writeLater(type: ObjectType, content: Uint8Array): string {
    const oid = hashObject(type, content);
    if (this.inflight.has(oid)) return oid;
    this.inflightBytes += content.length;
    const job = this.writeAsync(type, oid, content)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.inflight.delete(oid);
        this.inflightBytes -= content.length;
        if (this.lowWater && !this.backlogged(this.lowWater.objects, this.lowWater.bytes)) {
          this.lowWater.resolve();
          this.lowWater = null;
        }
      });
    this.inflight.set(oid, job);
    return oid;
  }

  /** Whether queued writes hold more than `maxObjects` objects or `maxBytes` of content. */
  backlogged(maxObjects = BACKLOG_OBJECTS, maxBytes = BACKLOG_BYTES): boolean {
    return this.inflight.size > maxObjects || this.inflightBytes > maxBytes;
  }

  /**
   * Resolves once the queued writes are down to half the backlog limits: the reader waits while
   * the thread pool keeps writing, rather than stopping both until everything is written. Failures
   * are left for `flush`.
   */
  async easeBacklog(): Promise<void> {
    if (!this.backlogged()) return;
    if (!this.lowWater) {
      let resolve: () => void = () => undefined;
      const reached = new Promise<void>((r) => (resolve = r));
      this.lowWater = { objects: BACKLOG_OBJECTS / 2, bytes: BACKLOG_BYTES / 2, reached, resolve };
    }
    await this.lowWater.reached;
  }

  /** Resolves once every object queued by `writeLater` is on disk; rejects with the first failure. */
  async flush(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight.values()]);
    if (this.failure !== null) {
      const failure = this.failure;
      this.failure = null;
      throw failure;
    }
  }

  private async writeAsync(type: ObjectType, oid: string, content: Uint8Array, retries = 0): Promise<void> {
    const path = this.pathOf(oid);
    if (await exists(path)) return;
    const deflated = await deflateAsync(Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]), { level: 1 });
    const dir = join(this.objectsDir, oid.slice(0, 2));
    if (!this.fanoutMade.has(dir)) {
      await mkdir(dir, { recursive: true }).catch(ignoreEnoent);
      this.fanoutMade.add(dir);
    }
    const tmp = this.tmpPath(dir);
    for (let i = 0; ; i++) {
      try {
        await writeFile(tmp, deflated, { flag: 'wx', mode: 0o444 });
        break;
      } catch (err) {
        // `git gc`/`git prune` remove fan-out directories they emptied, behind our cache, and
        // may do so again between our mkdir and our open (S1.6).
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || i >= 5) throw err;
        await mkdir(dir, { recursive: true }).catch(ignoreEnoent);
      }
    }
    faultPoint('object.temp-written');
    try {
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      // As in `write`: a concurrent `git prune --expire=now` removed our temp file or its directory.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && retries < 5) return this.writeAsync(type, oid, content, retries + 1);
      throw err;
    }
    this.known.add(oid);
    this.written++;
  }

  private tmpPath(dir: string): string {
    return join(dir, `${this.tmpPrefix}${++this.tmpSeq}`);
  }

  /** Records that an object exists (read from the store), so `has` skips the stat. */
  remember(oid: string): void {
    this.known.add(oid);
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

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
