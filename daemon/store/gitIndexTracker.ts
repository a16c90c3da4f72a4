/**
 * The user's git index as the capture set sees it (S1.1): tracked paths (captured even when
 * ignored) and the oids git hashed, reusable while a file's stat matches git's record. The file
 * is parsed again only when its own stat changes (the user ran git add, checkout, commit...), so
 * a checkpoint costs one stat of it. An index that cannot be read (damaged, a missing shared
 * index, an unknown version or required extension) is not used at all: `problem` says why, and the capture falls back to the
 * ignore rules alone and hashes every file.
 */
import type { Stats } from 'node:fs';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { WireError } from '../../shared/errors.js';
import { ShadowError } from '../../shared/errors.js';
import type { FileMode } from './flatTree.js';
import type { GitIndexContent } from './gitIndex.js';
import { findGitIndexPath, gitIndexEntry, NO_STAGE_0, parseGitIndex } from './gitIndex.js';
import type { IgnoreRules } from './ignoreRules.js';

const EMPTY: GitIndexContent = { version: 0, buf: Buffer.alloc(0), paths: [], offsets: new Uint32Array(0), sparse: false };
const MODE_BITS: Record<FileMode, number> = { '100644': 0o100644, '100755': 0o100755, '120000': 0o120000 };

/** What changed in the tracked set at a reload: paths to examine again. */
export interface TrackedChange {
  /** Paths that became tracked or stopped being tracked. */
  changed: string[];
}

/** Loads and caches `<gitDir>/index`. */
export class GitIndexTracker {
  private content: GitIndexContent = EMPTY;
  private statKey = '';
  /** The index file's mtime: an entry modified at or after it is racy (git's rule), never reused. */
  private indexMtimeMs = 0;
  /** Bumped whenever the tracked set changes. */
  generation = 0;
  /** Why the index is not used, or null. */
  problem: WireError | null = null;

  /** `file`: the index path, or null for a plain directory (nothing tracked). */
  constructor(readonly file: string | null) {}

  /**
   * Re-reads the index if its stat changed. Returns the paths whose tracked status changed (to be
   * examined again), or null when nothing changed. Errors other than absence become `problem`.
   */
  reload(): TrackedChange | null {
    if (this.file === null) return null;
    let st: Stats | undefined;
    try {
      st = statSync(this.file, { throwIfNoEntry: false });
    } catch (err) {
      return this.fail(new ShadowError('GIT_INDEX_CORRUPT', `git index ${this.file} cannot be read: ${(err as Error).message}`, { file: this.file, errno: (err as NodeJS.ErrnoException).code }), 'stat-error');
    }
    const key = st ? `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}` : 'absent';
    if (key === this.statKey) return null;
    this.statKey = key;
    if (!st) return this.use(EMPTY, 0, null);
    let content: GitIndexContent;
    try {
      const dir = dirname(this.file);
      content = parseGitIndex(readFileSync(this.file), this.file, (name) => readFileSync(join(dir, name)));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return this.use(EMPTY, 0, null);
      if (err instanceof ShadowError) return this.fail(err, key);
      return this.fail(new ShadowError('GIT_INDEX_CORRUPT', `git index ${this.file} cannot be read: ${(err as Error).message}`, { file: this.file, errno: code }), key);
    }
    return this.use(content, st.mtimeMs, null);
  }

  private fail(err: ShadowError, key: string): TrackedChange | null {
    this.statKey = key;
    return this.use(EMPTY, 0, err.toWire());
  }

  private use(content: GitIndexContent, mtimeMs: number, problem: WireError | null): TrackedChange | null {
    const before = this.content;
    this.content = content;
    this.indexMtimeMs = mtimeMs;
    this.problem = problem;
    // Both lists are sorted: one merge pass finds the paths in only one of them.
    const changed: string[] = [];
    const [x, y] = [before.paths, content.paths];
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      const a = x[i];
      const b = y[j];
      if (a === b) {
        i++;
        j++;
      } else if (b === undefined || (a !== undefined && a < b)) {
        changed.push(a as string);
        i++;
      } else {
        changed.push(b);
        j++;
      }
    }
    if (changed.length === 0) return null;
    this.generation++;
    return { changed };
  }

  /** Whether git tracks `path` (a file or symlink; any stage). */
  has(path: string): boolean {
    return tracks(this.content, path);
  }

  /** How many paths are tracked. */
  get size(): number {
    return this.content.paths.length;
  }

  /** Every tracked path, sorted. */
  private get sorted(): string[] {
    return this.content.paths;
  }

  /** Tracked paths strictly below directory `dir` ('' = all). */
  under(dir: string): string[] {
    if (dir === '') return [...this.sorted];
    const prefix = `${dir}/`;
    const out: string[] = [];
    // In a sorted list the paths sharing a prefix are contiguous, starting at the first >= it.
    for (let i = lowerBound(this.sorted, prefix); i < this.sorted.length; i++) {
      const p = this.sorted[i] as string;
      if (!p.startsWith(prefix)) break;
      out.push(p);
    }
    return out;
  }

  /** Whether anything below directory `dir` is tracked. */
  hasUnder(dir: string): boolean {
    if (dir === '') return this.sorted.length > 0;
    const prefix = `${dir}/`;
    const i = lowerBound(this.sorted, prefix);
    return i < this.sorted.length && (this.sorted[i] as string).startsWith(prefix);
  }

  /**
   * The oid git recorded for `path` if the file's stat is the one git recorded with it and the
   * entry is not racy (modified at or after the index was written: same-timestamp writes could
   * hide a change); otherwise null and the caller hashes.
   */
  reusableOid(path: string, st: Stats, mode: FileMode): string | null {
    const i = findGitIndexPath(this.content, path);
    const off = i < 0 ? NO_STAGE_0 : (this.content.offsets[i] as number);
    if (off === NO_STAGE_0) return null;
    const e = gitIndexEntry(this.content.buf, off);
    if (e.unusable || e.mode !== MODE_BITS[mode]) return null;
    if (st.size !== e.size || st.size > 0xffffffff) return null;
    if (st.mtimeMs !== e.mtimeMs || st.ctimeMs !== e.ctimeMs || st.ino % 0x100000000 !== e.ino) return null;
    if (e.mtimeMs >= this.indexMtimeMs) return null;
    return e.oid;
  }

  private hidden: { key: string; paths: string[] } | null = null;

  /**
   * Tracked paths inside an ignored directory: the watcher does not watch ignored directories, so
   * no event ever reports them, and each refresh stats them instead (they are few). Recomputed
   * only when the tracked set or the ignore rules changed (one verdict per directory).
   */
  hiddenTracked(ignore: IgnoreRules): readonly string[] {
    const key = `${this.generation}:${ignore.generation}`;
    if (this.hidden?.key === key) return this.hidden.paths;
    const verdicts = new Map<string, boolean>([['', false]]);
    const hiddenDir = (dir: string): boolean => {
      const known = verdicts.get(dir);
      if (known !== undefined) return known;
      const slash = dir.lastIndexOf('/');
      const v = hiddenDir(slash < 0 ? '' : dir.slice(0, slash)) || ignore.isIgnored(dir, true);
      verdicts.set(dir, v);
      return v;
    };
    const paths: string[] = [];
    for (const p of this.content.paths) {
      const slash = p.lastIndexOf('/');
      if (slash > 0 && hiddenDir(p.slice(0, slash))) paths.push(p);
    }
    this.hidden = { key, paths };
    return paths;
  }

  /** The index file's mtime (ms), 0 when none: the moment git's recorded oids were known. */
  get writtenAtMs(): number {
    return this.indexMtimeMs;
  }
}

function lowerBound(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function tracks(content: GitIndexContent, path: string): boolean {
  return findGitIndexPath(content, path) >= 0;
}
