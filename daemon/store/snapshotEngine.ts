/**
 * The snapshot store of one workspace: keeps the index in step with the disk (watcher + scanner),
 * writes checkpoint commits and refs, and diffs and restores. Every operation runs through one
 * queue: isomorphic-git does not support concurrent operations on a repository (#1278), and a
 * restore must never interleave with a snapshot.
 */
import { join } from 'node:path';
import type { ShadowConfig } from '../../shared/config.js';
import { autoChainLength, compactAutoChain } from '../gc/autoChain.js';
import { STATE_FILES } from '../../shared/paths.js';
import type { WorkspaceLayout } from '../workspaceLayout.js';
import type { WatcherLogger } from '../watcher/workspaceWatcher.js';
import { WorkspaceWatcher } from '../watcher/workspaceWatcher.js';
import { CheckpointReader } from './checkpointReader.js';
import type { CheckpointMeta } from './commitCodec.js';
import { encodeCommit } from './commitCodec.js';
import { LooseObjectWriter } from './gitObjects.js';
import type { GuardDeps } from './objectGuard.js';
import { confirmCommitted, treeObjectsReady, waitForGc } from './objectGuard.js';
import { ObjectPresence } from './objectPresence.js';
import { PackMaintenance } from './packMaintenance.js';
import type { IgnoreRules } from './ignoreRules.js';
import { RefStore } from './refStore.js';
import { SnapshotIndex } from './snapshotIndex.js';
import { applyStatCache, readStatCache, saveStatCache } from './statCache.js';
import { encodeTree } from './treeCodec.js';
import { TreeEntryCache } from './treeEntryCache.js';
import { WorkspaceScanner } from './workspaceScanner.js';

/** Result of writing a checkpoint. */
export interface CheckpointWritten {
  commit: string;
  tree: string;
  ref: string;
  run: string | null;
  files: number;
  hashed: number;
  rescanned: boolean;
  uncaptured: { path: string; reason: string }[];
  /** False when an auto snapshot found nothing new and wrote no commit. */
  created: boolean;
}

/** Options of a SnapshotEngine. */
export interface SnapshotEngineOptions {
  layout: WorkspaceLayout;
  config: ShadowConfig;
  ignore: IgnoreRules;
  logger: WatcherLogger & { debug(obj: object, msg: string): void };
  /** Called after every commit written (to push events). */
  onCheckpoint?: (c: CheckpointWritten) => void;
  /** Called with the name of a root entry the watcher reports changed (abort file, S5.1). */
  onRootEntry?: (name: string) => void;
}

/**
 * An auto snapshot rescans the whole tree (stat only) when the last full rescan is older than
 * this: writes through mmap raise no event. Destructive steps always rescan (S1.1a).
 */
const VERIFY_RESCAN_MS = 10 * 60_000;

/** While polling, the pause between two scans is at least this many times the scan's duration. */
const POLL_CPU_SHARE = 10;

/** Refs written by the store. */
export const REFS = {
  auto: 'refs/shadow/auto',
  manual: 'refs/shadow/manual',
  undo: 'refs/shadow/undo',
} as const;

/** The snapshot store of a workspace. */
export class SnapshotEngine {
  readonly index = new SnapshotIndex();
  readonly refs: RefStore;
  readonly reader: CheckpointReader;
  readonly writer: LooseObjectWriter;
  /** Checks that checkpoint objects exist on disk, beside the user's git gc (S1.6). */
  readonly guard: GuardDeps;
  readonly scanner: WorkspaceScanner;
  readonly watcher: WorkspaceWatcher;
  /** Lists the packs the engine writes and merges the small ones. */
  readonly packs: PackMaintenance;
  private queue: Promise<unknown> = Promise.resolve();
  private quietTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /**
   * Directories read while not watched, empty ones included (the index holds no empty directory):
   * each refresh re-reads them until they are watched or gone. chokidar can miss a new directory
   * for good (its 1 s readdir throttle forgets the events that came in while a busy event loop held
   * a read past it), and a file created later in a directory that was empty when read would never
   * be seen again (issue #5.3 load test: whole directories missing from checkpoints).
   */
  private unwatchedDirs = new Set<string>();
  private readonly statCacheFile: string;
  /** Where the workspace and its stores are. */
  readonly layout: WorkspaceLayout;

  constructor(private readonly opts: SnapshotEngineOptions) {
    const { layout, config, ignore, logger } = opts;
    this.layout = layout;
    this.refs = new RefStore(layout.refsDir);
    this.reader = new CheckpointReader(layout.commonDir, this.refs);
    this.writer = new LooseObjectWriter(layout.objectsDir);
    this.guard = {
      index: this.index,
      writer: this.writer,
      reader: this.reader,
      presence: new ObjectPresence(layout.objectsDir, this.reader.packs),
      workspace: layout.workspace,
      gitDir: layout.commonDir,
      writeTree: () => this.writeTree(),
      trees: new TreeEntryCache(),
    };
    this.packs = new PackMaintenance({
      objectsDir: layout.objectsDir,
      gitDir: layout.commonDir,
      listFile: join(layout.stateDir, STATE_FILES.ownPacks),
      exclusive: (fn) => this.exclusive(fn),
      relist: () => this.reader.packs.relist(),
      logger,
    });
    this.writer.onPackWritten = (pack) => this.packs.written(pack);
    this.scanner = new WorkspaceScanner(layout.workspace, this.index, this.writer, ignore, config.maxFileSize);
    this.statCacheFile = join(layout.stateDir, STATE_FILES.statCache);
    this.watcher = new WorkspaceWatcher({
      root: layout.workspace,
      cookieDir: join(layout.stateDir, STATE_FILES.cookies),
      ignore,
      logger,
      onActivity: () => this.armAutoSnapshot(),
      onDegraded: () => this.startPolling(),
      fallbackPollMs: config.autoSnapshot.enabled ? config.autoSnapshot.quietPeriod : null,
      ...(opts.onRootEntry ? { onRootEntry: opts.onRootEntry } : {}),
    });
    this.scanner.onDirRead = (dir) => {
      this.watcher.noteRead(dir);
      if (!this.watcher.isWatched(dir)) this.unwatchedDirs.add(dir);
    };
  }

  /**
   * Loads the stat cache, starts the watcher and queues the first scan; returns at once, so the
   * daemon answers while chokidar still crawls (until it is ready every checkpoint rescans).
   * `first`, when given, is queued before the scan (crash recovery) and its result returned.
   */
  async start<T>(first?: () => Promise<T>): Promise<T | undefined> {
    const loaded = await this.loadStatCache();
    this.opts.logger.info({ loaded }, 'stat cache loaded');
    this.packs.mergeSoon();
    void this.watcher.start().then(
      () => this.armAutoSnapshot(),
      (err: unknown) => this.opts.logger.error({ err: String(err) }, 'watcher failed to start; every checkpoint rescans'),
    );
    const before = first ? this.exclusive(first) : undefined;
    // The scan's failure (SHUTTING_DOWN when stopped early, an unreadable tree) must not be an
    // unhandled rejection, which would kill the daemon: refresh() has asked for a rescan next time.
    void this.exclusive(async () => this.refresh()).catch((err: unknown) => {
      if (!this.closed) this.opts.logger.error({ err: String(err) }, 'initial scan failed; the next checkpoint rescans');
    });
    return before;
  }

  /** Runs `fn` after every operation queued before it. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Brings the index in line with the disk, provably including every write that finished
   * before the call (sync cookie), rescanning whatever the watcher cannot vouch for.
   * Must run inside `exclusive`.
   */
  async refresh(): Promise<{ rescanned: boolean; hashed: number }> {
    await this.watcher.sync();
    const dirty = this.watcher.drain();
    this.scanner.resetStats();
    // info/exclude and core.excludesFile are outside the watched tree (and .shadowignore is not a
    // .gitignore): a few small reads per checkpoint catch their edits; any change can hide or
    // reveal files anywhere, so it costs a full stat-only rescan (S1.1).
    if (this.opts.ignore.reloadExcludes()) dirty.fullRescan ??= 'ignore sources changed';
    try {
      if (dirty.fullRescan) {
        this.opts.logger.debug({ reason: dirty.fullRescan }, 'full rescan');
        // Stopped by close(): throws, so no commit is written from a half-refreshed index.
        await this.scanner.rescanAll(() => this.closed);
      } else {
        // New directories are scanned in slices: one event can stand for a whole tree moved in.
        const deferred: string[] = [];
        await this.scanner.scanPaths(dirty.paths, deferred, () => this.closed);
        await this.scanner.scanDeferred(deferred, () => this.closed);
        const unwatched = new Set(dirty.dirs);
        for (const dir of this.index.directories()) if (!this.watcher.isWatched(dir)) unwatched.add(dir);
        // onDirRead records again those still unwatched and present; gone or ignored ones drop out.
        for (const dir of this.unwatchedDirs) if (!this.watcher.isWatched(dir)) unwatched.add(dir);
        this.unwatchedDirs = new Set();
        await this.scanner.scanDirsShallow(unwatched, () => this.closed);
        // A write through another hard link raises no event for these (issue #10.5).
        if (this.scanner.multiLinked.size) await this.scanner.restatPaths(this.scanner.multiLinked, () => this.closed);
      }
      if (dirty.fullRescan) this.lastFullRescan = Date.now();
    } catch (err) {
      // The dirty set is drained and the index half-refreshed: the next refresh must not trust
      // the watcher's (empty) dirty set, or its checkpoint would miss what this one did not reach.
      this.watcher.requestRescan('previous refresh failed');
      throw err;
    }
    return { rescanned: dirty.fullRescan !== null, hashed: this.scanner.stats.hashed };
  }

  /** The root tree of the index, writing trees that do not exist yet. */
  writeTree(): string {
    return this.index.rootTree((entries) => {
      const oid = this.writer.write('tree', encodeTree(entries));
      this.guard.trees.set(oid, entries);
      return oid;
    });
  }

  /**
   * Refreshes and commits the working tree onto `ref`. With `skipIfUnchanged`, no commit is
   * written when the tree equals the ref's current tree (auto snapshots). Must run inside `exclusive`.
   */
  async commitWorkingTree(ref: string, subject: string, meta: CheckpointMeta, skipIfUnchanged = false): Promise<CheckpointWritten> {
    // Not while the user's `git gc` runs: its prune would delete what we write before the ref moves (S1.6).
    await waitForGc(this.guard.gitDir);
    // The new blobs and trees are written together, as one pack when there are many (gitObjects.ts).
    const { rescanned, hashed } = await this.writer.collecting(async () => {
      const refreshed = await this.refresh();
      this.writeTree();
      return refreshed;
    });
    const parent = this.refs.read(ref);
    // Objects the parent's tree names are safe (reachable from the ref); the rest are checked on
    // disk before and after the ref moves: the user's `git gc --prune=now` may delete them (S1.6).
    const treeOf = (c: string): Promise<string | null> => this.reader.readCommit(c).then((d) => d.tree, () => null);
    const parentTree = parent ? await treeOf(parent) : null;
    // A new ref (a run's base) shares most objects with the newest checkpoint, on another ref.
    const newest = parent ? null : await this.latestCached().catch(() => null);
    const baseTree = parentTree ?? (newest ? await treeOf(newest.commit) : null);
    const tree = await treeObjectsReady(this.guard, baseTree, async () => {
      this.watcher.requestRescan('an object of the index was pruned');
      await this.refresh();
    });
    // From here to the ref update all is synchronous: a gc starting now walks the refs after it.
    const base = { tree, ref, run: meta.run ?? null, files: this.index.size, hashed, rescanned, uncaptured: this.uncapturedList() };
    if (skipIfUnchanged && parent && parentTree === tree) {
      return { ...base, commit: parent, created: false };
    }
    const commitBytes = encodeCommit({ tree, parents: parent ? [parent] : [], subject, meta });
    const commit = this.writer.write('commit', commitBytes);
    this.refs.update(ref, commit, parent);
    await confirmCommitted(this.guard, { commit, commitBytes, tree, baseTree }, () =>
      parent ? this.refs.update(ref, parent, commit) : this.refs.delete([ref]),
    );
    const written = { ...base, commit, created: true };
    this.lastCommit = Promise.resolve({ commit, ref, time: Math.floor(Date.now() / 1000) });
    this.lastWritten = commit;
    this.saveStatCacheSoon();
    this.opts.onCheckpoint?.(written);
    return written;
  }

  /** Files present but not captured, for reports. */
  uncapturedList(): { path: string; reason: string }[] {
    return [...this.scanner.uncaptured].map(([path, reason]) => ({ path, reason })).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** The newest checkpoint, as last written or read, without waiting for the queue. */
  async latestCached(): Promise<{ commit: string; ref: string; time: number } | null> {
    this.lastCommit ??= this.latest();
    return this.lastCommit;
  }

  /** Drops the cached newest checkpoint (after a ref was rewritten under it, e.g. by retention). */
  forgetLatest(): void {
    this.lastCommit = null;
  }

  /** The newest checkpoint on any shadow ref, or null. */
  async latest(): Promise<{ commit: string; ref: string; time: number } | null> {
    const [top] = await this.reader.log(1);
    return top ? { commit: top.commit, ref: top.ref, time: top.time } : null;
  }

  /** Stops the watcher and persists the stat cache. */
  async close(): Promise<void> {
    this.closed = true;
    this.packs.close();
    if (this.quietTimer) clearTimeout(this.quietTimer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.exclusive(() => undefined);
    await this.watcher.close();
  }

  private saveTimer: NodeJS.Timeout | null = null;
  /** When the last full rescan ended (ms); 0 before the first. */
  private lastFullRescan = 0;
  /** The last commit this engine wrote: the stat cache names it, so a pruned one voids the cache. */
  private lastWritten: string | null = null;
  private lastCommit: Promise<{ commit: string; ref: string; time: number } | null> | null = null;

  /**
   * Loads the persisted stat cache into the empty index; returns the rows loaded. A damaged
   * cache, or one whose commit is gone (its blobs may be pruned too), is discarded with a warning:
   * the first scan then re-hashes every file, a clean rebuild (see statCache.ts).
   */
  private async loadStatCache(): Promise<number> {
    const content = readStatCache(this.statCacheFile, this.opts.layout.workspace);
    if ('reason' in content) {
      if (!content.missing) this.opts.logger.warn({ file: this.statCacheFile, reason: content.reason }, 'stat cache discarded; rebuilding it from a full scan');
      return 0;
    }
    if (content.commit) {
      try {
        await this.reader.readObject(content.commit, 'commit');
      } catch (err) {
        this.opts.logger.warn({ file: this.statCacheFile, commit: content.commit, err: String(err) }, 'stat cache discarded: the commit it was saved after is gone; rebuilding it from a full scan');
        return 0;
      }
    }
    return applyStatCache(content, this.index);
  }

  private saveStatCacheSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.exclusive(() => {
        try {
          saveStatCache(this.statCacheFile, this.opts.layout.workspace, this.index, this.lastWritten);
        } catch (err) {
          this.opts.logger.warn({ err: String(err) }, 'could not save the stat cache');
        }
      });
    }, 1000);
    this.saveTimer.unref();
  }

  /** Length of the auto chain as last counted (null: not yet), kept up to date by auto snapshots. */
  autoChainLength: number | null = null;

  /**
   * Keeps the auto chain bounded between gc passes (S1.7), cheaply: counted once, then
   * incremented, and compacted only when 10% over `maxAutoSnapshots`. Inside `exclusive`.
   */
  private async boundAutoChain(): Promise<void> {
    const max = this.opts.config.retention.maxAutoSnapshots;
    const limit = Math.max(max + 1, Math.floor(max * 1.1));
    this.autoChainLength = this.autoChainLength === null ? await autoChainLength(this, limit + 1) : this.autoChainLength + 1;
    if (this.autoChainLength <= limit) return;
    try {
      const r = await compactAutoChain(this, max);
      this.autoChainLength = r.kept;
      this.opts.logger.info({ dropped: r.dropped, kept: r.kept }, 'auto chain compacted');
    } catch (err) {
      this.autoChainLength = null;
      this.opts.logger.warn({ err: String(err) }, 'could not compact the auto chain');
    }
  }

  /** (Re)starts the quiet-period timer of auto snapshots (S2.2). */
  private armAutoSnapshot(): void {
    const { enabled, quietPeriod } = this.opts.config.autoSnapshot;
    if (!enabled || this.closed) return;
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => {
      this.quietTimer = null;
      void this.exclusive(() => this.autoSnapshot());
    }, quietPeriod);
    this.quietTimer.unref();
  }

  /** Takes an auto snapshot if the tree changed. Inside `exclusive`; never throws. */
  private async autoSnapshot(): Promise<void> {
    if (this.closed) return;
    // A backstop for writes no event announces (mmap): now and then an auto snapshot verifies the whole tree.
    if (Date.now() - this.lastFullRescan >= VERIFY_RESCAN_MS) this.watcher.requestRescan('periodic verification');
    try {
      const c = await this.commitWorkingTree(REFS.auto, 'auto snapshot', { kind: 'auto' }, true);
      if (c.created) this.opts.logger.info({ commit: c.commit, files: c.files, hashed: c.hashed }, 'auto snapshot');
      if (c.created) await this.boundAutoChain();
    } catch (err) {
      this.opts.logger.error({ err: String(err) }, 'auto snapshot failed');
    }
  }

  /**
   * Once the watcher is degraded (e.g. the inotify limit is reached) no event may ever announce a
   * change, so auto snapshots poll (S2.2): a stat scan every quiet period, stretched so a scan
   * takes at most 1/POLL_CPU_SHARE of the time (a huge tree must not keep a core busy).
   */
  private startPolling(): void {
    const { enabled, quietPeriod } = this.opts.config.autoSnapshot;
    if (!enabled || this.closed || this.pollTimer) return;
    const schedule = (delay: number): void => {
      if (this.closed) return;
      this.pollTimer = setTimeout(() => {
        void this.exclusive(async () => {
          const started = Date.now();
          await this.autoSnapshot();
          return Date.now() - started;
        }).then((ms) => schedule(Math.max(quietPeriod, ms * POLL_CPU_SHARE)));
      }, delay);
      this.pollTimer.unref();
    };
    schedule(quietPeriod);
  }
}
