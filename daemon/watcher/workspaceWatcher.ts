/**
 * Turns chokidar's events into a *provable* dirty set (S1.4, S2.2). Events are hints: the
 * watcher only vouches for completeness when it can prove it, and otherwise asks for a rescan.
 *
 * - chokidar watches directories only (files are "ignored"): an inotify watch on a directory
 *   reports changes to its entries, so per-file watches would only cost memory.
 * - We consume chokidar's `raw` events, emitted synchronously from the fs.watch callback, before
 *   its readdir throttling: a raw event for entry X of directory D marks D/X dirty at once.
 * - A sync cookie (a file written in the state folder, watched with fs.watch on the same inotify
 *   queue as chokidar's watches) proves that every event queued before it has been delivered.
 * - A directory is trusted only from the moment its fs.watch exists (we learn it by wrapping
 *   chokidar's `_watchWithNodeFs`); until then, and once more right after, it is scanned.
 * - A storm (many events, possibly an inotify queue overflow, which Node never reports), an
 *   error or a cookie that never arrives makes the next checkpoints rescan everything.
 * - An error is permanent: the watcher is "degraded" (status: backend `scanning`), every
 *   checkpoint rescans and the engine polls for auto snapshots. Running out of inotify watches or
 *   instances (ENOSPC/EMFILE, at start or when a new directory appears) is the usual cause and is
 *   logged once with the sysctl that raises the limit; the sync cookie never waits on a dead watch.
 *   ENAMETOOLONG is not such an error: it concerns one path over PATH_MAX, which stays unwatched.
 */
import type { FSWatcher as NodeWatcher, Stats } from 'node:fs';
import { mkdirSync, statSync, unlinkSync, watch as fsWatch, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { watch } from 'chokidar';
import { ShadowError } from '../../shared/errors.js';
import type { IgnoreRules } from '../store/ignoreRules.js';
import { OS_PATH_MAX } from '../../shared/pathBytes.js';
import { crawlDirectoriesOnly } from './crawlDirectoriesOnly.js';
import { watchLimitAdvice, watchLimitCode, watchLimitReason } from './watchLimit.js';

/** More raw events than this between two checkpoints is a storm: rescan rather than trust. */
export const STORM_THRESHOLD = 1000;

/** What a checkpoint must look at, drained from the watcher. */
export interface DirtySet {
  /** Workspace-relative paths reported changed. */
  paths: Set<string>;
  /** Directories to re-read (entries only). */
  dirs: Set<string>;
  /** When set, nothing can be vouched for: rescan everything, for this reason. */
  fullRescan: string | null;
}

/** Logger subset the watcher needs. */
export interface WatcherLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options of a WorkspaceWatcher. */
export interface WatcherOptions {
  root: string;
  /** A directory outside the watched tree (or ignored in it) for sync cookies. */
  cookieDir: string;
  ignore: IgnoreRules;
  logger: WatcherLogger;
  /** Called on every event in the workspace (drives the auto-snapshot quiet period). */
  onActivity?: () => void;
  /** Called with the name of a root entry an event names (the abort file is noticed this way, S5.1). */
  onRootEntry?: (name: string) => void;
  /** Called once when events can no longer be trusted at all (limit reached, watcher error). */
  onDegraded?: (reason: string) => void;
  /** Interval of the engine's auto-snapshot polling once degraded (null: none), for the log. */
  fallbackPollMs?: number | null;
}

interface ChokidarInternals {
  _nodeFsHandler?: { _watchWithNodeFs?: (path: string, listener?: unknown) => unknown };
}

/** Watches a workspace and keeps a dirty set a checkpoint can trust. */
export class WorkspaceWatcher {
  private chokidar: FSWatcher | null = null;
  private cookieWatch: NodeWatcher | null = null;
  private readonly watched = new Set<string>();
  private paths = new Set<string>();
  private dirs = new Set<string>();
  private events = 0;
  private stormPrev = false;
  private rescanReason: string | null = 'initial scan';
  private broken: string | null = null;
  private cookieSeq = 0;
  private tooLongLogged = false;
  private cookieIno = -1;
  private cookieSeen = 0;
  private readonly cookieWaiters: { seq: number; resolve: () => void }[] = [];

  constructor(private readonly opts: WatcherOptions) {}

  /**
   * Starts watching; resolves once chokidar has crawled the tree. Never rejects: a watcher that
   * cannot start is degraded (every checkpoint rescans) rather than fatal to the daemon.
   */
  async start(): Promise<void> {
    try {
      await this.startWatching();
    } catch (err) {
      this.fail(`watcher failed to start: ${String(err)}`, err);
    }
  }

  /** Why events cannot be trusted any more (the watcher fell back to scanning), or null. */
  get degraded(): string | null {
    return this.broken;
  }

  /**
   * Watches the cookie folder anew after it was deleted and re-created (a job deleted the state
   * folder, issue #10.8): the old watch is of a deleted directory and would never report a cookie.
   */
  rewatchCookies(): void {
    if (!this.cookieWatch) return;
    this.cookieWatch.close();
    mkdirSync(this.opts.cookieDir, { recursive: true });
    this.cookieWatch = fsWatch(this.opts.cookieDir, (_type, name) => this.onCookie(name));
    this.cookieWatch.on('error', (err) => this.fail(`cookie watch error: ${String(err)}`, err));
  }

  private async startWatching(): Promise<void> {
    const { root, ignore } = this.opts;
    this.watchCookies();
    const rel = (p: string): string => (p === root ? '' : p.slice(root.length + 1));
    const ignored = (p: string, stats?: Stats): boolean => {
      if (p === root) return false;
      if (!p.startsWith(root + '/')) return true;
      // Past PATH_MAX no system call takes the path: the scan lists it as uncaptured, and a watch
      // attempt would only fail (its parent's watch still reports it appearing or going).
      if (Buffer.byteLength(p) >= OS_PATH_MAX) return true;
      if (stats) return !stats.isDirectory() || ignore.isIgnoredDeep(rel(p), true);
      return ignore.isIgnoredDeep(rel(p), true) && ignore.isIgnoredDeep(rel(p), false);
    };
    const w = watch(root, { ignored, ignoreInitial: true, followSymlinks: false, atomic: false, persistent: true, ignorePermissionErrors: true });
    this.chokidar = w;
    this.hookWatchCreation(w, rel);
    if (!crawlDirectoriesOnly(w)) this.opts.logger.info({}, 'chokidar internals changed: its crawl stats every file (slower, still correct)');
    w.on('raw', (event, evPath, details) => this.onRaw(event, evPath, (details as { watchedPath?: string } | undefined)?.watchedPath, rel));
    w.on('error', (err) => this.onError(err));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    this.opts.logger.info({ dirs: this.watched.size, degraded: this.broken }, 'watcher ready');
  }

  /** (Re)creates the cookie folder and watches it; its inode tells a folder deleted and re-made. */
  private watchCookies(): void {
    const { cookieDir } = this.opts;
    mkdirSync(cookieDir, { recursive: true, mode: 0o700 });
    this.cookieWatch?.close();
    // Without its cookie watch a sync would wait for its timeout on every checkpoint.
    this.cookieWatch = fsWatch(cookieDir, (_type, name) => this.onCookie(name));
    this.cookieWatch.on('error', (err) => this.fail(`cookie watch error: ${String(err)}`, err));
    this.cookieIno = statSync(cookieDir).ino;
  }

  /** Whether a directory's changes are reported (its watch exists and is alive). */
  isWatched(dir: string): boolean {
    return this.watched.has(dir);
  }

  /** Why the next checkpoint must rescan, or null when the dirty set can be trusted. */
  get pendingRescan(): string | null {
    return this.broken ?? this.rescanReason ?? (this.events > STORM_THRESHOLD || this.stormPrev ? 'event storm' : null);
  }

  /** Paths reported since the last drain. */
  get pendingCount(): number {
    return this.paths.size + this.dirs.size;
  }

  /**
   * Proves every change made before the call has been delivered: writes a cookie and waits for
   * its event. On timeout the next drain asks for a full rescan instead.
   */
  async sync(timeoutMs = 3000): Promise<void> {
    if (this.broken) return;
    const seq = ++this.cookieSeq;
    const file = join(this.opts.cookieDir, String(seq));
    try {
      // The state folder deleted under the daemon (#10.13): a new cookie folder, a new watch, and
      // a rescan, since events may have been missed meanwhile.
      if (statSync(this.opts.cookieDir, { throwIfNoEntry: false })?.ino !== this.cookieIno) {
        if (this.cookieIno !== -1) this.rescanReason ??= 'the state folder was re-created';
        this.watchCookies();
      }
      writeFileSync(file, '');
    } catch (err) {
      throw new ShadowError('STATE_WRITE_FAILED', `Cannot write the sync cookie ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file, errno: (err as NodeJS.ErrnoException).code }, { cause: err });
    }
    let timer: NodeJS.Timeout | undefined;
    const arrived = await new Promise<boolean>((resolve) => {
      this.cookieWaiters.push({ seq, resolve: () => resolve(true) });
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    clearTimeout(timer);
    try {
      unlinkSync(file);
    } catch {
      // a cookie left behind is harmless
    }
    if (!arrived) {
      this.rescanReason = 'sync cookie timed out';
      this.opts.logger.warn({ seq, timeoutMs }, 'sync cookie did not arrive; next checkpoint rescans');
    }
  }

  /** Takes the dirty set, starting a new window. */
  drain(): DirtySet {
    const storm = this.events > STORM_THRESHOLD;
    const fullRescan = this.broken ?? this.rescanReason ?? (storm || this.stormPrev ? 'event storm' : null);
    const out: DirtySet = { paths: this.paths, dirs: this.dirs, fullRescan };
    for (const dir of this.dirs) out.paths.delete(dir);
    this.stormPrev = storm;
    this.paths = new Set();
    this.dirs = new Set();
    this.events = 0;
    // While chokidar still crawls, directories are watched one by one: `isWatched` tells the
    // caller which ones it must read itself, so no full rescan is needed for that.
    this.rescanReason = null;
    return out;
  }

  /**
   * Records that `dir`'s entries were just read: when its watch already existed, that read saw
   * everything created before the watch, so the extra read the watch's creation asked for is moot
   * (a cold start reads every directory once, not twice).
   */
  noteRead(dir: string): void {
    if (this.watched.has(dir)) this.dirs.delete(dir);
  }

  /** Asks the next checkpoint to rescan everything (e.g. after the daemon's own restore). */
  requestRescan(reason: string): void {
    this.rescanReason ??= reason;
  }

  /** Stops watching. */
  async close(): Promise<void> {
    this.cookieWatch?.close();
    for (const w of this.cookieWaiters.splice(0)) w.resolve();
    await this.chokidar?.close();
  }

  private onRaw(event: string, evPath: string | null, watchedPath: string | undefined, rel: (p: string) => string): void {
    if (!watchedPath) return;
    this.events++;
    this.opts.onActivity?.();
    if (this.events > STORM_THRESHOLD) {
      // Past the threshold the window rescans anyway: stop collecting paths to bound memory.
      if (this.paths.size) this.paths = new Set();
      return;
    }
    const dir = rel(watchedPath);
    if (!evPath) {
      this.dirs.add(dir);
      return;
    }
    if (evPath.includes('\uFFFD')) {
      // fs.watch decodes names as UTF-8, so a name that is not one arrives mangled and names no
      // file: its directory is re-read instead, which gets the name's bytes (readDirEntries.ts).
      this.dirs.add(dir);
      return;
    }
    const child = dir ? `${dir}/${evPath}` : evPath;
    if (!dir) this.opts.onRootEntry?.(evPath);
    this.paths.add(child);
    if (event === 'rename') {
      // The entry was created, deleted or replaced: if it was a watched directory, its watch
      // now follows an inode that is gone or elsewhere. The same name as the watched directory
      // may be the directory's own deletion (libuv reports self events with its basename).
      if (this.watched.has(child)) this.unwatchTree(child);
      if (evPath === basename(watchedPath) && this.watched.has(dir)) {
        this.unwatchTree(dir);
        this.paths.add(dir);
      }
    }
  }

  /**
   * A chokidar error. ENAMETOOLONG concerns one path (found during a crawl, over PATH_MAX): that
   * directory simply has no watch, which `isWatched` says, so the engine reads it itself; giving
   * up on events for the daemon's life because of it made every checkpoint rescan everything.
   */
  private onError(err: unknown): void {
    if ((err as { code?: unknown } | null)?.code === 'ENAMETOOLONG') {
      if (!this.tooLongLogged) this.opts.logger.warn({ err: String(err) }, 'a path over PATH_MAX is not watched (it is listed as uncaptured)');
      this.tooLongLogged = true;
      return;
    }
    this.fail(`watcher error: ${String(err)}`, err);
  }

  private unwatchTree(dir: string): void {
    const prefix = `${dir}/`;
    for (const d of this.watched) if (d === dir || d.startsWith(prefix)) this.watched.delete(d);
  }

  private onCookie(name: string | Buffer | null): void {
    const seq = Number(String(name ?? ''));
    if (!Number.isInteger(seq) || seq <= this.cookieSeen) return;
    this.cookieSeen = seq;
    for (let i = this.cookieWaiters.length - 1; i >= 0; i--) {
      const waiter = this.cookieWaiters[i];
      if (waiter && waiter.seq <= seq) {
        this.cookieWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /**
   * Learns exactly when chokidar starts watching a directory. chokidar (pinned 5.0.0) has no
   * public hook for it; without one we cannot prove a directory's events are complete, so the
   * fallback is to distrust every directory (always rescan), which stays correct, only slower.
   */
  private hookWatchCreation(w: FSWatcher, rel: (p: string) => string): void {
    const handler = (w as unknown as ChokidarInternals)._nodeFsHandler;
    const original = handler?._watchWithNodeFs;
    if (!handler || typeof original !== 'function') {
      this.fail('chokidar internals changed: cannot tell when a directory is watched');
      return;
    }
    handler._watchWithNodeFs = (path: string, listener?: unknown) => {
      const closer = original.call(handler, path, listener);
      const dir = rel(path);
      if (closer) {
        this.watched.add(dir);
        // Anything created before the watch existed is found by one more read of the directory.
        this.dirs.add(dir);
      }
      return closer;
    };
  }

  /**
   * Gives up on events for good. chokidar keeps its live watches (their events still hurry auto
   * snapshots and the abort file along); checkpoints rescan and the engine polls (onDegraded).
   */
  private fail(reason: string, err?: unknown): void {
    if (this.broken) return;
    const code = watchLimitCode(err);
    this.broken = code ? watchLimitReason(code) : reason;
    if (code) {
      this.opts.logger.warn({ code, err: String(err), limit: code === 'ENOSPC' ? 'fs.inotify.max_user_watches' : 'fs.inotify.max_user_instances' }, watchLimitAdvice(code, this.opts.fallbackPollMs ?? null));
    } else {
      this.opts.logger.error({ reason }, 'watcher cannot vouch for changes any more; every checkpoint will rescan');
    }
    // A sync waiting on the cookie need not: the next drain asks for a full rescan anyway.
    for (const w of this.cookieWaiters.splice(0)) w.resolve();
    this.opts.onDegraded?.(this.broken);
  }
}
