/**
 * Keeps the packs of checkpoints few: every checkpoint of many objects writes a small pack
 * (gitObjects.ts `collecting`), and once MERGE_AT small packs of ours exist they are merged into
 * one, in the store's queue, a moment after the checkpoint that wrote the last (never inside a
 * request's timed path). Not while the user's `git gc` runs: it repacks them itself.
 */
import { join } from 'node:path';
import { gcInProgress } from './objectGuard.js';
import { OwnPacks } from './ownPacks.js';
import { deletePacks, mergePacks, packObjectIds } from './packMerge.js';

/** Small packs of ours that trigger a merge. */
export const MERGE_AT = 16;
/** Packs at least this big (a cold start's, a merge's that grew) are left alone. */
export const SMALL_PACK_BYTES = 4 * 1024 * 1024;
/** Most bytes merged in one go (memory bound: the packs are read whole). */
const MERGE_MAX_BYTES = 32 * 1024 * 1024;
/** Delay from the pack write to the merge. */
const MERGE_DELAY_MS = 2000;

/** What the maintenance needs of the snapshot engine. */
export interface PackMaintenanceDeps {
  objectsDir: string;
  gitDir: string;
  /** The state folder's list file (STATE_FILES.ownPacks). */
  listFile: string;
  /** Runs `fn` in the store's queue. */
  exclusive: <T>(fn: () => T | Promise<T>) => Promise<T>;
  /** Lists the packs again after some were deleted (PackReader.relist). */
  relist: () => void;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** Records Shadow's packs and merges the small ones. */
export class PackMaintenance {
  private readonly own: OwnPacks;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly deps: PackMaintenanceDeps) {
    this.own = new OwnPacks(deps.listFile, join(deps.objectsDir, 'pack'));
  }

  /** Records a pack Shadow just wrote and schedules a merge check. */
  written(packPath: string): void {
    try {
      this.own.add(packPath);
    } catch (err) {
      // Unlisted, the pack is only never merged by us; the checkpoint is not at stake.
      this.deps.logger.warn({ pack: packPath, err: String(err) }, 'could not list a pack of ours');
    }
    this.mergeSoon();
  }

  /** Schedules a merge check (once; the timer does not keep the daemon alive). */
  mergeSoon(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.deps.exclusive(() => this.mergeNow()).catch((err: unknown) => this.deps.logger.warn({ err: String(err) }, 'pack merge failed; the packs stay as they are'));
    }, MERGE_DELAY_MS);
    this.timer.unref();
  }

  /** Stops scheduling merges. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Merges our small packs when there are MERGE_AT of them; returns the merged pack's path or
   * null. Inside the store's queue: no checkpoint is between its object writes and its ref update.
   */
  mergeNow(): string | null {
    if (this.closed || gcInProgress(this.deps.gitDir)) return null;
    const small = this.own.list().filter((p) => p.size < SMALL_PACK_BYTES);
    if (small.length < MERGE_AT) return null;
    const chosen: string[] = [];
    let bytes = 0;
    for (const p of small) {
      if (chosen.length >= 2 && bytes + p.size > MERGE_MAX_BYTES) break;
      chosen.push(p.name);
      bytes += p.size;
    }
    const r = this.replacePacks(chosen);
    if (r.pack) this.deps.logger.info({ pack: r.pack, merged: r.merged.length, objects: r.objects, bytes }, 'packs merged');
    return r.pack;
  }

  /**
   * A plain workspace's gc (S1.7): rewrites our packs older than `graceMs` that hold objects not
   * in `reachable`, without them; returns the objects dropped. Only for a store that is Shadow's
   * alone (in a git repository the user's git may name any object, and its gc prunes). Inside the
   * store's queue.
   */
  pruneUnreachable(reachable: ReadonlySet<string>, graceMs: number, now = Date.now()): number {
    const packDir = join(this.deps.objectsDir, 'pack');
    const stale = this.own
      .list()
      .filter((p) => now - p.mtimeMs >= graceMs && packObjectIds(join(packDir, `${p.name}.idx`)).some((oid) => !reachable.has(oid)));
    if (stale.length === 0) return 0;
    const r = this.replacePacks(stale.map((p) => p.name), reachable);
    this.deps.logger.info({ pack: r.pack, rewritten: r.merged.length, kept: r.objects, dropped: r.dropped }, 'unreachable packed objects pruned');
    return r.dropped;
  }

  /** Writes the merge of `names` (kept objects only, with `keep`), lists it, deletes the old ones. */
  private replacePacks(names: string[], keep?: ReadonlySet<string>): ReturnType<typeof mergePacks> {
    const r = mergePacks(this.deps.objectsDir, names, keep);
    if (r.merged.length === 0) return r;
    // Listed before the old ones go: a crash in between leaves duplicates, never an unlisted pack.
    if (r.pack) this.own.add(r.pack);
    deletePacks(this.deps.objectsDir, r.merged);
    this.deps.relist();
    this.own.replace(this.own.list().map((p) => p.name));
    return r;
  }
}
