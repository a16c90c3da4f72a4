/**
 * What `undo` restores after a journal replay (S2.5, S5.4). The replay completes a restore that
 * a crash interrupted, but the user may have edited files between the crash and the restart: the
 * replay's fresh pre-abort commit holds them, beside the half-restored rest. Undoing should give
 * back the state before the interrupted restore *and* keep those later edits, so the replay
 * commits this tree on refs/shadow/undo after its own pre-abort: the journal's pre-abort, with
 * every path that holds neither its pre-abort content nor the target's taken as found.
 */
import { encodeCommit } from './commitCodec.js';
import { summarizePerms } from './permsMetadata.js';
import type { CheckpointMeta } from './commitCodec.js';
import type { FlatEntry, FlatTree } from './flatTree.js';
import type { SnapshotEngine } from './snapshotEngine.js';
import { REFS } from './snapshotEngine.js';
import { SnapshotIndex } from './snapshotIndex.js';
import { encodeTree } from './treeCodec.js';

/** The three trees of a replay: before the interrupted restore, its target, and as the restart found it. */
export interface ReplayTrees {
  before: FlatTree;
  target: FlatTree;
  found: FlatTree;
  /** The interrupted restore's path filters; paths outside them are taken as found. */
  inScope: (path: string) => boolean;
}

const same = (a: FlatEntry | undefined, b: FlatEntry | undefined): boolean => (a === undefined ? b === undefined : b !== undefined && a.oid === b.oid && a.mode === b.mode);

/** Whether the restart found `path` changed after the crash: neither as it was before the restore nor as the restore makes it. */
export function changedAfterCrash(t: ReplayTrees, path: string): boolean {
  const f = t.found.get(path);
  return !same(f, t.before.get(path)) && !same(f, t.target.get(path));
}

/** The tree undo should restore: `before`, with the paths changed after the crash (and those out of scope) as found. */
export function undoTreeAfterReplay(t: ReplayTrees): FlatTree {
  const out = new Map(t.before);
  const fromFound = new Set<string>();
  for (const path of new Set([...t.found.keys(), ...t.before.keys(), ...t.target.keys()])) {
    if (t.inScope(path) && !changedAfterCrash(t, path)) continue;
    const f = t.found.get(path);
    if (f) {
      out.set(path, f);
      fromFound.add(path);
    } else out.delete(path);
  }
  // A file of `before` where the user made a directory since (or the reverse): the user's wins.
  const dirsOfFound = new Set<string>();
  for (const path of fromFound) {
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) dirsOfFound.add(path.slice(0, i));
  }
  for (const path of [...out.keys()]) {
    if (fromFound.has(path)) continue;
    if (dirsOfFound.has(path)) out.delete(path);
    else for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) if (fromFound.has(path.slice(0, i))) out.delete(path);
  }
  return out;
}

/** Writes `tree` (its blobs are in the store already) as a commit on refs/shadow/undo after `parent`; returns it. Inside `exclusive`. */
export function commitUndoPoint(engine: SnapshotEngine, tree: FlatTree, parent: string, subject: string, meta: CheckpointMeta): string {
  const index = new SnapshotIndex();
  for (const [path, e] of tree) {
    // The bits on disk now when the file is the same; else git's default for its mode (#10.12).
    const now = engine.index.get(path);
    const perms = now && now.oid === e.oid && now.mode === e.mode ? now.perms : e.mode === '100755' ? 0o755 : 0o644;
    index.set(path, { mode: e.mode, perms, oid: e.oid, size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0, hashedAt: 0 });
  }
  const root = index.rootTree((entries) => engine.writer.write('tree', encodeTree(entries)));
  const perms = summarizePerms((fn) => index.eachFile(fn));
  const commit = engine.writer.write('commit', encodeCommit({ tree: root, parents: [parent], subject, meta, perms }));
  engine.refs.update(REFS.undo, commit, parent);
  return commit;
}
