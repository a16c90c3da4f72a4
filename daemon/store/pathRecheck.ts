/**
 * The per-path check of a restore (S1.1a): right before a path is overwritten or removed, is it
 * still what the pre-abort commit captured? The stat decides when it matches exactly (and the
 * capture was not racy); otherwise the content is hashed and compared. A path that holds
 * anything else was written after the capture: its bytes are in no commit, so the restore must
 * leave it alone.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import type { FileMode } from './flatTree.js';
import { lstatOrNull } from './lstatOrNull.js';
import type { FileRecord } from './snapshotIndex.js';
import { RACY_WINDOW_MS } from './workspaceScanner.js';
import { hashObject } from './gitObjects.js';

/** What the rescan before a restore captured at a path: mode, blob and the stat it had then (the index's record). */
export type CapturedFile = Omit<FileRecord, 'perms'>;

/** The captured state of a workspace path: its file, or null when nothing was captured there. */
export type CapturedLookup = (path: string) => CapturedFile | null;

/** The reason a restore reports for a path it left alone because it changed after the capture. */
export const CHANGED_DURING_RESTORE = 'changed during restore';

/** Where a path stands against its capture. */
export type RecheckState = 'same' | 'absent' | 'changed';

/**
 * Compares what is at `abs` now with `captured` (null: nothing was captured there). `absent`
 * when nothing is there (nothing to lose either way); `changed` when anything else stands there
 * (a directory, a new file, other content or mode). Only ENOENT/ENOTDIR mean absent.
 */
export function recheckPath(abs: string | Buffer, captured: CapturedFile | null): RecheckState {
  const st = lstatOrNull(abs);
  if (!st) return 'absent';
  if (!captured || !(st.isFile() || st.isSymbolicLink())) return 'changed';
  const mode: FileMode = st.isSymbolicLink() ? '120000' : st.mode & 0o100 ? '100755' : '100644';
  if (mode !== captured.mode) return 'changed';
  const statSame =
    st.size === captured.size && st.mtimeMs === captured.mtimeMs && st.ctimeMs === captured.ctimeMs && st.ino === captured.ino && captured.hashedAt - captured.mtimeMs > RACY_WINDOW_MS;
  if (statSame) return 'same';
  let content: Buffer;
  try {
    content = st.isSymbolicLink() ? readlinkSync(abs, { encoding: 'buffer' }) : readFileSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent';
    throw err;
  }
  return hashObject('blob', content) === captured.oid ? 'same' : 'changed';
}
