/**
 * The snapshot store of one workspace: keeps the index in step with the disk (watcher + scanner),
 * writes checkpoint commits and refs, and diffs and restores. Every operation runs through one
 * queue: isomorphic-git does not support concurrent operations on a repository (#1278), and a
 * restore must never interleave with a snapshot.
 */
import { join } from 'node:path';
import type { ShadowConfig } from '../../shared/config.js';
import type { WireError } from '../../shared/errors.js';
import { autoChainLength, compactAutoChain } from '../gc/autoChain.js';
import { BackupStore } from './backupStore.js';
import type { StoreRepair } from './storeRepair.js';
import { repairStore, storeVanished } from './storeRepair.js';
import { STATE_FILES } from '../../shared/paths.js';
import type { WorkspaceLayout } from '../workspaceLayout.js';
import type { WatcherLogger } from '../watcher/workspaceWatcher.js';
import { WorkspaceWatcher } from '../watcher/workspaceWatcher.js';
import { CheckpointReader } from './checkpointReader.js';
import type { CheckpointMeta } from './commitCodec.js';
import { encodeCommit } from './commitCodec.js';
import { hashObject, LooseObjectWriter } from './gitObjects.js';
import { GitIndexTracker } from './gitIndexTracker.js';
import { NestedRepos } from './nestedRepos.js';
import type { GuardDeps } from './objectGuard.js';
import { confirmCommitted, treeObjectsReady, waitForGc } from './objectGuard.js';
import { ObjectPresence } from './objectPresence.js';
import { PackMaintenance } from './packMaintenance.js';
import type { IgnoreRules } from './ignoreRules.js';
import { RefStore } from './refStore.js';
import { SnapshotIndex } from './snapshotIndex.js';
import { encodePerms, summarizePerms } from './permsMetadata.js';
import { applyStatCache, readStatCache, saveStatCache } from './statCache.js';
import type { TreeEntry } from './treeCodec.js';
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
  /** Keeps a backup store outside the work tree, located from this environment (issue #10.8); none when absent. */
  backupEnv?: NodeJS.ProcessEnv;
  /** Called after the store was put back from the backup (a job deleted it). */
  onRepair?: (r: StoreRepair) => void;
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
  /** The user's git index: tracked files are captured even when ignored, its oids reused (S1.1). */
  readonly gitIndex: GitIndexTracker;
  /** Nested repositories and submodules: their git dirs captured beside each checkpoint (#10.7). */
  readonly nested: NestedRepos;
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
  /** The copy of the store outside the work tree (issue #10.8), or null when disabled. */
  readonly backup: BackupStore | null;
  /** Trees written since the last backup sync, decoded (emptied by each sync). */
  readonly recentTrees = new Map<string, readonly TreeEntry[]>();

  constructor(private readonly opts: SnapshotEngineOptions) {
    const { layout, config, ignore, logger } = opts;
    this.layout = layout;
    this.refs = new RefStore(layout.refsDir, layout.refNamespace);
    this.reader = new CheckpointReader(layout.commonDir, this.refs);
    this.backup = opts.backupEnv ? new BackupStore(layout.workspace, opts.backupEnv) : null;
    this.reader.fallback = this.backup?.reader ?? null;
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
      exclusive: (fn) => this.exclusive(fn, false),
      relist: () => this.reader.packs.relist(),
      logger,
    });
    this.writer.onPackWritten = (pack) => this.packs.written(pack);
    this.scanner = new WorkspaceScanner(layout.workspace, this.index, this.writer, ignore, config.maxFileSize);
    // A linked worktree has its own index in its own gitdir.
    this.gitIndex = new GitIndexTracker(layout.kind === 'git' ? join(layout.gitDir, 'index') : null);
    this.scanner.tracked = this.gitIndex;
    ignore.setTracked((path) => this.gitIndex.has(path) || this.restoredIgnored.has(path));
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
    this.nested = new NestedRepos({ workspace: layout.workspace, stateDir: layout.stateDir, gitDirRoots: [layout.workspace, ...(layout.userGitDir ? [layout.userGitDir] : [])], logger });
    this.scanner.onDirRead = (dir, entries) => {
      this.watcher.noteRead(dir);
      this.nested.noteDir(dir, entries.some((e) => e.name === '.git'));
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
    // Stopped while a job deleted the store: the state folder is new (no marker of a backup in it),
    // no refs are left, and the backup has them. Refs a user deleted by hand stay deleted.
    if (this.backup?.exists() && !this.backup.markedIn(this.layout.stateDir) && this.refs.list().size === 0 && this.backup.refs.list().size > 0) {
      await this.exclusive(() => this.repairIfVanished('no refs/shadow/* ref left; the backup store has them'));
    }
    const before = first ? this.exclusive(first) : undefined;
    // The scan's failure (SHUTTING_DOWN when stopped early, an unreadable tree) must not be an
    // unhandled rejection, which would kill the daemon: refresh() has asked for a rescan next time.
    void this.exclusive(async () => {
      const { hashed } = await this.refresh();
      // How much of the tree git had already hashed for us (S1.1: the index's oids reused).
      this.opts.logger.info({ files: this.index.size, hashed, reused: this.scanner.stats.reused, gitIndex: this.gitIndex.size }, 'first scan done');
    }).catch((err: unknown) => {
      if (!this.closed) this.opts.logger.error({ err: String(err) }, 'initial scan failed; the next checkpoint rescans');
    });
    void this.exclusive(() => this.syncBackup());
    return before;
  }

  /**
   * Runs `fn` after every operation queued before it. With `repair` (the default) the store is put
   * back first if a job deleted it (issue #10.8); housekeeping passes false, so a timer never
   * re-creates `.git/` under a job's `rm -rf .git` still running (its rm would then fail).
   */
  exclusive<T>(fn: () => Promise<T> | T, repair = true): Promise<T> {
    const guarded = (): Promise<T> | T => (this.closed || !repair ? fn() : (this.repairIfVanished(), fn()));
    const next = this.queue.then(guarded, guarded);
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
    // A `.git` created in a known directory (`git init`, a clone's last rename) is ignored by the scan: note it here.
    for (const p of dirty.paths) if (p.endsWith('/.git')) this.nested.noteDir(p.slice(0, -5));
    this.scanner.resetStats();
    // info/exclude and core.excludesFile are outside the watched tree (and .shadowignore is not a
    // .gitignore): a few small reads per checkpoint catch their edits; any change can hide or
    // reveal files anywhere, so it costs a full stat-only rescan (S1.1).
    if (this.opts.ignore.reloadExcludes()) dirty.fullRescan ??= 'ignore sources changed';
    const tracked = this.reloadGitIndex();
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
        await this.scanner.scanTracked(new Set([...tracked, ...this.gitIndex.hiddenTracked(this.opts.ignore)]), () => this.closed);
        // A write through another hard link raises no event for these (issue #10.5).
        if (this.scanner.multiLinked.size) await this.scanner.restatPaths(this.scanner.multiLinked, () => this.closed);
      }
      // Files a restore wrote under ignore rules (see restoredIgnored): no scan of a directory reaches them.
      if (this.restoredIgnored.size) await this.scanner.scanTracked([...this.restoredIgnored], () => this.closed);
      if (dirty.fullRescan) this.lastFullRescan = Date.now();
    } catch (err) {
      // The dirty set is drained and the index half-refreshed: the next refresh must not trust
      // the watcher's (empty) dirty set, or its checkpoint would miss what this one did not reach.
      this.watcher.requestRescan('previous refresh failed');
      throw err;
    }
    return { rescanned: dirty.fullRescan !== null, hashed: this.scanner.stats.hashed };
  }

  /**
   * Re-reads the user's git index if it changed; returns the paths whose tracked status changed
   * (a full rescan covers them anyway). A new problem with it is logged once with its code and
   * shown by `status` (`problems`); the capture then goes on without it (gitIndexTracker.ts).
   */
  private reloadGitIndex(): string[] {
    const before = this.gitIndex.problem;
    const change = this.gitIndex.reload();
    const problem = this.gitIndex.problem;
    if (problem && problem.message !== before?.message) {
      this.opts.logger.warn({ code: problem.code, details: problem.details }, `${problem.message}: tracked files that an ignore rule matches are not captured, every file is hashed`);
    }
    return change?.changed ?? [];
  }

  /**
   * Paths a restore wrote that git's ignore rules hide and the user's index does not track (a
   * checkpoint's force-added file restored while an older commit is checked out): captured like
   * tracked files from then on, so the next restore or `undo` can take them away again with their
   * bytes in its pre-abort commit, instead of leaving them behind as untouchable ignored files.
   */
  readonly restoredIgnored = new Set<string>();

  /**
   * After a restore wrote `restored` and removed `removed` (and the index was rescanned for them):
   * records the written paths the rules now hide, and returns them for a rescan that captures them.
   */
  noteRestored(restored: readonly string[], removed: readonly string[]): string[] {
    for (const path of removed) this.restoredIgnored.delete(path);
    const hidden = restored.filter((path) => !this.restoredIgnored.has(path) && !this.index.get(path) && this.opts.ignore.isIgnoredDeep(path, false));
    for (const path of hidden) this.restoredIgnored.add(path);
    return hidden;
  }

  /** Why the user's git index is not used (a coded error), or null. */
  get gitIndexProblem(): WireError | null {
    return this.gitIndex.problem;
  }

  /** The root tree of the index, writing trees that do not exist yet. */
  writeTree(): string {
    return this.index.rootTree((entries) => {
      const bytes = encodeTree(entries);
      // A first checkpoint in a repository whose index is current has HEAD's trees, already in
      // its packs: not deflated and packed again. The object guard checks every new tree on disk
      // before and after the commit, so one a repack dropped meanwhile is written then.
      const known = hashObject('tree', bytes);
      const oid = this.guard.presence.inPack(known) ? known : this.writer.write('tree', bytes);
      this.guard.trees.set(oid, entries);
      // The backup's walk of the next sync takes them from here instead of reading them back.
      if (this.backup) this.recentTrees.set(oid, entries);
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
    const parentCommit = parent ? await this.reader.readCommit(parent).catch(() => null) : null;
    const parentTree = parentCommit?.tree ?? null;
    // A new ref (a run's base) shares most objects with the newest checkpoint, on another ref.
    const newest = parent ? null : await this.latestCached().catch(() => null);
    const baseTree = parentTree ?? (newest ? await treeOf(newest.commit) : null);
    const tree = await treeObjectsReady(this.guard, baseTree, async () => {
      this.watcher.requestRescan('an object of the index was pruned');
      await this.refresh();
    });
    // From here to the ref update all is synchronous: a gc starting now walks the refs after it.
    const base = { tree, ref, run: meta.run ?? null, files: this.index.size, hashed, rescanned, uncaptured: this.uncapturedList() };
    const perms = summarizePerms((fn) => this.index.eachFile(fn));
    // A chmod alone leaves the tree as it was: the commit is skipped only when the bits match too.
    const samePerms = (): boolean => !!parentCommit?.perms && encodePerms(parentCommit.perms).join('\n') === encodePerms(perms).join('\n');
    if (skipIfUnchanged && parent && parentTree === tree && samePerms()) {
      return { ...base, commit: parent, created: false };
    }
    const commitBytes = encodeCommit({ tree, parents: parent ? [parent] : [], subject, meta, perms });
    const commit = this.writer.write('commit', commitBytes);
    this.refs.update(ref, commit, parent);
    await confirmCommitted(this.guard, { commit, commitBytes, tree, baseTree }, () =>
      parent ? this.refs.update(ref, parent, commit) : this.refs.delete([ref]),
    );
    this.nested.capture(commit);
    await this.syncBackup();
    const written = { ...base, commit, created: true };
    this.lastCommit = Promise.resolve({ commit, ref, time: Math.floor(Date.now() / 1000) });
    this.lastWritten = commit;
    this.scanner.settleReuse();
    this.saveStatCacheSoon();
    this.opts.onCheckpoint?.(written);
    return written;
  }

  /**
   * Puts the store back from the backup when a job deleted it (issue #10.8); null when it is in
   * place. Must run inside `exclusive` (which calls it first); throws BACKUP_FAILED.
   */
  repairIfVanished(why?: string): StoreRepair | null {
    const reason = why ?? storeVanished(this.layout);
    if (!reason) return null;
    const r = repairStore(this.layout, this.refs, this.backup, reason);
    this.reader.packs.relist();
    this.guard.presence.refresh();
    this.forgetLatest();
    this.watcher.rewatchCookies();
    this.watcher.requestRescan('the store was re-created after a job deleted it');
    if (r.empty) this.opts.logger.error({ ...r, backup: this.backup?.dir ?? null }, 'store vanished and no backup store holds it: re-created empty, its checkpoints are lost');
    else this.opts.logger.warn({ ...r, refs: r.refs.length, backup: this.backup?.dir }, 'store vanished; put back from the backup store');
    this.opts.onRepair?.(r);
    return r;
  }

  /** Mirrors the refs and new objects into the backup store; a failure is logged, never thrown. Inside `exclusive`. */
  async syncBackup(): Promise<void> {
    if (!this.backup || this.closed) return;
    try {
      const s = await this.backup.sync(this);
      this.recentTrees.clear();
      if (s.skipped.length) this.opts.logger.warn({ skipped: s.skipped }, 'backup store: refs naming missing objects were not mirrored');
    } catch (err) {
      this.opts.logger.error({ err: String(err), code: (err as { code?: string }).code }, 'backup store update failed');
    }
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
      }, false);
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
