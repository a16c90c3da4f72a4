/**
 * Prunes unreachable loose objects of a plain workspace's private store (S1.7). Only that store:
 * in a git repository the objects are the user's too, and `git gc` prunes them (our refs keep
 * every checkpoint reachable). Reachability is walked from every ref of the store plus the
 * index's current tree (blobs hashed but not committed yet are still needed by the next
 * checkpoint); and only objects older than a grace period go, like `git prune --expire`.
 * Must run inside `engine.exclusive`.
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotEngine } from '../store/snapshotEngine.js';
import { decodeTree } from '../store/treeCodec.js';

/** Loose objects younger than this are never pruned: a writer may be about to reference them. */
export const PRUNE_GRACE_MS = 60 * 60 * 1000;

const FANOUT = /^[0-9a-f]{2}$/;
const REST = /^[0-9a-f]{38}$/;

/** Every object reachable from the store's refs and the index. */
export async function reachableObjects(engine: SnapshotEngine): Promise<Set<string>> {
  const seen = new Set<string>();
  const commits = [...engine.refs.list('refs/').values()];
  const trees = [engine.writeTree()];
  while (commits.length || trees.length) {
    const commit = commits.pop();
    if (commit !== undefined) {
      if (seen.has(commit)) continue;
      seen.add(commit);
      const c = await engine.reader.readCommit(commit);
      trees.push(c.tree);
      commits.push(...c.parents);
      continue;
    }
    const tree = trees.pop() as string;
    if (seen.has(tree)) continue;
    seen.add(tree);
    for (const e of decodeTree(await engine.reader.readObject(tree, 'tree'))) {
      if (e.mode === '40000') trees.push(e.oid);
      else if (String(e.mode) !== '160000') seen.add(e.oid); // a gitlink names another repository's commit
    }
  }
  return seen;
}

/**
 * Deletes unreachable loose objects older than `graceMs`, and drops unreachable objects from
 * Shadow's packs older than that (checkpoints write packs, packMaintenance.ts); returns how many.
 */
export async function pruneLooseObjects(engine: SnapshotEngine, graceMs = PRUNE_GRACE_MS, now = Date.now()): Promise<number> {
  const reachable = await reachableObjects(engine);
  const packed = engine.packs.pruneUnreachable(reachable, graceMs, now);
  const objectsDir = engine.layout.objectsDir;
  let pruned = 0;
  for (const fan of readdirSync(objectsDir)) {
    if (!FANOUT.test(fan)) continue;
    const dir = join(objectsDir, fan);
    for (const name of readdirSync(dir)) {
      if (!REST.test(name) || reachable.has(fan + name)) continue;
      const path = join(dir, name);
      try {
        if (now - statSync(path).mtimeMs < graceMs) continue;
        unlinkSync(path);
        pruned++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return pruned + packed;
}
