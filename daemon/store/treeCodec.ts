/** Serialising git tree objects: git's entry order and byte format. */
import { decodePathBytes, encodePathBytes, hasEscapedBytes } from '../../shared/pathBytes.js';

/** Git modes of tree entries Shadow writes. */
export type TreeMode = '100644' | '100755' | '120000' | '40000';

/** One entry of a tree object. */
export interface TreeEntry {
  /** Basename; bytes that are not UTF-8 are escaped as lone surrogates (shared/pathBytes.ts). */
  name: string;
  mode: TreeMode;
  oid: string;
}

/**
 * Git sorts tree entries by name bytes, comparing a directory as if its name ended in '/'
 * (so "a-b" sorts before the directory "a" whose key is "a/", and "a.txt" before it too).
 */
function sortKey(entry: TreeEntry): Buffer {
  return encodePathBytes(entry.mode === '40000' ? `${entry.name}/` : entry.name);
}

/** Encodes entries (any order) as the content of a git tree object. */
export function encodeTree(entries: TreeEntry[]): Buffer {
  const keyed = entries.map((e) => ({ e, key: sortKey(e) }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const { e } of keyed) {
    if (hasEscapedBytes(e.name)) parts.push(Buffer.from(`${e.mode} `, 'latin1'), encodePathBytes(e.name), Buffer.of(0));
    else parts.push(Buffer.from(`${e.mode} ${e.name}\0`, 'utf8'));
    parts.push(Buffer.from(e.oid, 'hex'));
  }
  return Buffer.concat(parts);
}

/** Decodes the content of a git tree object. */
export function decodeTree(content: Uint8Array): TreeEntry[] {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < buf.length) {
    const space = buf.indexOf(0x20, i);
    const nul = buf.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 21 > buf.length) throw new Error('malformed tree object');
    const mode = buf.toString('latin1', i, space);
    const name = decodePathBytes(buf.subarray(space + 1, nul));
    const oid = buf.toString('hex', nul + 1, nul + 21);
    out.push({ name, mode: (mode === '040000' ? '40000' : mode) as TreeMode, oid });
    i = nul + 21;
  }
  return out;
}
