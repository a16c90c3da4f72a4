/**
 * Persists the SnapshotIndex's stat cache in the state folder (like git's index), so a restarted
 * daemon re-hashes only files whose stat changed. Written only right after a checkpoint commit,
 * so every blob it names is reachable from a shadow ref (and safe from the user's `git gc`).
 * A missing, foreign or corrupt file is simply ignored: the next scan re-hashes.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { FileMode } from './flatTree.js';
import type { FileRecord, SnapshotIndex } from './snapshotIndex.js';
import { validateTreePath } from './validateTreePath.js';

const VERSION = 1;
const MODES = new Set<string>(['100644', '100755', '120000']);
const OID = /^[0-9a-f]{40}$/;

type Row = [string, string, string, number, number, number, number, number];

/** Writes the cache atomically (temp file + rename). */
export function saveStatCache(file: string, workspace: string, index: SnapshotIndex): void {
  const rows: Row[] = [];
  for (const [path, r] of index.entries()) rows.push([path, r.mode, r.oid, r.size, r.mtimeMs, r.ctimeMs, r.ino, r.hashedAt]);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: VERSION, workspace, files: rows }), { mode: 0o600 });
  renameSync(tmp, file);
}

/** Loads the cache into `index`; returns the number of records loaded (0 when unusable). */
export function loadStatCache(file: string, workspace: string, index: SnapshotIndex): number {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return 0;
  }
  const d = data as { version?: unknown; workspace?: unknown; files?: unknown };
  if (d.version !== VERSION || d.workspace !== workspace || !Array.isArray(d.files)) return 0;
  let loaded = 0;
  for (const row of d.files as unknown[]) {
    if (!Array.isArray(row) || row.length !== 8) continue;
    const [path, mode, oid, size, mtimeMs, ctimeMs, ino, hashedAt] = row as Row;
    if (typeof path !== 'string' || !path || path.includes('\0') || !MODES.has(mode) || !OID.test(oid)) continue;
    if (![size, mtimeMs, ctimeMs, ino, hashedAt].every((n) => typeof n === 'number' && Number.isFinite(n))) continue;
    try {
      // A tampered cache must not smuggle '..' or '.git' paths into a snapshot.
      validateTreePath(path);
    } catch {
      continue;
    }
    const record: FileRecord = { mode: mode as FileMode, oid, size, mtimeMs, ctimeMs, ino, hashedAt };
    index.set(path, record);
    loaded++;
  }
  return loaded;
}
