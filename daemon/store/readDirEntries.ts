/**
 * Reads a directory's entries with names that reach their files again (shared/pathBytes.ts). A
 * string readdir turns every byte that is not UTF-8 into U+FFFD: such a name no longer names its
 * file, so it was dropped from checkpoints without a word, and a job deleting it could not be
 * undone. Only when a name comes back with U+FFFD is the directory read again as bytes, so the
 * usual directory costs one readdir as before.
 */
import type { Dirent } from 'node:fs';
import { readdirSync } from 'node:fs';
import { decodePathBytes } from '../../shared/pathBytes.js';

/** One directory entry: its name (bytes that are not UTF-8 escaped) and its type, as lstat sees it. */
export interface DirEntry {
  name: string;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

/** The entries of directory `abs` (a path string, or bytes from fsPath); throws what readdir throws. */
export function readDirEntries(abs: string | Buffer): DirEntry[] {
  const entries: DirEntry[] = readdirSync(abs, { withFileTypes: true });
  if (!entries.some((e) => e.name.includes('\uFFFD'))) return entries;
  const raw = readdirSync(abs, { withFileTypes: true, encoding: 'buffer' }) as unknown as Dirent<Buffer>[];
  return raw.map((d) => ({
    name: decodePathBytes(d.name),
    isDirectory: () => d.isDirectory(),
    isFile: () => d.isFile(),
    isSymbolicLink: () => d.isSymbolicLink(),
  }));
}
