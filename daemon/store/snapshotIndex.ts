/**
 * The daemon's picture of the working tree: a stat cache (like git's index) organised by
 * directory, with each directory's tree oid cached until something below it changes. A
 * checkpoint therefore re-hashes only changed files and rewrites only the trees above them (S1.4).
 */
import type { FileMode, FlatTree } from './flatTree.js';
import type { TreeEntry } from './treeCodec.js';

/** What the index remembers of one file. */
export interface FileRecord {
  mode: FileMode;
  /** Permission bits (st_mode & 0o777): git keeps only the exec bit, Shadow the rest (permsMetadata.ts). */
  perms: number;
  oid: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** When the content was hashed (ms); a file modified close to it may change without a stat change ("racy git"). */
  hashedAt: number;
}

/** The tree oid of an empty tree, git's well-known constant. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

interface DirNode {
  files: Map<string, FileRecord>;
  subdirs: Set<string>;
  /** Cached tree oid; null when something below changed. EMPTY_TREE when nothing is below. */
  tree: string | null;
}

/** Splits 'a/b/c' into ['a/b', 'c'] ('' is the root). */
export function splitPath(path: string): [string, string] {
  const i = path.lastIndexOf('/');
  return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}

/** Joins a directory ('' = root) and a name. */
export function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/** The in-memory stat cache and tree cache of a workspace. */
export class SnapshotIndex {
  private readonly dirs = new Map<string, DirNode>([['', { files: new Map(), subdirs: new Set(), tree: null }]]);
  private count = 0;

  /** Number of files tracked. */
  get size(): number {
    return this.count;
  }

  /** The record of a file, if tracked. */
  get(path: string): FileRecord | undefined {
    const [dir, name] = splitPath(path);
    return this.dirs.get(dir)?.files.get(name);
  }

  /** Whether `dir` is a tracked directory ('' always is). */
  hasDir(dir: string): boolean {
    return this.dirs.has(dir);
  }

  /** Names of files and subdirectories tracked directly in `dir`. */
  children(dir: string): { files: string[]; subdirs: string[] } {
    const node = this.dirs.get(dir);
    return node ? { files: [...node.files.keys()], subdirs: [...node.subdirs] } : { files: [], subdirs: [] };
  }

  /** Every tracked directory ('' included). */
  directories(): IterableIterator<string> {
    return this.dirs.keys();
  }

  /** Records (or replaces) a file; creates its parent directories. */
  set(path: string, record: FileRecord): void {
    const [dir, name] = splitPath(path);
    if (this.dirs.has(path)) this.removeDir(path);
    const node = this.ensureDir(dir);
    if (!node.files.has(name)) this.count++;
    node.files.set(name, record);
    this.invalidate(dir);
  }

  /** Forgets a file, or a directory and everything below it. Returns the file paths removed. */
  remove(path: string): string[] {
    if (this.dirs.has(path) && path !== '') return this.removeDir(path);
    const [dir, name] = splitPath(path);
    const node = this.dirs.get(dir);
    if (!node?.files.delete(name)) return [];
    this.count--;
    this.invalidate(dir);
    this.pruneEmpty(dir);
    return [path];
  }

  /** Every tracked file as a flat tree. */
  flat(): FlatTree {
    const out: FlatTree = new Map();
    for (const [dir, node] of this.dirs) {
      for (const [name, rec] of node.files) out.set(joinPath(dir, name), { mode: rec.mode, oid: rec.oid });
    }
    return out;
  }

  /** Calls `fn` for every tracked file, its directory and name apart (no path string is built). */
  eachFile(fn: (dir: string, name: string, rec: FileRecord) => void): void {
    for (const [dir, node] of this.dirs) for (const [name, rec] of node.files) fn(dir, name, rec);
  }

  /** Every tracked file with its record (for persisting the stat cache). */
  *entries(): IterableIterator<[string, FileRecord]> {
    for (const [dir, node] of this.dirs) {
      for (const [name, rec] of node.files) yield [joinPath(dir, name), rec];
    }
  }

  /**
   * The root tree oid, recomputing only directories marked changed; `writeTree` stores a tree
   * object and returns its oid. Directories with no files below them are left out, as git does.
   */
  rootTree(writeTree: (entries: TreeEntry[]) => string): string {
    return this.treeOf('', writeTree);
  }

  /** The tree oid last computed for `dir` (null: not computed since a change, or not tracked). */
  cachedTree(dir: string): string | null {
    return this.dirs.get(dir)?.tree ?? null;
  }

  /**
   * Forgets the cached tree oid of `dir` and of every directory above it, so the next
   * `rootTree` writes those trees again (their object may have been pruned by the user's git).
   */
  invalidateTree(dir: string): void {
    this.invalidate(dir);
  }

  private treeOf(dir: string, writeTree: (entries: TreeEntry[]) => string): string {
    const node = this.dirs.get(dir);
    if (!node) return EMPTY_TREE;
    if (node.tree !== null) return node.tree;
    const entries: TreeEntry[] = [];
    for (const [name, rec] of node.files) entries.push({ name, mode: rec.mode, oid: rec.oid });
    for (const name of node.subdirs) {
      const oid = this.treeOf(joinPath(dir, name), writeTree);
      if (oid !== EMPTY_TREE) entries.push({ name, mode: '40000', oid });
    }
    node.tree = entries.length === 0 ? EMPTY_TREE : writeTree(entries);
    return node.tree;
  }

  private ensureDir(dir: string): DirNode {
    let node = this.dirs.get(dir);
    if (node) return node;
    const [parent, name] = splitPath(dir);
    const parentNode = this.ensureDir(parent);
    if (parentNode.files.has(name)) {
      parentNode.files.delete(name);
      this.count--;
    }
    parentNode.subdirs.add(name);
    parentNode.tree = null;
    node = { files: new Map(), subdirs: new Set(), tree: null };
    this.dirs.set(dir, node);
    return node;
  }

  private removeDir(dir: string): string[] {
    const removed: string[] = [];
    const node = this.dirs.get(dir);
    if (!node) return removed;
    for (const sub of [...node.subdirs]) removed.push(...this.removeDir(joinPath(dir, sub)));
    for (const name of node.files.keys()) removed.push(joinPath(dir, name));
    this.count -= node.files.size;
    this.dirs.delete(dir);
    const [parent, name] = splitPath(dir);
    const parentNode = this.dirs.get(parent);
    if (parentNode) {
      parentNode.subdirs.delete(name);
      this.invalidate(parent);
      this.pruneEmpty(parent);
    }
    return removed;
  }

  /** Drops directory nodes left with nothing in them (never the root). */
  private pruneEmpty(dir: string): void {
    let current = dir;
    while (current !== '') {
      const node = this.dirs.get(current);
      if (!node || node.files.size > 0 || node.subdirs.size > 0) return;
      this.dirs.delete(current);
      const [parent, name] = splitPath(current);
      this.dirs.get(parent)?.subdirs.delete(name);
      current = parent;
    }
  }

  private invalidate(dir: string): void {
    let current: string | null = dir;
    while (current !== null) {
      const node = this.dirs.get(current);
      if (node) node.tree = null;
      current = current === '' ? null : splitPath(current)[0];
    }
  }
}
