/**
 * Keeps every checkpoint complete beside the user's git (S1.6). The snapshot index caches blob
 * oids and per-directory tree oids, and a checkpoint reuses them; but the user's
 * `git gc --prune=now` deletes every unreachable loose object, whatever its age ("now" means no
 * grace at all in git): a blob hashed for a `diff`, trees of a checkpoint whose ref our retention
 * deleted, and objects written a moment ago whose ref has not moved yet (prune walks the refs
 * first and deletes afterwards). `git repack -a -d` likewise drops unreachable packed objects.
 * Git itself documents `--prune=now` as unsafe beside any writer; Shadow copes by
 * - not starting a checkpoint while a `git gc` runs (its `gc.pid`), bounded by GC_WAIT_MS: the
 *   few milliseconds from our first object write to the ref update are then far shorter than a
 *   gc's way from its start to its prune walk (pack-refs, reflog expire, a full repack);
 * - checking, before the commit, that every object of the new tree its base (the parent's tree,
 *   reachable from a ref all along) does not name is on disk, loose or packed: a missing tree is
 *   written again, a missing blob re-hashed from its file (or the file rescanned if it changed);
 * - checking again after the ref moved, and once more after any gc that started meanwhile has
 *   finished, rewriting what vanished; if a blob cannot be recreated (its file changed), or
 *   anything else fails, the ref is moved back: a ref never stays on a missing object.
 */
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ShadowError } from '../../shared/errors.js';
import type { CheckpointReader } from './checkpointReader.js';
import type { LooseObjectWriter } from './gitObjects.js';
import { hashObject } from './gitObjects.js';
import type { ObjectPresence } from './objectPresence.js';
import type { SnapshotIndex } from './snapshotIndex.js';
import { EMPTY_TREE, joinPath } from './snapshotIndex.js';
import { makeYielder } from './scanSlicer.js';
import { decodeTree } from './treeCodec.js';
import type { TreeEntryCache, TreeNames } from './treeEntryCache.js';

/** Longest a checkpoint waits for a user's `git gc` to finish, before and after its ref update. */
export const GC_WAIT_MS = 30_000;
/** A gc.pid older than this is a crashed gc's leftover (git itself says 12 h). */
const GC_MARKER_STALE_MS = 60 * 60 * 1000;
const ATTEMPTS = 5;

/** What the guard needs of the snapshot engine. */
export interface GuardDeps {
  index: SnapshotIndex;
  writer: LooseObjectWriter;
  reader: CheckpointReader;
  presence: ObjectPresence;
  workspace: string;
  /** The store's git dir, where `git gc` keeps its `gc.pid` while it runs. */
  gitDir: string;
  /** The index's root tree, writing trees whose cache was invalidated. */
  writeTree: () => string;
  /** Decoded trees (the base's, mostly written by the engine itself): no disk read for them. */
  trees: TreeEntryCache;
}

/** Objects of the index's tree that its base does not name at the same place. */
interface Candidates {
  trees: { dir: string; oid: string }[];
  blobs: { path: string; oid: string }[];
}

/**
 * The objects of the index's tree (as last written) that `baseTree` (a tree reachable from a ref)
 * does not name at the same place; equal subtrees are skipped whole, so this costs in proportion
 * to the change (S1.4).
 */
async function candidates(deps: GuardDeps, baseTree: string | null, pause: () => Promise<boolean>): Promise<Candidates> {
  const { index } = deps;
  const out: Candidates = { trees: [], blobs: [] };
  const walk = async (dir: string, base: string | null): Promise<void> => {
    await pause();
    const tree = index.cachedTree(dir);
    if (tree === null || tree === base || tree === EMPTY_TREE) return;
    out.trees.push({ dir, oid: tree });
    const baseEntries = base ? await entriesOf(deps, base) : new Map<string, string>();
    const { files, subdirs } = index.children(dir);
    for (const name of files) {
      const path = joinPath(dir, name);
      const rec = index.get(path);
      if (rec && baseEntries.get(name) !== rec.oid) out.blobs.push({ path, oid: rec.oid });
    }
    for (const name of subdirs) await walk(joinPath(dir, name), baseEntries.get(name) ?? null);
  };
  await walk('', baseTree);
  return out;
}

/**
 * Before a commit: makes every object of the index's tree that `baseTree` lacks present on disk.
 * `rescan` brings the index up to date when a file changed since its pruned blob was hashed.
 * Returns the root tree to commit.
 */
export async function ensureTreeObjects(deps: GuardDeps, baseTree: string | null, rescan: () => Promise<void>): Promise<string> {
  const { index, presence } = deps;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const tree = deps.writeTree();
    presence.refresh();
    // A moved-in tree of 30 000 files means 30 000 checks here and again after the commit: they
    // yield now and then, so status and cancel are answered meanwhile (S2.2). The index cannot
    // change in between: only the store's queue, which this runs in, changes it.
    const pause = makeYielder();
    const c = await candidates(deps, baseTree, pause);
    let again = false;
    let stale = false;
    for (const { path, oid } of c.blobs) {
      await pause();
      if (presence.has(oid)) continue;
      again = true;
      if (!rewriteBlob(deps, path, oid)) {
        // The file changed (or went) since it was hashed: forget it, so the rescan re-reads it.
        index.remove(path);
        stale = true;
      }
    }
    for (const { dir, oid } of c.trees) {
      if (presence.has(oid)) continue;
      index.invalidateTree(dir); // writeTree writes it again
      again = true;
    }
    if (stale) await rescan();
    if (!again) return tree;
  }
  throw new ShadowError('OBJECT_CORRUPT', 'Objects of the checkpoint tree keep vanishing from the store (a concurrent git gc/prune?)', { baseTree });
}

/**
 * `ensureTreeObjects`, then, if a `git gc` started meanwhile, waits for it to finish and checks
 * again: the caller writes its commit and moves the ref synchronously after this resolves with
 * no gc running, so a gc starting later walks the refs after the update (S1.6).
 */
export async function treeObjectsReady(deps: GuardDeps, baseTree: string | null, rescan: () => Promise<void>): Promise<string> {
  const deadline = Date.now() + GC_WAIT_MS;
  for (;;) {
    const tree = await ensureTreeObjects(deps, baseTree, rescan);
    if (!gcInProgress(deps.gitDir) || Date.now() > deadline) return tree;
    await waitForGc(deps.gitDir, deadline);
  }
}

/**
 * For writers of whole objects (the auto chain's re-parented commits): right before a ref update,
 * waits out a `git gc` in progress and writes again any of `objects` it pruned meanwhile. The
 * caller moves the ref synchronously after this resolves.
 */
export async function objectsReadyForRef(deps: GuardDeps, objects: { type: 'commit' | 'tree' | 'blob'; bytes: Uint8Array }[]): Promise<void> {
  const deadline = Date.now() + GC_WAIT_MS;
  for (;;) {
    if (gcInProgress(deps.gitDir) && Date.now() < deadline) await waitForGc(deps.gitDir, deadline);
    deps.presence.refresh();
    for (const o of objects) {
      const oid = hashObject(o.type, o.bytes);
      if (!deps.presence.has(oid)) deps.writer.write(o.type, o.bytes);
    }
    if (!gcInProgress(deps.gitDir) || Date.now() > deadline) return;
  }
}

/**
 * After the ref moved to `commit`: checks the commit and the objects its base lacks once more,
 * rewriting what a prune deleted anyway, and again after a `git gc` in progress has finished. When a blob cannot be recreated (its file changed),
 * `rollback` moves the ref back and the checkpoint fails with OBJECT_CORRUPT. Returns the number
 * of objects rewritten.
 */
export async function confirmCommitted(
  deps: GuardDeps,
  c: { commit: string; commitBytes: Uint8Array; tree: string; baseTree: string | null },
  rollback: () => void,
): Promise<number> {
  const deadline = Date.now() + GC_WAIT_MS;
  try {
    let repaired = 0;
    for (;;) {
      // The marker first: if no gc runs now, any prune that saw the old ref has finished deleting.
      const gcRunning = gcInProgress(deps.gitDir);
      repaired += await recheck(deps, c);
      if (!gcRunning || Date.now() > deadline) return repaired;
      await waitForGc(deps.gitDir, deadline);
    }
  } catch (err) {
    // Whatever failed (a write, a read), the ref must not stay on a commit we could not confirm.
    try {
      rollback();
    } catch {
      // moved meanwhile, or locked: the error below still reports the failed checkpoint
    }
    throw err;
  }
}

async function recheck(deps: GuardDeps, c: { commit: string; commitBytes: Uint8Array; tree: string; baseTree: string | null }): Promise<number> {
  const { presence, writer, index } = deps;
  let repaired = 0;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    presence.refresh();
    let fixed = 0;
    if (!presence.has(c.commit)) {
      writer.write('commit', c.commitBytes);
      fixed++;
    }
    const pause = makeYielder();
    const all = await candidates(deps, c.baseTree, pause);
    for (const { path, oid } of all.blobs) {
      await pause();
      if (presence.has(oid)) continue;
      if (!rewriteBlob(deps, path, oid)) {
        throw new ShadowError('OBJECT_CORRUPT', `Checkpoint ${c.commit} lost blob ${oid} (${path}) to a concurrent git prune and the file changed since; the ref was moved back`, { commit: c.commit, path });
      }
      fixed++;
    }
    const trees = all.trees.filter((t) => !presence.has(t.oid));
    for (const { dir } of trees) index.invalidateTree(dir);
    // Same exclusive section as the commit: the index has not changed, so the same bytes and oids.
    if (trees.length > 0 && deps.writeTree() !== c.tree) {
      throw new ShadowError('OBJECT_CORRUPT', `Checkpoint ${c.commit} lost trees to a concurrent git prune; the ref was moved back`, { commit: c.commit });
    }
    fixed += trees.length;
    repaired += fixed;
    if (fixed === 0) return repaired;
  }
  return repaired;
}

/** Writes the blob of `path` again from the file, if the file still has the content `oid` names. */
function rewriteBlob(deps: GuardDeps, path: string, oid: string): boolean {
  const rec = deps.index.get(path);
  if (!rec) return false;
  const full = join(deps.workspace, path);
  let content: Buffer;
  try {
    content = rec.mode === '120000' ? readlinkSync(full, { encoding: 'buffer' }) : readFileSync(full);
  } catch {
    return false;
  }
  if (hashObject('blob', content) !== oid) return false;
  deps.writer.write('blob', content);
  return true;
}

async function entriesOf(deps: GuardDeps, tree: string): Promise<TreeNames> {
  const cached = deps.trees.get(tree);
  if (cached) return cached;
  try {
    return deps.trees.set(tree, decodeTree(await deps.reader.readObject(tree, 'tree')));
  } catch {
    return new Map(); // an unreadable base shares nothing: check everything below
  }
}

/** Whether a `git gc` holds the repository's gc.pid (and it is not a crashed gc's leftover). */
export function gcInProgress(gitDir: string): boolean {
  try {
    return Date.now() - statSync(join(gitDir, 'gc.pid')).mtimeMs < GC_MARKER_STALE_MS;
  } catch {
    return false;
  }
}

/** Waits while a `git gc` runs, until `deadline` (ms since the epoch); polls its gc.pid. */
export async function waitForGc(gitDir: string, deadline = Date.now() + GC_WAIT_MS): Promise<void> {
  while (gcInProgress(gitDir) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
