/**
 * Reads git's index file (`<gitDir>/index`), versions 2, 3 and 4, as `git add -A` would see it
 * (S1.1): which paths are tracked (captured even when an ignore rule matches them), and for each
 * the stat git recorded with the blob oid it hashed (reused when the file's stat still matches,
 * so a first checkpoint does not hash again what git already hashed).
 *
 * Optional extensions (upper-case signature: TREE, REUC, UNTR, FSMN, EOIE, IEOT, ...) are skipped
 * by their size. Of the required ones (lower-case), `sdir` (sparse index) is read: its sparse
 * directory entries stand for whole directories not checked out and are neither tracked files nor
 * reusable; `link` (split index) is merged with its shared index (gitSplitIndex.ts). Any other
 * required extension is refused with GIT_INDEX_UNSUPPORTED: the caller then uses no index at all
 * rather than half of one. The
 * trailing SHA-1 is checked (all zeroes is accepted: `index.skipHash`), so a damaged file is
 * refused (GIT_INDEX_CORRUPT) rather than trusted.
 */
import { createHash } from 'node:crypto';
import { ShadowError } from '../../shared/errors.js';
import { readSplitIndex } from './gitSplitIndex.js';

const SIGNATURE = 0x44495243; // "DIRC"
const HASH_LEN = 20;
const FLAG_ASSUME_VALID = 0x8000;
const FLAG_EXTENDED = 0x4000;
const XFLAG_SKIP_WORKTREE = 0x4000;
const XFLAG_INTENT_TO_ADD = 0x2000;
const MODE_GITLINK = 0o160000;
const MODE_DIR = 0o040000;

/** `offsets` value of a path tracked only as conflict stages (1–3): nothing to reuse. */
export const NO_STAGE_0 = 0xffffffff;

/**
 * What the index says: the tracked paths, sorted, and where their stage-0 entries are in `buf`.
 * Arrays rather than a Map: filling a Map with 100 000 new strings cost ten times the parse
 * itself; a lookup is a binary search (`findGitIndexPath`), as git's own `index_name_pos`.
 */
export interface GitIndexContent {
  version: number;
  /** The file's bytes: entries are decoded from them on demand (`gitIndexEntry`). */
  buf: Buffer;
  /** Every tracked file or symlink path once (gitlinks and sparse directories left out), in JS string order. */
  paths: string[];
  /** For `paths[i]`, the offset of its stage-0 entry in `buf`, or NO_STAGE_0. */
  offsets: Uint32Array;
  /** Whether the index is sparse (`sdir`): some directories are single entries. */
  sparse: boolean;
}

/** The position of `path` in `content.paths`, or -1. */
export function findGitIndexPath(content: GitIndexContent, path: string): number {
  const paths = content.paths;
  let lo = 0;
  let hi = paths.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = paths[mid] as string;
    if (p === path) return mid;
    if (p < path) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** One stage-0 entry, with the stat git recorded when it hashed the file. */
export interface GitIndexEntry {
  /** 0o100644, 0o100755 or 0o120000. */
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

/** Decodes the entry at `off` (an offset from `GitIndexContent.entries`). */
export function gitIndexEntry(buf: Buffer, off: number): GitIndexEntry {
  const flags = buf.readUInt16BE(off + 60);
  const xflags = flags & FLAG_EXTENDED ? buf.readUInt16BE(off + 62) : 0;
  return {
    mode: buf.readUInt32BE(off + 24),
    oid: buf.toString('hex', off + 40, off + 60),
    size: buf.readUInt32BE(off + 36),
    mtimeMs: buf.readUInt32BE(off + 8) * 1000 + buf.readUInt32BE(off + 12) / 1e6,
    ctimeMs: buf.readUInt32BE(off) * 1000 + buf.readUInt32BE(off + 4) / 1e6,
    ino: buf.readUInt32BE(off + 20),
    unusable: (flags & FLAG_ASSUME_VALID) !== 0 || (xflags & (XFLAG_SKIP_WORKTREE | XFLAG_INTENT_TO_ADD)) !== 0,
  };
}


function corrupt(file: string, why: string, details: Record<string, unknown> = {}): ShadowError {
  return new ShadowError('GIT_INDEX_CORRUPT', `git index ${file} is damaged (${why}); it is not used`, { file, ...details });
}

/** What an index file's extensions say. */
interface Extensions {
  sparse: boolean;
  /** The body of a `link` extension (split index), or null. */
  link: Buffer | null;
}

/**
 * Walks the entries of an index file, checking its header and trailer, and calls `visit` for each
 * (its name decoded, its offset, its flags and mode). Throws GIT_INDEX_CORRUPT or, for a version it
 * does not know or an unknown required extension, GIT_INDEX_UNSUPPORTED.
 */
function walkIndex(buf: Buffer, file: string, visit: (path: string, start: number, flags: number, mode: number) => void): { version: number; ext: Extensions } {
  if (buf.length < 12 + HASH_LEN) throw corrupt(file, 'too short');
  if (buf.readUInt32BE(0) !== SIGNATURE) throw corrupt(file, 'no DIRC signature');
  const version = buf.readUInt32BE(4);
  if (version < 2 || version > 4) {
    throw new ShadowError('GIT_INDEX_UNSUPPORTED', `git index ${file} has version ${version}; Shadow reads versions 2 to 4`, { file, version });
  }
  checkTrailer(buf, file);
  const end = buf.length - HASH_LEN;
  const count = buf.readUInt32BE(8);
  let off = 12;
  // v4: each name is the previous one cut by N bytes, plus a suffix; kept as bytes (UTF-8 or not).
  let prev = Buffer.alloc(256);
  let prevLen = 0;
  for (let i = 0; i < count; i++) {
    if (off + 62 > end) throw corrupt(file, 'truncated entry', { entry: i });
    const start = off;
    const flags = buf.readUInt16BE(off + 60);
    let nameStart = off + 62;
    if (flags & FLAG_EXTENDED) {
      if (version < 3) throw corrupt(file, 'extended flags in a version 2 index', { entry: i });
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
        const grown = Buffer.alloc((keep + suffix) * 2);
        prev.copy(grown, 0, 0, keep);
        prev = grown;
      }
      buf.copy(prev, keep, p, nul);
      prevLen = keep + suffix;
      path = prev.toString('utf8', 0, prevLen);
      off = nul + 1;
    } else {
      // The 12-bit length is exact below 0xFFF; past it, the name ends at its NUL.
      const len = flags & 0xfff;
      const nul = len < 0xfff ? nameStart + len : buf.indexOf(0, nameStart);
      if (nul < 0 || nul >= end || buf[nul] !== 0) throw corrupt(file, 'unterminated name', { entry: i });
      path = buf.toString('utf8', nameStart, nul);
      // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes from their start.
      off += (nul - off + 8) & ~7;
    }
    visit(path, start, flags, buf.readUInt32BE(start + 24));
  }
  return { version, ext: readExtensions(buf, off, end, file) };
}

/**
 * Parses an index file's bytes. Throws GIT_INDEX_CORRUPT (bad header, checksum, truncation) or
 * GIT_INDEX_UNSUPPORTED (version, unknown required extension); `file` only names it. A split
 * index is read with its shared index, which `readShared(name)` returns (`sharedindex.<hex>` in
 * the same git dir); without `readShared` it is refused.
 */
export function parseGitIndex(buf: Buffer, file: string, readShared?: (name: string) => Buffer): GitIndexContent {
  const paths: string[] = [];
  const offsets: number[] = [];
  let sparse = false;
  let last = '';
  const { version, ext } = walkIndex(buf, file, (path, start, flags, mode) => {
    if (mode === MODE_DIR) {
      sparse = true;
      return;
    }
    if (mode === MODE_GITLINK) return;
    // A path's stages are consecutive; a conflict stage (1-3) has no content to reuse.
    const stage0 = ((flags >> 12) & 3) === 0;
    if (paths.length === 0 || path !== last) {
      offsets.push(stage0 ? start : NO_STAGE_0);
      paths.push(path);
      last = path;
    } else if (stage0) {
      offsets[paths.length - 1] = start;
    }
  });
  if (ext.link) {
    if (!readShared) throw new ShadowError('GIT_INDEX_UNSUPPORTED', `git index ${file} is a split index (core.splitIndex) and its shared index cannot be read here`, { file, extension: 'link' });
    return readSplitIndex(buf, file, ext.link, readShared);
  }
  return { version, buf, ...inJsOrder(paths, Uint32Array.from(offsets)), sparse: sparse || ext.sparse };
}

/** One entry of an index file as stored: its name and where its fixed part starts in `buf`. */
export interface RawIndexEntry {
  path: string;
  buf: Buffer;
  start: number;
  flags: number;
  mode: number;
}

/** Every entry of an index file as stored (names of split-index replacements are empty), and its extensions. */
export function rawIndexEntries(buf: Buffer, file: string): { version: number; entries: RawIndexEntry[]; sparse: boolean; link: Buffer | null } {
  const entries: RawIndexEntry[] = [];
  const { version, ext } = walkIndex(buf, file, (path, start, flags, mode) => entries.push({ path, buf, start, flags, mode }));
  return { version, entries, sparse: ext.sparse, link: ext.link };
}

/**
 * Builds a GitIndexContent from merged entries (a split index with its shared one): sorted by
 * name then stage as git keeps them, each entry's fixed part (stat, oid, flags: 64 bytes) copied
 * into one new buffer.
 */
export function contentFromEntries(version: number, entries: RawIndexEntry[], sparse: boolean): GitIndexContent {
  const stage = (e: RawIndexEntry): number => (e.flags >> 12) & 3;
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : stage(a) - stage(b)));
  const buf = Buffer.alloc(entries.length * 64);
  const paths: string[] = [];
  const offsets: number[] = [];
  entries.forEach((e, i) => {
    if (e.mode === MODE_DIR) {
      sparse = true;
      return;
    }
    if (e.mode === MODE_GITLINK) return;
    e.buf.copy(buf, i * 64, e.start, e.start + 64);
    const stage0 = stage(e) === 0;
    if (paths.length === 0 || paths[paths.length - 1] !== e.path) {
      offsets.push(stage0 ? i * 64 : NO_STAGE_0);
      paths.push(e.path);
    } else if (stage0) {
      offsets[paths.length - 1] = i * 64;
    }
  });
  return { version, buf, paths, offsets: Uint32Array.from(offsets), sparse };
}

/**
 * git sorts by bytes (UTF-8: code points), JS strings compare by UTF-16 units: the two orders
 * differ only between a name with a character past U+FFFF and one with U+E000–U+FFFF at the same
 * place. Checked in one pass; sorted only then.
 */
function inJsOrder(paths: string[], offsets: Uint32Array): { paths: string[]; offsets: Uint32Array } {
  let ordered = true;
  for (let i = 1; i < paths.length && ordered; i++) ordered = (paths[i - 1] as string) < (paths[i] as string);
  if (ordered) return { paths, offsets };
  const order = paths.map((_, i) => i).sort((a, b) => ((paths[a] as string) < (paths[b] as string) ? -1 : 1));
  return { paths: order.map((i) => paths[i] as string), offsets: Uint32Array.from(order, (i) => offsets[i] as number) };
}

/** Checks the trailing SHA-1 of everything before it (all zeroes: written with index.skipHash). */
function checkTrailer(buf: Buffer, file: string): void {
  const end = buf.length - HASH_LEN;
  const trailer = buf.subarray(end);
  if (trailer.every((b) => b === 0)) return;
  const sum = createHash('sha1').update(buf.subarray(0, end)).digest();
  if (!sum.equals(trailer)) throw corrupt(file, 'checksum mismatch');
}

/** Walks the extensions: notes `sdir` and `link`, refuses unknown required ones. */
function readExtensions(buf: Buffer, off: number, end: number, file: string): Extensions {
  const ext: Extensions = { sparse: false, link: null };
  while (off < end) {
    if (off + 8 > end) throw corrupt(file, 'truncated extension header');
    const sig = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32BE(off + 4);
    if (off + 8 + size > end) throw corrupt(file, `truncated extension ${sig}`);
    const first = sig.charCodeAt(0);
    if (sig === 'sdir') ext.sparse = true;
    else if (sig === 'link') ext.link = buf.subarray(off + 8, off + 8 + size);
    else if (!(first >= 65 && first <= 90)) {
      throw new ShadowError('GIT_INDEX_UNSUPPORTED', `git index ${file} has a required extension ${JSON.stringify(sig)} that Shadow does not know`, { file, extension: sig });
    }
    off += 8 + size;
  }
  return ext;
}
