/**
 * A second home for Shadow's objects and refs, outside the work tree (issue #10.8): a bare git
 * repository (backupLocation.ts) kept current after every checkpoint. Objects are mirrored
 * incrementally: the walk starts at each refs/shadow/* head and stops at trees and commits already
 * mirrored by this daemon (the first sync after a start walks everything once). A loose object is
 * hard-linked (copied across filesystems), a packed one brings its whole pack by a hard link (git
 * packs are immutable), or is rewritten alone when the pack is on another filesystem. The refs
 * are mirrored as one packed-refs file, written after the objects they name; the run records are
 * copied beside them. Runs inside the engine's queue.
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ShadowError, toShadowError } from '../../shared/errors.js';
import { STATE_FILES } from '../../shared/paths.js';
import { RUNS_DIR } from '../runs/runStore.js';
import type { WorkspaceLayout } from '../workspaceLayout.js';
import { writeTempFile } from '../writeTempFile.js';
import type { BackupMeta } from './backupLocation.js';
import { BACKUP_CLOSED_FILE, BACKUP_MARKER_FILE, BACKUP_META_FILE, BACKUP_RUNS_DIR, backupStorePath } from './backupLocation.js';
import { linkOrCopy, linkPack, packObjectNames, reachableFrom, readBackupMeta, writeIfAbsent, writeMeta, writePackedRefs } from './backupFiles.js';
import { CheckpointReader } from './checkpointReader.js';
import { decodeCommit } from './commitCodec.js';
import { LooseObjectWriter } from './gitObjects.js';
import { ObjectPresence } from './objectPresence.js';
import { OwnPacks } from './ownPacks.js';
import { PackReader } from './packReader.js';
import { RefStore } from './refStore.js';
import type { TreeEntry } from './treeCodec.js';
import { decodeTree } from './treeCodec.js';

/** What one sync mirrored. */
export interface BackupSyncStats {
  /** Objects newly placed in the backup (linked, copied or rewritten). */
  objects: number;
  /** Packs hard-linked whole. */
  packs: number;
  /** Refs mirrored. */
  refs: number;
  /** Refs left out because an object they name is missing from the primary store. */
  skipped: string[];
}

/** What the backup store reads from the primary one. */
export interface BackupSource {
  layout: WorkspaceLayout;
  refs: RefStore;
  reader: CheckpointReader;
  /** Trees the source wrote recently, decoded: read from here rather than from disk. */
  recentTrees?: ReadonlyMap<string, readonly TreeEntry[]>;
}

/** The backup store of one workspace. */
export class BackupStore {
  /** The bare repository's path. */
  readonly dir: string;
  /** Its objects directory. */
  readonly objectsDir: string;
  /** Its refs (all in packed-refs). */
  readonly refs: RefStore;
  /** Reads its objects (the primary store's reader falls back to this one). */
  readonly reader: CheckpointReader;
  private readonly presence: ObjectPresence;
  private readonly writer: LooseObjectWriter;
  /**
   * Trees and commits whose whole closure is in the backup, persisted in BACKUP_CLOSED_FILE (one
   * oid a line, appended after the objects are on disk) so a restarted daemon walks only what is new.
   */
  private readonly closed = new Set<string>();
  /** Whether `closed` holds the persisted list (reloaded after a failure). */
  private closedLoaded = false;
  /** Oids closed by the sync in progress, appended to the list once it succeeded. */
  private newlyClosed: string[] = [];
  /** Primary packs that could be neither linked nor copied (a user's pack on another filesystem), this sync. */
  private unlinkable = new Set<string>();
  /** Shadow's own primary packs, read lazily once per sync. */
  private ownPacks: Set<string> | null = null;
  /** Set once `init` succeeded in this daemon's life; cleared by a failed sync (the store may be gone). */
  private initialized = false;

  constructor(workspace: string, env: NodeJS.ProcessEnv = process.env) {
    this.dir = backupStorePath(workspace, env);
    this.objectsDir = join(this.dir, 'objects');
    this.refs = new RefStore(this.dir);
    this.reader = new CheckpointReader(this.dir, this.refs);
    this.presence = new ObjectPresence(this.objectsDir, new PackReader(this.objectsDir));
    this.writer = new LooseObjectWriter(this.objectsDir);
  }

  /** Whether the state folder `stateDir` has been backed up here (holds the marker a sync writes). */
  markedIn(stateDir: string): boolean {
    return existsSync(join(stateDir, BACKUP_MARKER_FILE));
  }

  /** Whether the store exists (was synced at least once). */
  exists(): boolean {
    return existsSync(join(this.dir, BACKUP_META_FILE));
  }

  /** The store's metadata, or null when absent or unreadable. */
  meta(): BackupMeta | null {
    return readBackupMeta(this.dir);
  }

  /** Creates the bare repository (0700) if absent, so native `git --git-dir=<dir>` works on it. */
  init(): void {
    for (const sub of ['objects/pack', 'objects/info', 'refs/heads', 'refs/tags', BACKUP_RUNS_DIR]) mkdirSync(join(this.dir, sub), { recursive: true, mode: 0o700 });
    writeIfAbsent(join(this.dir, 'HEAD'), 'ref: refs/heads/main\n');
    writeIfAbsent(join(this.dir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n');
  }

  /**
   * Mirrors every refs/shadow/* ref of `src` with the objects it reaches, and the run records.
   * A ref naming an object the primary lost is left as it was in the backup (reported in
   * `skipped`). Throws BACKUP_FAILED when the backup cannot be written.
   */
  async sync(src: BackupSource): Promise<BackupSyncStats> {
    try {
      if (!this.initialized) this.init();
      this.initialized = true;
      this.loadClosed();
      this.unlinkable = new Set();
      this.ownPacks = null;
      this.presence.refresh();
      const stats: BackupSyncStats = { objects: 0, packs: 0, refs: 0, skipped: [] };
      const primary = src.refs.list();
      const mirrored = this.refs.list();
      let newest: BackupMeta['newest'] = null;
      await this.writer.collecting(async () => {
        for (const [ref, oid] of primary) {
          if (mirrored.get(ref) === oid && this.closed.has(oid)) {
            mirrored.set(ref, oid);
            continue;
          }
          try {
            await this.mirrorClosure(src, oid, stats);
            mirrored.set(ref, oid);
          } catch (err) {
            const code = (err as ShadowError).code;
            if (code !== 'CHECKPOINT_NOT_FOUND' && code !== 'OBJECT_CORRUPT') throw err;
            stats.skipped.push(ref);
          }
        }
      });
      // The objects are on disk (the collected ones too, written as the scope ended): now they count.
      if (this.newlyClosed.length) appendFileSync(join(this.dir, BACKUP_CLOSED_FILE), this.newlyClosed.map((o) => `${o}\n`).join(''), { mode: 0o600 });
      this.newlyClosed = [];
      // Refs the primary no longer has were pruned by retention (or never mirrored): not kept,
      // unless the primary's refs are all gone (the store vanished: the backup is what is left).
      const keep = primary.size === 0 ? mirrored : new Map([...mirrored].filter(([ref]) => primary.has(ref) || stats.skipped.includes(ref)));
      for (const [ref, oid] of keep) {
        const c = await this.reader.readCommit(oid).catch(() => null);
        if (c && (!newest || c.time > newest.time)) newest = { commit: oid, ref, time: c.time };
      }
      writePackedRefs(this.dir, keep);
      stats.refs = keep.size;
      if (primary.size > 0) this.mirrorRunRecords(src.layout.stateDir);
      if (primary.size > 0 && !this.markedIn(src.layout.stateDir)) renameSync(writeTempFile(join(src.layout.stateDir, BACKUP_MARKER_FILE), `${this.dir}\n`), join(src.layout.stateDir, BACKUP_MARKER_FILE));
      writeMeta(this.dir, { version: 1, workspace: src.layout.workspace, kind: src.layout.kind, newest, updatedAt: Date.now() });
      return stats;
    } catch (err) {
      this.forgetClosed();
      this.initialized = false;
      if (err instanceof ShadowError && err.code === 'BACKUP_FAILED') throw err;
      const e = toShadowError(err);
      throw new ShadowError('BACKUP_FAILED', `Cannot update the backup store ${this.dir}: ${e.message}`, { store: this.dir, code: e.code, ...e.details }, { cause: err });
    }
  }

  /** Copies into the backup every object reachable from `commit` that it lacks. */
  private async mirrorClosure(src: BackupSource, commit: string, stats: BackupSyncStats): Promise<void> {
    const pending: { oid: string; type: 'commit' | 'tree' }[] = [{ oid: commit, type: 'commit' }];
    const added = new Set<string>();
    while (pending.length) {
      const { oid, type } = pending.pop() as { oid: string; type: 'commit' | 'tree' };
      if (this.closed.has(oid) || added.has(oid)) continue;
      added.add(oid);
      const recent = type === 'tree' ? src.recentTrees?.get(oid) : undefined;
      const body = recent ? null : await src.reader.readObject(oid, type);
      if (!this.presence.has(oid)) await this.place(src, oid, type, body, stats);
      if (type === 'commit') {
        const c = decodeCommit(body as Uint8Array);
        pending.push({ oid: c.tree, type: 'tree' }, ...c.parents.map((p) => ({ oid: p, type: 'commit' as const })));
      } else {
        for (const e of recent ?? decodeTree(body as Uint8Array)) {
          if (e.mode === '40000') pending.push({ oid: e.oid, type: 'tree' });
          else if (String(e.mode) !== '160000' && !this.presence.has(e.oid)) await this.place(src, e.oid, 'blob', null, stats);
        }
      }
    }
    // Only once the whole walk succeeded: a failure part-way must not mark a half-copied tree.
    for (const oid of added) this.closed.add(oid);
    this.newlyClosed.push(...added);
  }

  /** Puts one object of the primary into the backup: link its loose file, link its pack, or rewrite it. */
  private async place(src: BackupSource, oid: string, type: 'commit' | 'tree' | 'blob', body: Uint8Array | null, stats: BackupSyncStats): Promise<void> {
    stats.objects++;
    // Packed first (an in-memory lookup): most objects are in a checkpoint's or a scan's pack.
    const pack = src.reader.packs.packOf(oid);
    if (pack && !this.unlinkable.has(pack)) {
      // Across filesystems only Shadow's own packs are copied whole (bounded: 32 MB); a clone's
      // pack may be gigabytes, and only the objects the checkpoints need are taken from it.
      if (linkPack(pack, join(this.objectsDir, 'pack'), this.ownPackNames(src).has(basename(pack, '.pack')))) {
        this.presence.refresh();
        stats.packs++;
        return;
      }
      this.unlinkable.add(pack);
    }
    const rel = join(oid.slice(0, 2), oid.slice(2));
    if (!pack && linkOrCopy(join(src.layout.objectsDir, rel), join(this.objectsDir, rel))) return;
    // Out of a pack that is not linked, or moved between the two looks: the object alone, collected into one pack.
    this.writer.write(type, body ?? (await src.reader.readObject(oid, type)));
  }

  /** Names of the packs Shadow wrote into the primary store, read once per sync. */
  private ownPackNames(src: BackupSource): Set<string> {
    this.ownPacks ??= new Set(new OwnPacks(join(src.layout.stateDir, STATE_FILES.ownPacks), join(src.layout.objectsDir, 'pack')).list().map((p) => p.name));
    return this.ownPacks;
  }

  /** Loads the persisted closed list once (and again after a failure). */
  private loadClosed(): void {
    if (this.closedLoaded) return;
    try {
      for (const line of readFileSync(join(this.dir, BACKUP_CLOSED_FILE), 'utf8').split('\n')) if (/^[0-9a-f]{40}$/.test(line)) this.closed.add(line);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.closedLoaded = true;
  }

  /** Drops the in-memory closed set: the next sync reloads the persisted list. */
  private forgetClosed(): void {
    this.closed.clear();
    this.newlyClosed = [];
    this.closedLoaded = false;
  }

  /** Copies the state folder's run records that changed since the last sync; drops those retention deleted. */
  private mirrorRunRecords(stateDir: string): void {
    const from = join(stateDir, RUNS_DIR);
    const to = join(this.dir, BACKUP_RUNS_DIR);
    let names: string[];
    try {
      names = readdirSync(from).filter((n) => n.endsWith('.json'));
    } catch {
      return; // no runs folder (yet, or vanished): keep what the backup has
    }
    for (const name of names) {
      const a = statSync(join(from, name), { throwIfNoEntry: false });
      const b = statSync(join(to, name), { throwIfNoEntry: false });
      if (!a || (b && b.size === a.size && b.mtimeMs >= a.mtimeMs)) continue;
      const tmp = join(to, `${name}.${process.pid}.tmp`);
      copyFileSync(join(from, name), tmp);
      renameSync(tmp, join(to, name));
    }
    const present = new Set(names);
    for (const name of readdirSync(to)) if (name.endsWith('.json') && !present.has(name)) rmSync(join(to, name), { force: true });
  }

  /**
   * Drops what retention pruned from the primary (S1.7): after a sync has mirrored the refs,
   * loose objects no ref reaches are deleted, and packs none of whose objects are reached. Returns
   * how many objects went. Inside the engine's queue.
   */
  async prune(src: BackupSource): Promise<number> {
    if (!this.exists()) return 0;
    await this.sync(src);
    const reachable = await reachableFrom(this.reader, [...this.refs.list().values()]);
    // The closed list keeps only what stays (a pruned tree written again later must be walked again).
    const kept = [...this.closed].filter((oid) => reachable.has(oid));
    const list = join(this.dir, BACKUP_CLOSED_FILE);
    renameSync(writeTempFile(list, kept.map((o) => `${o}\n`).join('')), list);
    this.forgetClosed();
    let pruned = 0;
    for (const fan of readdirSync(this.objectsDir)) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      for (const name of readdirSync(join(this.objectsDir, fan))) {
        if (!/^[0-9a-f]{38}$/.test(name) || reachable.has(fan + name)) continue;
        rmSync(join(this.objectsDir, fan, name), { force: true });
        pruned++;
      }
    }
    const packDir = join(this.objectsDir, 'pack');
    for (const name of readdirSync(packDir)) {
      if (!name.endsWith('.idx')) continue;
      const names = packObjectNames(join(packDir, name));
      if (!names || names.some((oid) => reachable.has(oid))) continue;
      // The index first: git sees a pack through its index, so no reader finds a half-deleted one.
      unlinkSync(join(packDir, name));
      rmSync(join(packDir, name.replace(/\.idx$/, '.pack')), { force: true });
      pruned += names.length;
    }
    this.presence.refresh();
    return pruned;
  }
}
