/**
 * Retention of the nested store (issue #10.7, S1.7): a checkpoint's record of nested
 * repositories lives as long as the checkpoint is on a shadow ref; a capture as long as a record
 * names it; a pooled object as long as a capture needs it. Runs in the engine's queue (gc), so no
 * capture is being written meanwhile.
 */
import { readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotEngine } from './snapshotEngine.js';
import type { NestedStorePaths } from './nestedRepoCapture.js';
import { absent, readManifest } from './nestedRepoCapture.js';

/** What a prune removed. */
export interface NestedPruned {
  records: number;
  captures: number;
  objects: number;
}

/** Every commit reachable from a shadow ref (parents only: trees are not needed here). */
export async function shadowCommits(engine: SnapshotEngine): Promise<Set<string>> {
  const seen = new Set<string>();
  const todo = [...engine.refs.list().values()];
  while (todo.length) {
    const oid = todo.pop() as string;
    if (seen.has(oid)) continue;
    seen.add(oid);
    todo.push(...(await engine.reader.readCommit(oid)).parents);
  }
  return seen;
}

/** Drops records of commits not in `live`, then captures no record names, then objects no capture needs. */
export function pruneNestedStore(store: NestedStorePaths, live: Set<string>): NestedPruned {
  const pruned: NestedPruned = { records: 0, captures: 0, objects: 0 };
  const usedCaptures = new Set<string>();
  for (const name of list(store.checkpoints)) {
    const commit = name.replace(/\.json$/, '');
    const file = join(store.checkpoints, name);
    if (!live.has(commit)) {
      unlinkSync(file);
      pruned.records++;
      continue;
    }
    for (const r of (JSON.parse(readFileSync(file, 'utf8')) as { repos: { capture: string }[] }).repos) usedCaptures.add(r.capture);
  }
  const usedObjects = new Set<string>();
  for (const id of list(store.captures)) {
    if (!usedCaptures.has(id)) {
      rmSync(join(store.captures, id), { recursive: true, force: true });
      pruned.captures++;
      continue;
    }
    for (const rel of readManifest(store, id).objects) usedObjects.add(rel.slice('objects/'.length));
  }
  const walk = (rel: string): void => {
    for (const d of readdirSync(join(store.pool, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(child);
      else if (!usedObjects.has(child)) {
        unlinkSync(join(store.pool, child));
        pruned.objects++;
      }
    }
  };
  if (list(store.pool).length) walk('');
  rmSync(store.tmp, { recursive: true, force: true }); // leftovers of a capture or restore a crash cut short
  return pruned;
}

/** Entry names of a directory, none when it does not exist. */
function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (absent(err)) return [];
    throw err;
  }
}
