/**
 * lstat for the restore path: null when nothing is there (ENOENT, or ENOTDIR: a parent is not a
 * directory); any other errno is thrown, never taken for "absent".
 */
import type { Stats } from 'node:fs';
import { lstatSync } from 'node:fs';

/** lstat that answers null for a missing path (or a parent that is not a directory). */
export function lstatOrNull(abs: string | Buffer): Stats | null {
  try {
    return lstatSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}
