/**
 * The file-level pieces of the backup store (backupStore.ts): linking or copying objects and
 * packs, its packed-refs and metadata files, and the reachability walk its prune uses.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeTempFile } from '../writeTempFile.js';
import type { BackupMeta } from './backupLocation.js';
import { BACKUP_META_FILE } from './backupLocation.js';
import type { CheckpointReader } from './checkpointReader.js';
import { INDEX_NAMES_OFFSET, indexObjectCount } from './packReader.js';
import { SHADOW_REF_PREFIX } from './refStore.js';
import { decodeTree } from './treeCodec.js';

/** Every object reachable from `heads` in the store `reader` reads. */
export async function reachableFrom(reader: CheckpointReader, heads: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const pending: { oid: string; type: 'commit' | 'tree' }[] = heads.map((oid) => ({ oid, type: 'commit' }));
  while (pending.length) {
    const { oid, type } = pending.pop() as { oid: string; type: 'commit' | 'tree' };
    if (seen.has(oid)) continue;
    seen.add(oid);
    if (type === 'commit') {
      const c = await reader.readCommit(oid);
      pending.push({ oid: c.tree, type: 'tree' }, ...c.parents.map((p) => ({ oid: p, type: 'commit' as const })));
      continue;
    }
    for (const e of decodeTree(await reader.readObject(oid, 'tree'))) {
      if (e.mode === '40000') pending.push({ oid: e.oid, type: 'tree' });
      else if (String(e.mode) !== '160000') seen.add(e.oid);
    }
  }
  return seen;
}

/** The object ids a v2 pack index lists, or null when it is not one. */
export function packObjectNames(idxPath: string): string[] | null {
  const buf = readFileSync(idxPath);
  const count = indexObjectCount(buf);
  if (count === null) return null;
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(buf.subarray(INDEX_NAMES_OFFSET + i * 20, INDEX_NAMES_OFFSET + i * 20 + 20).toString('hex'));
  return out;
}

/** The metadata of the backup store at `dir`, or null when absent or not ours. */
export function readBackupMeta(dir: string): BackupMeta | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, BACKUP_META_FILE), 'utf8')) as BackupMeta;
    return m && m.version === 1 && typeof m.workspace === 'string' ? m : null;
  } catch {
    return null;
  }
}

/** Writes a backup store's metadata file whole (temp + rename). */
export function writeMeta(dir: string, meta: BackupMeta): void {
  const file = join(dir, BACKUP_META_FILE);
  renameSync(writeTempFile(file, `${JSON.stringify(meta, null, 2)}\n`), file);
}

/** Writes every ref as one packed-refs file (temp + rename), sorted as git expects. */
export function writePackedRefs(dir: string, refs: Map<string, string>): void {
  const lines = [...refs].filter(([ref]) => ref.startsWith(SHADOW_REF_PREFIX)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = `# pack-refs with: peeled fully-peeled sorted \n${lines.map(([ref, oid]) => `${oid} ${ref}\n`).join('')}`;
  const file = join(dir, 'packed-refs');
  renameSync(writeTempFile(file, text, 0o644), file);
}

/**
 * Hard-links `from` to `to` (copies when they are on different filesystems); true when `to`
 * exists afterwards, false when `from` does not exist.
 */
export function linkOrCopy(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return true;
    if (code === 'ENOENT' && !existsSync(from)) return false;
    if (code === 'ENOENT') {
      mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
      return linkOrCopy(from, to);
    }
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
  }
  const tmp = `${to}.${process.pid}.tmp`;
  try {
    copyFileSync(from, tmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(from)) return false;
    throw err;
  }
  renameSync(tmp, to);
  return true;
}

/**
 * Hard-links a pack and then its index into `packDir` (copies them when on another filesystem and
 * `mayCopy`); false when it did neither, or the pack is gone.
 */
export function linkPack(packPath: string, packDir: string, mayCopy: boolean): boolean {
  const idx = packPath.replace(/\.pack$/, '.idx');
  for (const file of [packPath, idx]) {
    const to = join(packDir, basename(file));
    try {
      linkSync(file, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'ENOENT') return false;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
      if (!mayCopy || !linkOrCopy(file, to)) return false;
    }
  }
  return true;
}

/** Writes a file whole unless it exists. */
export function writeIfAbsent(path: string, text: string): void {
  if (existsSync(path)) return;
  renameSync(writeTempFile(path, text, 0o644), path);
}
