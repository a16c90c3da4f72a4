/**
 * Reading checkpoints back: commits, trees, blobs (loose or packed, through isomorphic-git,
 * which is good at exactly this), resolving what a user types (`auto`, `auto~2`, an oid prefix)
 * and listing history across every shadow ref.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type IsomorphicGit from 'isomorphic-git';
import { ShadowError } from '../../shared/errors.js';
import type { DecodedCommit } from './commitCodec.js';
import { decodeCommit } from './commitCodec.js';
import { PackReader } from './packReader.js';
import type { FlatTree, FileMode } from './flatTree.js';
import type { RefStore } from './refStore.js';
import { SHADOW_REF_PREFIX } from './refStore.js';
import { EMPTY_TREE } from './snapshotIndex.js';
import { decodeTree } from './treeCodec.js';

/** A resolved checkpoint: its commit and the ref it was named through (if any). */
export interface ResolvedCheckpoint {
  commit: string;
  ref: string | null;
}

/** One commit of `log`. */
export interface LogItem extends DecodedCommit {
  commit: string;
  ref: string;
}

const FULL_OID = /^[0-9a-f]{40}$/;
const SHORT_OID = /^[0-9a-f]{4,40}$/;
/** Tries of a packed read before it counts as failed (a concurrent repack fails one, S1.6). */
const READ_ATTEMPTS = 3;

/**
 * isomorphic-git, loaded on first use: most reads are of loose objects (read directly), and its
 * import costs ~250 ms warm and far more with a cold page cache, on the daemon's start-up path.
 */
let gitModule: Promise<typeof IsomorphicGit> | null = null;
function isomorphicGit(): Promise<typeof IsomorphicGit> {
  gitModule ??= import('isomorphic-git').then((m) => m.default);
  return gitModule;
}

/** Reads a git store's objects and Shadow's history. */
export class CheckpointReader {
  private readonly flatCache = new Map<string, FlatTree>();
  /** Packed objects, read one at a time (isomorphic-git loads whole packs). */
  readonly packs: PackReader;

  constructor(
    private readonly gitDir: string,
    private readonly refs: RefStore,
  ) {
    this.packs = new PackReader(join(gitDir, 'objects'));
  }

  /** Where objects this store lacks are read from (the backup store, issue #10.8), or null. */
  fallback: CheckpointReader | null = null;

  /** Reads an object's content, checking its type; from the fallback store when this one lacks it. */
  async readObject(oid: string, type: 'commit' | 'tree' | 'blob'): Promise<Uint8Array> {
    try {
      return await this.readOwn(oid, type);
    } catch (err) {
      if (!this.fallback || (err as ShadowError).code !== 'CHECKPOINT_NOT_FOUND') throw err;
      return this.fallback.readObject(oid, type).catch(() => Promise.reject(err));
    }
  }

  /** Reads an object of this store, checking its type. */
  private async readOwn(oid: string, type: 'commit' | 'tree' | 'blob'): Promise<Uint8Array> {
    // Git knows the empty tree without storing it (a checkpoint of an empty workspace names it);
    // isomorphic-git did too, the loose and pack readers do not.
    if (oid === EMPTY_TREE && type === 'tree') return new Uint8Array(0);
    // The user's `git gc` repacks beside us (S1.6): a loose object moves into a new pack and is
    // then deleted, an old pack is deleted after a new one is written. A read that falls between
    // fails once and succeeds when retried from the top (loose, then a fresh pack listing).
    let result: { type: string; object: unknown } | null = null;
    for (let attempt = 1; !result; attempt++) {
      let failure: unknown = null;
      result = this.readLoose(oid, type) ?? this.packs.read(oid);
      if (!result && this.packs.unsupported) {
        try {
          // Only for packs PackReader cannot read (index v1, from git before 2007). A fresh cache
          // per call: isomorphic-git's cache object grows without bound (LIBRARIES.md).
          result = (await (await isomorphicGit()).readObject({ fs, gitdir: this.gitDir, oid, format: 'content', cache: {} })) as { type: string; object: unknown };
        } catch (err) {
          failure = err;
        }
      }
      if (result) break;
      if (attempt >= READ_ATTEMPTS) {
        if (failure === null || (failure as { code?: string }).code === 'NotFoundError') throw new ShadowError('CHECKPOINT_NOT_FOUND', `Object ${oid} is not in the store`, { oid, type });
        throw new ShadowError('OBJECT_CORRUPT', `Cannot read ${type} ${oid}: ${(failure as Error).message}`, { oid, type }, { cause: failure });
      }
      await new Promise((r) => setTimeout(r, 20 * attempt));
    }
    if (result.type !== type) throw new ShadowError('CHECKPOINT_NOT_FOUND', `${oid} is a ${result.type}, not a ${type}`, { oid, type, found: result.type });
    return result.object as Uint8Array;
  }

  /**
   * Reads a loose object directly (synchronous read, zlib inflate, SHA-1 check): ~50 times faster
   * than isomorphic-git's pako path, and it never waits behind the libuv thread pool, which a
   * watcher re-reading directories can keep busy during a restore (S5.9). Null when the object
   * is not loose (packed: PackReader reads it).
   */
  private readLoose(oid: string, type: string): { type: string; object: Uint8Array } | null {
    if (!FULL_OID.test(oid)) return null;
    let deflated: Buffer;
    try {
      deflated = fs.readFileSync(join(this.gitDir, 'objects', oid.slice(0, 2), oid.slice(2)));
    } catch {
      return null;
    }
    let raw: Buffer;
    try {
      raw = inflateSync(deflated);
    } catch (err) {
      throw new ShadowError('OBJECT_CORRUPT', `Cannot inflate ${type} ${oid}: ${(err as Error).message}`, { oid, type }, { cause: err });
    }
    const nul = raw.indexOf(0);
    const [found, size] = raw.subarray(0, Math.max(nul, 0)).toString('latin1').split(' ');
    const body = raw.subarray(nul + 1);
    if (nul < 0 || Number(size) !== body.length || createHash('sha1').update(raw).digest('hex') !== oid) {
      throw new ShadowError('OBJECT_CORRUPT', `Loose object ${oid} is corrupt (header or hash mismatch)`, { oid, type });
    }
    if (found !== type) throw new ShadowError('CHECKPOINT_NOT_FOUND', `${oid} is a ${found}, not a ${type}`, { oid, type, found });
    return { type: found, object: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  }

  /** A commit with its Shadow trailers. */
  async readCommit(oid: string): Promise<DecodedCommit> {
    return decodeCommit(await this.readObject(oid, 'commit'));
  }

  /** A blob's bytes. */
  async readBlob(oid: string): Promise<Uint8Array> {
    return this.readObject(oid, 'blob');
  }

  /** Every file of a tree, recursively (cached per tree oid: trees are immutable). */
  async readFlatTree(treeOid: string): Promise<FlatTree> {
    const cached = this.flatCache.get(treeOid);
    if (cached) return cached;
    const out: FlatTree = new Map();
    const walk = async (oid: string, prefix: string): Promise<void> => {
      for (const e of decodeTree(await this.readObject(oid, 'tree'))) {
        const path = prefix + e.name;
        if (e.mode === '40000') await walk(e.oid, `${path}/`);
        else if (e.mode === '100644' || e.mode === '100755' || e.mode === '120000') out.set(path, { mode: e.mode as FileMode, oid: e.oid });
        // gitlinks (160000) are not files Shadow restores
      }
    };
    await walk(treeOid, '');
    if (this.flatCache.size >= 8) this.flatCache.delete(this.flatCache.keys().next().value as string);
    this.flatCache.set(treeOid, out);
    return out;
  }

  /**
   * Resolves what a user typed: a shadow ref (`auto`, `manual`, `refs/shadow/x`), a commit oid
   * or unique prefix, optionally followed by `~N` (N first parents back).
   */
  async resolve(spec: string): Promise<ResolvedCheckpoint> {
    const m = /^(.+?)(?:~(\d+))?$/.exec(spec);
    const base = m?.[1] ?? spec;
    const back = Number(m?.[2] ?? 0);
    let commit: string | null = null;
    let ref: string | null = null;
    const qualified = base.startsWith('refs/') ? base : SHADOW_REF_PREFIX + base;
    if (qualified.startsWith(SHADOW_REF_PREFIX) && !qualified.includes('..')) {
      commit = this.refs.read(qualified);
      if (commit) ref = qualified;
    }
    if (!commit && SHORT_OID.test(base)) commit = FULL_OID.test(base) ? base : await this.expand(base);
    if (!commit) throw new ShadowError('CHECKPOINT_NOT_FOUND', `No checkpoint named ${spec}: not a shadow ref nor a commit id`, { checkpoint: spec });
    let current: string = commit;
    for (let i = 0; i < back; i++) {
      const parent: string | undefined = (await this.readCommit(current)).parents[0];
      if (!parent) throw new ShadowError('CHECKPOINT_NOT_FOUND', `${spec}: history of ${base} has only ${i + 1} checkpoint(s)`, { checkpoint: spec });
      current = parent;
    }
    await this.readCommit(current);
    return { commit: current, ref };
  }

  /** Commits reachable from shadow refs (one ref, or all), newest first. */
  async log(n: number, onlyRef?: string): Promise<LogItem[]> {
    const refs = onlyRef ? new Map([[onlyRef, this.refs.read(onlyRef)]]) : this.refs.list();
    const seen = new Set<string>();
    const items: LogItem[] = [];
    for (const [ref, head] of refs) {
      let oid = head;
      // Each ref's chain is newest first; reading n from each is enough for the merged top n.
      for (let i = 0; oid && i < n && !seen.has(oid); i++) {
        seen.add(oid);
        // One ref at a missing object (deleted by hand, pruned) must not hide every other one:
        // across all refs its chain just ends there. Asked for by name, it is an error.
        const c = onlyRef ? await this.readCommit(oid) : await this.readCommitOrNull(oid);
        if (!c) break;
        items.push({ ...c, commit: oid, ref });
        oid = c.parents[0] ?? null;
      }
    }
    items.sort((a, b) => b.time - a.time);
    return items.slice(0, n);
  }

  /** The newest head commit among shadow refs, except `exclude`d refs. */
  async newestHead(exclude: string[] = []): Promise<LogItem | null> {
    let best: LogItem | null = null;
    for (const [ref, oid] of this.refs.list()) {
      if (exclude.includes(ref)) continue;
      const c = await this.readCommitOrNull(oid);
      if (!c) continue;
      if (!best || c.time > best.time) best = { ...c, commit: oid, ref };
    }
    return best;
  }

  /** A commit, or null when it is missing or unreadable (other errors are thrown). */
  private async readCommitOrNull(oid: string): Promise<DecodedCommit | null> {
    try {
      return await this.readCommit(oid);
    } catch (err) {
      const code = (err as ShadowError).code;
      if (code === 'CHECKPOINT_NOT_FOUND' || code === 'OBJECT_CORRUPT') return null;
      throw err;
    }
  }

  /** The full id of the one object whose id starts with `prefix`, loose or packed; null if none. */
  private async expand(prefix: string): Promise<string | null> {
    const found = new Set<string>();
    const dir = join(this.gitDir, 'objects', prefix.slice(0, 2));
    try {
      for (const name of fs.readdirSync(dir)) if (name.length === 38 && name.startsWith(prefix.slice(2))) found.add(prefix.slice(0, 2) + name);
    } catch {
      // no loose object in that fan-out directory
    }
    for (const oid of this.packs.expand(prefix)) found.add(oid);
    if (found.size > 1) throw new ShadowError('CHECKPOINT_NOT_FOUND', `Commit id prefix ${prefix} is ambiguous: give more characters`, { checkpoint: prefix });
    return [...found][0] ?? null;
  }
}
