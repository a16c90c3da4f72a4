/**
 * Reads git's index file (`<gitDir>/index`), versions 2, 3 and 4, as `git add -A` would see it
 * (S1.1): which paths are tracked (captured even when an ignore rule matches them), and for each
 * the stat git recorded with the blob oid it hashed (reused when the file's stat still matches,
 * so a first checkpoint does not hash again what git already hashed).
 *
 * Optional extensions (upper-case signature: TREE, REUC, UNTR, FSMN, EOIE, IEOT, ...) are skipped
 * by their size. Of the required ones (lower-case), `sdir` (sparse index) is read: its sparse
 * directory entries stand for whole directories not checked out and are neither tracked files nor
 * reusable. A split index (`link`) and any other required extension are refused with
 * GIT_INDEX_UNSUPPORTED: the caller then uses no index at all rather than half of one. The
 * trailing SHA-1 is checked (all zeroes is accepted: `index.skipHash`), so a damaged file is
 * refused (GIT_INDEX_CORRUPT) rather than trusted.
 */
import { createHash } from 'node:crypto';
import { ShadowError } from '../../shared/errors.js';

/** One stage-0 file entry of the index, with the stat git recorded when it hashed the file. */
export interface GitIndexEntry {
  /** 0o100644, 0o100755, 0o120000 or 0o160000 (gitlink). */
  mode: number;
  oid: string;
  /** Size truncated to 32 bits, as git stores it. */
  size: number;
  /** sec * 1000 + nsec / 1e6: the same double Node computes for `Stats.mtimeMs`. */
  mtimeMs: number;
  ctimeMs: number;
  /** Inode truncated to 32 bits. */
  ino: number;
  /** assume-valid, skip-worktree or intent-to-add: the recorded oid may not be the file's content. */
  unusable: boolean;
}

/** What the index says: the tracked paths and their stage-0 entries. */
export interface GitIndexContent {
  version: number;
  /** Every path with an entry, any stage (a conflicted file is tracked too), gitlinks and sparse directories excluded. */
  tracked: Set<string>;
  /** Stage-0 entries of files and symlinks, by path. */
  entries: Map<string, GitIndexEntry>;
  /** Whether the index is sparse (`sdir`): some directories are single entries. */
  sparse: boolean;
}

const SIGNATURE = 0x44495243; // "DIRC"
const HASH_LEN = 20;
const FLAG_ASSUME_VALID = 0x8000;
const FLAG_EXTENDED = 0x4000;
const XFLAG_SKIP_WORKTREE = 0x4000;
const XFLAG_INTENT_TO_ADD = 0x2000;
const MODE_GITLINK = 0o160000;
const MODE_DIR = 0o040000;

function corrupt(file: string, why: string, details: Record<string, unknown> = {}): ShadowError {
  return new ShadowError('GIT_INDEX_CORRUPT', `git index ${file} is damaged (${why}); it is not used`, { file, ...details });
}

/**
 * Parses an index file's bytes. Throws GIT_INDEX_CORRUPT (bad header, checksum, truncation) or
 * GIT_INDEX_UNSUPPORTED (version, split index, unknown required extension); `file` only names it.
 */
export function parseGitIndex(buf: Buffer, file: string): GitIndexContent {
  if (buf.length < 12 + HASH_LEN) throw corrupt(file, 'too short');
  if (buf.readUInt32BE(0) !== SIGNATURE) throw corrupt(file, 'no DIRC signature');
  const version = buf.readUInt32BE(4);
  if (version < 2 || version > 4) {
    throw new ShadowError('GIT_INDEX_UNSUPPORTED', `git index ${file} has version ${version}; Shadow reads versions 2 to 4`, { file, version });
  }
  checkTrailer(buf, file);
  const end = buf.length - HASH_LEN;
  const count = buf.readUInt32BE(8);
  const tracked = new Set<string>();
  const entries = new Map<string, GitIndexEntry>();
  let sparse = false;
  let off = 12;
  // v4: each name is the previous one cut by N bytes, plus a suffix; kept as bytes (UTF-8 or not).
  let prev = Buffer.alloc(0);
  let prevLen = 0;
  for (let i = 0; i < count; i++) {
    if (off + 62 > end) throw corrupt(file, 'truncated entry', { entry: i });
    const start = off;
    const flags = buf.readUInt16BE(off + 60);
    let nameStart = off + 62;
    let xflags = 0;
    if (flags & FLAG_EXTENDED) {
      if (version < 3) throw corrupt(file, 'extended flags in a version 2 index', { entry: i });
      xflags = buf.readUInt16BE(nameStart);
      nameStart += 2;
    }
    let path: string;
    if (version === 4) {
      let p = nameStart;
      let c = buf[p++] as number;
      let strip = c & 127;
      while (c & 128) {
        c = buf[p++] as number;
        strip = ((strip + 1) << 7) | (c & 127);
      }
      const nul = buf.indexOf(0, p);
      if (nul < 0 || nul >= end || strip > prevLen) throw corrupt(file, 'bad prefix-compressed name', { entry: i });
      const keep = prevLen - strip;
      const suffix = nul - p;
      if (prev.length < keep + suffix) {
        const grown = Buffer.alloc(Math.max(256, (keep + suffix) * 2));
        prev.copy(grown, 0, 0, keep);
        prev = grown;
      }
      buf.copy(prev, keep, p, nul);
      prevLen = keep + suffix;
      path = prev.toString('utf8', 0, prevLen);
      off = nul + 1;
    } else {
      const nul = buf.indexOf(0, nameStart);
      if (nul < 0 || nul >= end) throw corrupt(file, 'unterminated name', { entry: i });
      path = buf.toString('utf8', nameStart, nul);
      // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes from their start.
      off += (nul - off + 8) & ~7;
    }
    const mode = buf.readUInt32BE(start + 24);
    if (mode === MODE_DIR || path.endsWith('/')) {
      sparse = true;
      continue;
    }
    if (mode === MODE_GITLINK) continue;
    tracked.add(path);
    if ((flags >> 12) & 3) continue; // a conflict stage: no stage-0 content to reuse
    entries.set(path, {
      mode,
      oid: buf.toString('hex', start + 40, start + 60),
      size: buf.readUInt32BE(start + 36),
      mtimeMs: buf.readUInt32BE(start + 8) * 1000 + buf.readUInt32BE(start + 12) / 1e6,
      ctimeMs: buf.readUInt32BE(start) * 1000 + buf.readUInt32BE(start + 4) / 1e6,
      ino: buf.readUInt32BE(start + 20),
      unusable: (flags & FLAG_ASSUME_VALID) !== 0 || (xflags & (XFLAG_SKIP_WORKTREE | XFLAG_INTENT_TO_ADD)) !== 0,
    });
  }
  sparse = readExtensions(buf, off, end, file) || sparse;
  return { version, tracked, entries, sparse };
}

/** Checks the trailing SHA-1 of everything before it (all zeroes: written with index.skipHash). */
function checkTrailer(buf: Buffer, file: string): void {
  const end = buf.length - HASH_LEN;
  const trailer = buf.subarray(end);
  if (trailer.every((b) => b === 0)) return;
  const sum = createHash('sha1').update(buf.subarray(0, end)).digest();
  if (!sum.equals(trailer)) throw corrupt(file, 'checksum mismatch');
}

/** Walks the extensions; returns whether `sdir` is present. Refuses `link` and unknown required ones. */
function readExtensions(buf: Buffer, off: number, end: number, file: string): boolean {
  let sparse = false;
  while (off < end) {
    if (off + 8 > end) throw corrupt(file, 'truncated extension header');
    const sig = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32BE(off + 4);
    if (off + 8 + size > end) throw corrupt(file, `truncated extension ${sig}`);
    const first = sig.charCodeAt(0);
    if (sig === 'sdir') sparse = true;
    else if (sig === 'link') {
      throw new ShadowError('GIT_INDEX_UNSUPPORTED', `git index ${file} is a split index (core.splitIndex); Shadow does not read split indexes`, { file, extension: sig });
    } else if (!(first >= 65 && first <= 90)) {
      throw new ShadowError('GIT_INDEX_UNSUPPORTED', `git index ${file} has a required extension ${JSON.stringify(sig)} that Shadow does not know`, { file, extension: sig });
    }
    off += 8 + size;
  }
  return sparse;
}
