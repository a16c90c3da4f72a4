/**
 * Brings the SnapshotIndex in line with the disk: for a whole tree (rescan), a directory, or
 * single paths the watcher reported. Stats first; hashes (node:crypto) only what changed; writes
 * each new blob as it is hashed. Never follows symlinks.
 */
import type { Stats } from 'node:fs';
import { lstatSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { exceedsPathMax, fsPath, OS_PATH_MAX, pathByteLength } from '../../shared/pathBytes.js';
import type { FileMode } from './flatTree.js';
import type { GitIndexTracker } from './gitIndexTracker.js';
import type { LooseObjectWriter } from './gitObjects.js';
import { IgnoreFileChanges } from './ignoreFileChanges.js';
import type { IgnoreRules } from './ignoreRules.js';
import { firstNonDirectory } from './realDirectory.js';
import type { DirEntry } from './readDirEntries.js';
import { readDirEntries } from './readDirEntries.js';
import { makeSlicer } from './scanSlicer.js';
import type { FileRecord, SnapshotIndex } from './snapshotIndex.js';
import { permBits } from './permsMetadata.js';
import { joinPath, splitPath } from './snapshotIndex.js';

/**
 * A file modified within this window of being hashed may change again without its stat
 * changing (timestamps are coarse): such "racy" entries are re-hashed at the next look.
 */
export const RACY_WINDOW_MS = 3000;

/** Counters of one scan, for status, logs and tests. */
export interface ScanStats {
  /** Files whose content was read and hashed. */
  hashed: number;
  /** Entries stat'ed. */
  statted: number;
  /** Files whose oid was taken from the user's git index (stat unchanged since git hashed them). */
  reused: number;
}

/** Scans a workspace into an index. */
export class WorkspaceScanner {
  /** Files present but not capturable (too large, unreadable): path → reason (S1.8). */
  readonly uncaptured = new Map<string, string>();
  /** Told each directory whose entries were read (the watcher then owes it no re-read). */
  onDirRead: (dir: string, entries: readonly DirEntry[]) => void = () => undefined;
  /** Counters since the last `resetStats`. */
  stats: ScanStats = { hashed: 0, statted: 0, reused: 0 };
  /**
   * The user's git index (S1.1): its tracked files are captured even when ignored, including
   * inside ignored directories, and its oids are reused while a file's stat matches git's.
   */
  tracked: GitIndexTracker | null = null;
  /**
   * Paths whose oid came from the git index since the last `settleReuse`: one dropped from the
   * index meanwhile (the object guard found its blob missing and the file not matching it) is
   * hashed the next time, never given git's oid again.
   */
  private reusedPaths = new Set<string>();
  /**
   * Files with other hard links: a write through another name raises no event for this one, so
   * each refresh stat-checks them (`restatPaths`). Few in real trees, so cheap (S1.4).
   */
  readonly multiLinked = new Set<string>();
  /** `.gitignore` files changed during the scan: their directories are rescanned under the new rules. */
  private readonly ignoreChanges = new IgnoreFileChanges();
  /** Nesting depth of bulk scans (their blobs are collected by `writeLater` and written as a pack). */
  private bulkDepth = 0;
  /** The root's real path: a path below it whose realpath differs goes through a symlink. */
  private readonly realRoot: string;

  constructor(
    private readonly root: string,
    private readonly index: SnapshotIndex,
    private readonly writer: LooseObjectWriter,
    private readonly ignore: IgnoreRules,
    private readonly maxFileSize: number,
  ) {
    this.realRoot = realpathSync.native(root);
  }

  /** Zeroes the counters. */
  resetStats(): void {
    this.stats = { hashed: 0, statted: 0, reused: 0 };
  }

  /**
   * Full stat-only rescan against the cache (re-hashing only changed or racy files), yielding
   * like `scanDeferred`.
   */
  async rescanAll(shouldStop: () => boolean = () => false): Promise<void> {
    await this.scanDeferred([''], shouldStop);
  }

  /**
   * Scans whole each directory in `pending` (rescanAll's work list, or the new directories that
   * scanPaths / scanDirsShallow deferred), yielding to the event loop (scanSlicer.ts). After a
   * storm (S2.2: 30 000 new files) or a big directory moved in (one event), the scan hashes for
   * many seconds; done in one synchronous go it froze status, hello and cancel requests for all
   * that time (and a daemon starting on a large tree did not answer its auto-starting client
   * within its deadline). Only the store's queue mutates the index, so yielding inside a queued
   * operation lets read-only requests in and nothing else. `shouldStop` is asked at each yield:
   * when it says so (shutdown) the scan throws SHUTTING_DOWN rather than make SIGTERM wait past
   * gracefulShutdownTimeout (S2.4); the caller must then write no commit, since the index is only
   * partly refreshed.
   */
  async scanDeferred(pending: string[], shouldStop: () => boolean = () => false): Promise<void> {
    await this.inBulk(() => this.scanDeferredNow(pending, shouldStop));
  }

  private async scanDeferredNow(pending: string[], shouldStop: () => boolean): Promise<void> {
    const slice = makeSlicer(this.root, this.writer, shouldStop);
    while (pending.length > 0) {
      const dir = pending.pop() as string;
      // Rules may have changed since it was deferred (scanPaths settles .gitignore edits before
      // returning), and scanDir does not check the directory it is given.
      if (dir !== '' && this.ignore.isIgnoredDeep(dir, true)) {
        this.hideDir(dir);
        continue;
      }
      await this.scanDirSliced(dir, true, pending, slice);
      await slice();
    }
    this.settleIgnoreChanges();
  }

  /**
   * `scanDir` with `defer`, whose files are then examined one by one, yielding between them: a
   * directory of a few hundred new files takes a reading, hashing and deflating of each (≈ 1 ms
   * apiece, far more when the disk is busy), too long to hold the event loop in one go (S2.2).
   * After a yield, `dir` is checked again: the user may have replaced it by a symlink meanwhile,
   * and nothing may be read through one (S1.8).
   */
  private async scanDirSliced(dir: string, recursive: boolean, defer: string[], slice: () => Promise<boolean>): Promise<void> {
    const files: string[] = [];
    this.scanDir(dir, recursive, defer, files);
    for (const path of files) {
      if (await slice()) {
        const notDir = firstNonDirectory(this.root, this.realRoot, dir, (p) => this.lstat(p));
        if (notDir !== null) return this.replacedDir(dir, notDir, true);
      }
      this.examinePath(path);
    }
  }

  /**
   * Runs a bulk scan whose blobs are collected (`writeLater`) and written as one pack: when it ends, all
   * of them are on disk, so the caller may commit what the index now names. Nests.
   */
  private async inBulk(fn: () => Promise<void>): Promise<void> {
    this.bulkDepth++;
    let failed = false;
    try {
      await fn();
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      this.bulkDepth--;
      if (this.bulkDepth === 0) {
        // Even when the scan failed, no write may still be in flight once it has returned.
        const flushed = this.writer.flush();
        if (failed) await flushed.catch(() => undefined);
        else await flushed;
      }
    }
  }

  /**
   * Re-examines paths reported by the watcher or touched by a restore: each is a file (re-hashed
   * even when its stat looks unchanged), a directory (scanned whole if new, its entries otherwise)
   * or gone. With `defer`, new directories below are pushed there for `scanDeferred` instead of
   * scanned now. Yields between paths like `scanDeferred`: up to the storm threshold's thousand
   * changed files, or a restore's thousands, are re-hashed here, too long for one go (S2.2).
   */
  async scanPaths(paths: Iterable<string>, defer?: string[], shouldStop: () => boolean = () => false): Promise<void> {
    const slice = makeSlicer(this.root, this.writer, shouldStop);
    for (const path of paths) {
      this.scanPath(path, true, defer);
      await slice();
    }
    this.settleIgnoreChanges();
  }

  /**
   * Examines tracked files the watcher cannot report (inside ignored, hence unwatched, directories)
   * or whose tracked status just changed: not forced, the stat cache decides. Yields like scanPaths.
   */
  async scanTracked(paths: Iterable<string>, shouldStop: () => boolean = () => false): Promise<void> {
    const slice = makeSlicer(this.root, this.writer, shouldStop);
    for (const path of paths) {
      this.scanPath(path, false);
      await slice();
    }
    this.settleIgnoreChanges();
  }

  /** Ends a checkpoint: the paths given git's oids are settled (see `reusedPaths`). */
  settleReuse(): void {
    this.reusedPaths = new Set();
  }

  /**
   * Re-reads the entries of directories (not recursing into known subdirectories; new ones are
   * scanned whole), yielding like `scanDeferred`: a tree just moved in is unwatched at first, and
   * its just-written files are racy, so every one of them is re-hashed here.
   */
  async scanDirsShallow(dirs: Iterable<string>, shouldStop: () => boolean = () => false): Promise<void> {
    await this.inBulk(() => this.scanDirsShallowNow(dirs, shouldStop));
  }

  private async scanDirsShallowNow(dirs: Iterable<string>, shouldStop: () => boolean): Promise<void> {
    const slice = makeSlicer(this.root, this.writer, shouldStop);
    const deferred: string[] = [];
    for (const dir of dirs) {
      if (dir !== '' && this.ignore.isIgnoredDeep(dir, true)) {
        this.hideDir(dir);
        continue;
      }
      await this.scanDirSliced(dir, false, deferred, slice);
      await slice();
    }
    await this.scanDeferred(deferred, shouldStop);
  }

  private scanPath(path: string, force: boolean, defer?: string[]): void {
    if (path === '') return this.scanDir('', false, defer);
    if (exceedsPathMax(this.root, path)) return this.scanTooLong(path, defer);
    const notDir = firstNonDirectory(this.root, this.realRoot, splitPath(path)[0], (p) => this.lstat(p));
    if (notDir !== null) return this.replacedDir(path, notDir, force);
    const st = this.lstat(path);
    if (!st) return void this.forget(path);
    const isDir = st.isDirectory();
    if (this.ignore.isIgnoredDeep(path, isDir)) {
      if (isDir) this.hideDir(path);
      else this.forget(path);
      if (!isDir && splitPath(path)[1] === '.gitignore') this.ignoreChanges.noteHidden(splitPath(path)[0], st);
      return;
    }
    if (isDir) {
      // A directory we did not know is scanned whole; a known one only for its entries.
      this.scanDir(path, !this.index.hasDir(path), defer);
    } else if (st.isFile() || st.isSymbolicLink()) {
      this.examine(path, st, force);
    } else {
      this.forget(path);
    }
  }

  /**
   * `defer`: push subdirectories to scan there instead of recursing (rescanAll's work list);
   * `files`: push the files to examine there instead of examining them now (`scanDirSliced`).
   */
  private scanDir(dir: string, recursive: boolean, defer?: string[], files?: string[]): void {
    const notDir = firstNonDirectory(this.root, this.realRoot, dir, (p) => this.lstat(p));
    if (notDir !== null) return this.replacedDir(dir, notDir, true);
    let entries: DirEntry[];
    try {
      entries = readDirEntries(fsPath(this.root, dir));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return void this.forget(dir);
      if (code === 'ENOTDIR') {
        // Replaced by a file (or symlink) since it was listed for a read: take that in instead.
        this.forget(dir);
        if (dir !== '') this.scanPath(dir, true);
        return;
      }
      // An unreadable directory: keep what we knew rather than deleting it from the snapshot.
      if (code === 'EACCES' || code === 'EPERM') return void this.uncaptured.set(dir, 'unreadable directory');
      if (code === 'ENAMETOOLONG') return void this.uncaptured.set(dir, 'path too long for the OS (ENAMETOOLONG)');
      throw err;
    }
    this.onDirRead(dir, entries);
    const seen = new Set<string>();
    let hiddenSeen = false;
    for (const entry of entries) {
      const name = entry.name;
      const path = joinPath(dir, name);
      const isDir = entry.isDirectory();
      if (!isDir && !entry.isFile() && !entry.isSymbolicLink()) continue;
      if (this.ignore.isIgnored(path, isDir)) {
        if (isDir && this.tracked?.hasUnder(path)) {
          seen.add(name);
          this.hideDir(path);
          continue;
        }
        if (name === '.gitignore' && !isDir) {
          const st = exceedsPathMax(this.root, path) ? undefined : this.lstat(path);
          if (st) this.ignoreChanges.noteHidden(dir, st);
          hiddenSeen = st !== undefined;
        }
        continue;
      }
      seen.add(name);
      if (exceedsPathMax(this.root, path)) {
        this.markTooLong(path);
        continue;
      }
      if (isDir) {
        if (this.index.get(path)) this.index.remove(path);
        if (recursive || !this.index.hasDir(path)) {
          if (defer) defer.push(path);
          else this.scanDir(path, true);
        }
      } else {
        if (this.index.hasDir(path)) this.index.remove(path);
        if (files) files.push(path);
        else this.examinePath(path);
      }
    }
    if (!hiddenSeen) this.ignoreChanges.hiddenAbsent(dir);
    const known = this.index.children(dir);
    for (const name of [...known.files, ...known.subdirs]) {
      if (!seen.has(name)) this.forget(joinPath(dir, name));
    }
    for (const path of [...this.uncaptured.keys()]) {
      if (splitPath(path)[0] === dir && !seen.has(splitPath(path)[1])) this.uncaptured.delete(path);
    }
  }

  /** Examines a file found by a directory read (not forced: the stat cache decides), or forgets it if gone. */
  private examinePath(path: string): void {
    const st = this.lstat(path);
    if (st) this.examine(path, st, false);
    else this.forget(path);
  }

  /** Stat-checks `paths` (re-hashing only those whose stat moved), yielding like `scanPaths`. */
  async restatPaths(paths: Iterable<string>, shouldStop: () => boolean = () => false): Promise<void> {
    const slice = makeSlicer(this.root, this.writer, shouldStop);
    for (const path of [...paths]) {
      this.scanPath(path, false);
      await slice();
    }
    this.settleIgnoreChanges();
  }

  private examine(path: string, st: Stats, force: boolean): void {
    if (st.isFile() && st.nlink > 1) this.multiLinked.add(path);
    else this.multiLinked.delete(path);
    const mode: FileMode = st.isSymbolicLink() ? '120000' : st.mode & 0o100 ? '100755' : '100644';
    const old = this.index.get(path);
    if (!force && old && this.unchanged(old, st, mode)) return;
    if (st.isFile() && st.size > this.maxFileSize) {
      this.index.remove(path);
      this.uncaptured.set(path, `larger than maxFileSize (${st.size} > ${this.maxFileSize} bytes)`);
      return;
    }
    if (!force && this.reuseGitOid(path, st, mode)) return;
    let content: Buffer;
    try {
      content = st.isSymbolicLink() ? readlinkSync(fsPath(this.root, path), { encoding: 'buffer' }) : readFileSync(fsPath(this.root, path));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return void this.forget(path);
      if (code === 'EISDIR') return this.scanPath(path, force);
      this.index.remove(path);
      this.uncaptured.set(path, `unreadable (${code ?? 'error'})`);
      return;
    }
    // The file may have grown between the lstat and the read: the limit holds for what was read.
    if (!st.isSymbolicLink() && content.length > this.maxFileSize) {
      this.index.remove(path);
      this.uncaptured.set(path, `larger than maxFileSize (${content.length} > ${this.maxFileSize} bytes)`);
      return;
    }
    this.stats.hashed++;
    const oid = this.bulkDepth > 0 ? this.writer.writeLater('blob', content) : this.writer.write('blob', content);
    const record: FileRecord = { mode, perms: permBits(st.mode), oid, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, hashedAt: Date.now() };
    this.uncaptured.delete(path);
    this.index.set(path, record);
    if (splitPath(path)[1] === '.gitignore' && old?.oid !== oid) {
      // Rules compiled from these very bytes are current (a first scan meets every .gitignore
      // after reading it for its directory's entries): rescanning below them would be wasted.
      const dir = splitPath(path)[0];
      if (st.isSymbolicLink() || !this.ignore.hasRulesFrom(dir, content)) this.ignoreChanges.dirs.add(dir);
    }
  }

  /**
   * Takes the oid git recorded for `path` when the file's stat is still the one git recorded
   * (gitIndexTracker.ts: git's racy rule), instead of reading and hashing it: a first checkpoint
   * in a repository then hashes only what git has not. Not for `.gitignore` files (their bytes
   * decide the rules), nor twice for a path dropped from the index since (see `reusedPaths`).
   * The object itself may be absent (a partial clone): the object guard checks every new blob
   * before the commit and writes it from the file.
   */
  private reuseGitOid(path: string, st: Stats, mode: FileMode): boolean {
    if (!this.tracked || this.reusedPaths.has(path) || splitPath(path)[1] === '.gitignore') return false;
    const oid = this.tracked.reusableOid(path, st, mode);
    if (oid === null) return false;
    this.reusedPaths.add(path);
    this.stats.reused++;
    this.uncaptured.delete(path);
    this.index.set(path, { mode, perms: permBits(st.mode), oid, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, hashedAt: this.tracked.writtenAtMs });
    return true;
  }

  private unchanged(old: FileRecord, st: Stats, mode: FileMode): boolean {
    return (
      old.mode === mode &&
      old.perms === permBits(st.mode) &&
      old.size === st.size &&
      old.mtimeMs === st.mtimeMs &&
      old.ctimeMs === st.ctimeMs &&
      old.ino === st.ino &&
      old.hashedAt - old.mtimeMs > RACY_WINDOW_MS
    );
  }

  /**
   * A path the OS cannot take in one system call (over PATH_MAX with the workspace's own path): git
   * warns and goes on, and so does the scan (one such path used to fail every checkpoint and
   * cancel with a raw ENAMETOOLONG). The nearest ancestor short enough is re-read instead: its
   * entries tell whether the long one is there (then it is uncaptured) or gone.
   */
  private scanTooLong(path: string, defer?: string[]): void {
    let dir = splitPath(path)[0];
    while (dir !== '' && exceedsPathMax(this.root, dir)) dir = splitPath(dir)[0];
    if (dir === '' || this.lstat(dir)?.isDirectory()) this.scanDir(dir, false, defer);
    else this.scanPath(dir, true, defer);
  }

  /** Records `path` as uncaptured for its length; nothing below it is in the index (S1.1a). */
  private markTooLong(path: string): void {
    this.forget(path);
    const bytes = Buffer.byteLength(this.root) + 1 + pathByteLength(path);
    this.uncaptured.set(path, `path too long for the OS (${bytes} bytes with the workspace path, limit ${OS_PATH_MAX - 1}): ENAMETOOLONG`);
  }

  /** Forgets a path (file or directory subtree) that is gone or now ignored. */
  /**
   * `path` lies below `notDir`, a former directory that is now gone, a file or a symlink: nothing
   * of the workspace is at `path`, and `notDir` is taken in as what it is now (its parent is a real
   * directory, firstNonDirectory walked down to it).
   */
  private replacedDir(path: string, notDir: string, force: boolean): void {
    this.forget(path);
    if (this.lstat(notDir)) this.scanPath(notDir, force);
    else this.forget(notDir);
  }

  /**
   * `dir` is ignored: forgets what is known below it, except the files git tracks there
   * (`git add -A` keeps updating them), which are examined one by one (they are few).
   */
  private hideDir(dir: string): void {
    const tracked = this.tracked;
    if (!tracked?.hasUnder(dir)) return this.forget(dir);
    const keep = new Set(tracked.under(dir));
    const known: string[] = [];
    const walk = (d: string): void => {
      const { files, subdirs } = this.index.children(d);
      for (const name of files) known.push(joinPath(d, name));
      for (const name of subdirs) walk(joinPath(d, name));
    };
    walk(dir);
    for (const path of known) if (!keep.has(path)) this.forget(path);
    for (const path of [...this.uncaptured.keys()]) {
      if (path.startsWith(`${dir}/`) && !keep.has(path)) this.uncaptured.delete(path);
    }
    for (const path of keep) this.scanPath(path, false);
  }

  private forget(path: string): void {
    const removed = this.index.remove(path);
    for (const p of removed) this.multiLinked.delete(p);
    this.uncaptured.delete(path);
    if (path) {
      for (const p of [...this.uncaptured.keys()]) if (p.startsWith(`${path}/`)) this.uncaptured.delete(p);
    }
    this.ignoreChanges.forget(path, removed);
  }

  /** Applies changed .gitignore files: new rules can hide or reveal anything below their directory. */
  private settleIgnoreChanges(): void {
    while (this.ignoreChanges.dirs.size > 0) {
      const dirs = this.ignoreChanges.take();
      for (const dir of dirs) {
        this.ignore.invalidate(dir);
        // A directory that is itself ignored now (e.g. its parent's rules changed) must not be
        // scanned back in: scanDir does not check the directory it is given. Forget it instead.
        if (dir !== '' && this.ignore.isIgnoredDeep(dir, true)) {
          this.hideDir(dir);
          continue;
        }
        if (dir === '' || this.index.hasDir(dir) || this.lstat(dir)?.isDirectory()) this.scanDir(dir, true);
      }
    }
  }

  private lstat(path: string): Stats | undefined {
    this.stats.statted++;
    try {
      return lstatSync(fsPath(this.root, path), { throwIfNoEntry: false });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
