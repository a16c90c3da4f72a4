/**
 * Writing git objects the way git does, because isomorphic-git's writes are not atomic
 * (LIBRARIES.md): hash with node:crypto, deflate with zlib, write a temp file in the object's
 * directory and rename it into place, so a crash never leaves a half-written object.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

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
  write(type: ObjectType, content: Uint8Array): string {
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
      mkdirSync(dir, { recursive: true });
      this.fanoutMade.add(dir);
    }
    const tmp = join(dir, `tmp_obj_${randomBytes(6).toString('hex')}`);
    let fd: number;
    try {
      fd = openSync(tmp, 'wx', 0o444);
    } catch (err) {
      // `git gc`/`git prune-packed` remove fan-out directories they emptied, behind our cache.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(dir, { recursive: true });
      fd = openSync(tmp, 'wx', 0o444);
    }
    try {
      writeSync(fd, deflated);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(tmp, this.pathOf(oid));
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // the temp file is ours; if it is already gone there is nothing to clean
      }
      throw err;
    }
    this.known.add(oid);
    this.written++;
    return oid;
  }

  /** Records that an object exists (read from the store), so `has` skips the stat. */
  remember(oid: string): void {
    this.known.add(oid);
  }

  private pathOf(oid: string): string {
    return join(this.objectsDir, oid.slice(0, 2), oid.slice(2));
  }
}
