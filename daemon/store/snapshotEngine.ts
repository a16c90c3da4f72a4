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
import type { IgnoreRules } from './ignoreRules.js';
import { RefStore } from './refStore.js';
import { SnapshotIndex } from './snapshotIndex.js';
import { loadStatCache, saveStatCache } from './statCache.js';
import { encodeTree } from './treeCodec.js';
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
  readonly scanner: WorkspaceScanner;
  readonly watcher: WorkspaceWatcher;
  private queue: Promise<unknown> = Promise.resolve();
  private quietTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly statCacheFile: string;
  /** Where the workspace and its stores are. */
  readonly layout: WorkspaceLayout;

  constructor(private readonly opts: SnapshotEngineOptions) {
    const { layout, config, ignore, logger } = opts;
    this.layout = layout;
    this.refs = new RefStore(layout.refsDir);
    this.reader = new CheckpointReader(layout.commonDir, this.refs);
    this.writer = new LooseObjectWriter(layout.objectsDir);
    this.scanner = new WorkspaceScanner(layout.workspace, this.index, this.writer, ignore, config.maxFileSize);
    this.statCacheFile = join(layout.stateDir, STATE_FILES.statCache);
    this.watcher = new WorkspaceWatcher({
      root: layout.workspace,
      cookieDir: join(layout.stateDir, STATE_FILES.cookies),
      ignore,
      logger,
      onActivity: () => this.armAutoSnapshot(),
      ...(opts.onRootEntry ? { onRootEntry: opts.onRootEntry } : {}),
    });
  }

  /**
   * Loads the stat cache, starts the watcher and queues the first scan; returns at once, so the
   * daemon answers while chokidar still crawls (until it is ready every checkpoint rescans).
   * `first`, when given, is queued before the scan (crash recovery) and its result returned.
   */
  async start<T>(first?: () => Promise<T>): Promise<T | undefined> {
    const loaded = loadStatCache(this.statCacheFile, this.opts.layout.workspace, this.index);
    this.opts.logger.info({ loaded }, 'stat cache loaded');
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
        this.scanner.scanPaths(dirty.paths, true, deferred);
        await this.scanner.scanDeferred(deferred, () => this.closed);
        const unwatched = new Set(dirty.dirs);
        for (const dir of this.index.directories()) if (!this.watcher.isWatched(dir)) unwatched.add(dir);
        await this.scanner.scanDirsShallow(unwatched, () => this.closed);
      }
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
    return this.index.rootTree((entries) => this.writer.write('tree', encodeTree(entries)));
  }

  /**
   * Refreshes and commits the working tree onto `ref`. With `skipIfUnchanged`, no commit is
   * written when the tree equals the ref's current tree (auto snapshots). Must run inside `exclusive`.
   */
  async commitWorkingTree(ref: string, subject: string, meta: CheckpointMeta, skipIfUnchanged = false): Promise<CheckpointWritten> {
    const { rescanned, hashed } = await this.refresh();
    const tree = this.writeTree();
    const parent = this.refs.read(ref);
    const base = { tree, ref, run: meta.run ?? null, files: this.index.size, hashed, rescanned, uncaptured: this.uncapturedList() };
    if (skipIfUnchanged && parent && (await this.reader.readCommit(parent)).tree === tree) {
      return { ...base, commit: parent, created: false };
    }
    const commit = this.writer.write('commit', encodeCommit({ tree, parents: parent ? [parent] : [], subject, meta }));
    this.refs.update(ref, commit, parent);
    const written = { ...base, commit, created: true };
    this.lastCommit = Promise.resolve({ commit, ref, time: Math.floor(Date.now() / 1000) });
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
    if (this.quietTimer) clearTimeout(this.quietTimer);
    await this.exclusive(() => undefined);
    await this.watcher.close();
  }

  private saveTimer: NodeJS.Timeout | null = null;
  private lastCommit: Promise<{ commit: string; ref: string; time: number } | null> | null = null;

  private saveStatCacheSoon(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.exclusive(() => {
        try {
          saveStatCache(this.statCacheFile, this.opts.layout.workspace, this.index);
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
      void this.exclusive(async () => {
        if (this.closed) return;
        try {
          const c = await this.commitWorkingTree(REFS.auto, 'auto snapshot', { kind: 'auto' }, true);
          if (c.created) this.opts.logger.info({ commit: c.commit, files: c.files, hashed: c.hashed }, 'auto snapshot');
          if (c.created) await this.boundAutoChain();
        } catch (err) {
          this.opts.logger.error({ err: String(err) }, 'auto snapshot failed');
        }
      });
    }, quietPeriod);
    this.quietTimer.unref();
  }
}
