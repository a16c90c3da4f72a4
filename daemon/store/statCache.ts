/**
 * Persists the SnapshotIndex's stat cache in the state folder (like git's index), so a restarted
 * daemon re-hashes only files whose stat changed. Written only right after a checkpoint commit,
 * so every blob it names is reachable from that commit (and safe from the user's `git gc` while a
 * shadow ref holds it).
 *
 * A cache row is trusted blindly: a file whose stat matches keeps the row's oid without being
 * read. So a damaged cache that still parses (a flipped digit in an oid) would put a wrong blob
 * in the next snapshot, and a wrong restore later. Like git's index, the file therefore ends in a
 * checksum of everything before it, and names the commit it was saved after: a cache whose
 * checksum fails, or whose commit is gone (refs deleted, then pruned), is discarded whole and the
 * next scan re-hashes everything. Format: `<json>\n<sha256 of json, hex>\n`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { FileMode } from './flatTree.js';
import type { FileRecord, SnapshotIndex } from './snapshotIndex.js';
import { validateTreePath } from './validateTreePath.js';

/** Format version; files of any other version are discarded. */
export const STAT_CACHE_VERSION = 3;
const MODES = new Set<string>(['100644', '100755', '120000']);
const OID = /^[0-9a-f]{40}$/;

type Row = [string, string, string, number, number, number, number, number, number];

/** A stat cache read back whole: its rows, and the commit it was saved after (null: none yet). */
export interface StatCacheContent {
  commit: string | null;
  rows: [string, FileRecord][];
}

/** Why a stat cache could not be used. Absence is not a problem (`missing: true`). */
export interface StatCacheRejection {
  missing: boolean;
  reason: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Writes the cache atomically (temp file + rename); `commit` is the checkpoint just written. */
export function saveStatCache(file: string, workspace: string, index: SnapshotIndex, commit: string | null): void {
  const rows: Row[] = [];
  for (const [path, r] of index.entries()) rows.push([path, r.mode, r.oid, r.size, r.mtimeMs, r.ctimeMs, r.ino, r.hashedAt, r.perms]);
  const body = JSON.stringify({ version: STAT_CACHE_VERSION, workspace, commit, files: rows });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${body}\n${sha256(body)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Reads and checks the cache of `workspace`. All or nothing: one bad row means the file is not
 * what we wrote, so no row of it is trusted.
 */
export function readStatCache(file: string, workspace: string): StatCacheContent | StatCacheRejection {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    return { missing: errno === 'ENOENT', reason: `unreadable: ${(err as Error).message}` };
  }
  const reject = (reason: string): StatCacheRejection => ({ missing: false, reason });
  const m = /^([^\n]*)\n([0-9a-f]{64})\n$/.exec(text);
  if (!m) return reject(text.length === 0 ? 'empty file' : 'no checksum trailer (truncated, foreign or an older version)');
  const [, body, sum] = m as unknown as [string, string, string];
  if (sha256(body) !== sum) return reject('checksum mismatch');
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return reject('checksummed body is not JSON');
  }
  const d = (data ?? {}) as { version?: unknown; workspace?: unknown; commit?: unknown; files?: unknown };
  if (d.version !== STAT_CACHE_VERSION) return reject(`version ${String(d.version)}, expected ${STAT_CACHE_VERSION}`);
  if (d.workspace !== workspace) return reject(`written for workspace ${String(d.workspace)}`);
  if (!(d.commit === null || (typeof d.commit === 'string' && OID.test(d.commit)))) return reject('bad commit');
  if (!Array.isArray(d.files)) return reject('no file list');
  const rows: [string, FileRecord][] = [];
  for (const row of d.files as unknown[]) {
    if (!Array.isArray(row) || row.length !== 9) return reject('malformed row');
    const [path, mode, oid, size, mtimeMs, ctimeMs, ino, hashedAt, perms] = row as Row;
    if (typeof path !== 'string' || !MODES.has(mode) || !OID.test(oid)) return reject(`malformed row ${JSON.stringify(path)}`);
    if (![size, mtimeMs, ctimeMs, ino, hashedAt, perms].every((n) => typeof n === 'number' && Number.isFinite(n))) return reject(`malformed row ${JSON.stringify(path)}`);
    try {
      // A tampered cache must not smuggle '..' or '.git' paths into a snapshot.
      validateTreePath(path);
    } catch {
      return reject(`bad path ${JSON.stringify(path)}`);
    }
    rows.push([path, { mode: mode as FileMode, perms: perms & 0o777, oid, size, mtimeMs, ctimeMs, ino, hashedAt }]);
  }
  return { commit: d.commit, rows };
}

/** Puts the rows of a checked cache into `index`; returns how many. */
export function applyStatCache(content: StatCacheContent, index: SnapshotIndex): number {
  for (const [path, record] of content.rows) index.set(path, record);
  return content.rows.length;
}
