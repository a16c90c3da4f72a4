/**
 * The permission half of a restore: files whose content and git mode already match the target
 * (so the plan writes nothing there) but whose bits differ from what the target recorded, e.g. a
 * job's `chmod 644 secrets.env`. A restore must bring those bits back too (permsMetadata.ts).
 */
import { chmodSync, lstatSync, realpathSync } from 'node:fs';
import { fsDirname, fsPath } from '../../shared/pathBytes.js';
import type { FlatTree } from './flatTree.js';
import type { CommitPerms } from './permsMetadata.js';
import { permBits, summarizePerms } from './permsMetadata.js';
import type { PreservedPath, RestorePlan } from './restorePlan.js';
import { scopeMatcher } from './restorePlan.js';
import type { SnapshotIndex } from './snapshotIndex.js';

/**
 * Sets the recorded bits on every in-scope file of `target` that the plan leaves alone, whose
 * index record has the target's oid and mode but other bits. Returns the paths changed; a file
 * that moved since (no longer a regular file under a real directory of the workspace) is skipped;
 * one whose chmod fails is listed in `failed` (errno), like a write the restore could not do.
 * Nothing happens for a commit without recorded bits: an older commit keeps the current ones.
 */
export function restorePerms(root: string, target: FlatTree, perms: CommitPerms | null, index: SnapshotIndex, plan: RestorePlan, paths: string[] | null): { changed: string[]; failed: PreservedPath[] } {
  const changed: string[] = [];
  const failed: PreservedPath[] = [];
  if (!perms) return { changed, failed };
  const handled = new Set<string>([...plan.write.map((w) => w.path), ...plan.preserved.map((p) => p.path)]);
  const inScope = scopeMatcher(paths ?? undefined);
  const base = realpathSync(root);
  // With the same defaults on both sides, only a path listed as an exception on either side can
  // differ: no walk over a 100k-file target then.
  const now = summarizePerms((fn) => index.eachFile(fn));
  const candidates = now.file === perms.file && now.exec === perms.exec ? new Set([...perms.exceptions.keys(), ...now.exceptions.keys()]) : target.keys();
  for (const path of candidates) {
    const entry = target.get(path);
    if (!entry || entry.mode === '120000' || handled.has(path) || !inScope(path)) continue;
    const rec = index.get(path);
    if (!rec || rec.oid !== entry.oid || rec.mode !== entry.mode) continue;
    const want = perms.exceptions.get(path) ?? (entry.mode === '100755' ? perms.exec : perms.file);
    if (rec.perms === want) continue;
    const abs = fsPath(base, path);
    try {
      // chmod follows symlinks: only a regular file whose parent is really inside the workspace.
      const dir = fsDirname(abs);
      if (!realpathSync(dir, { encoding: 'buffer' }).equals(typeof dir === 'string' ? Buffer.from(dir) : dir)) continue;
      const st = lstatSync(abs);
      if (!st.isFile() || permBits(st.mode) === want) continue;
      chmodSync(abs, want);
      changed.push(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Gone since the scan: nothing to set. Anything else is reported like a failed write.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') failed.push({ path, reason: `error: ${code ?? String(err)}` });
    }
  }
  return { changed, failed };
}
