/**
 * Path checks for restore (S1.8): paths read from checkpoints may be hostile, and paths typed by
 * users must stay inside the workspace.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ShadowError } from '../../shared/errors.js';
import { pathByteLength } from '../../shared/pathBytes.js';

/** Longest path (in UTF-8 bytes) a checkpoint may name; Linux's PATH_MAX. */
export const MAX_TREE_PATH_BYTES = 4096;

/**
 * Throws PATH_INVALID unless `path` is a safe posix workspace-relative file path: not empty or
 * absolute, no empty, `.` or `..` segment, no NUL, no `.git` segment in any letter case, at most
 * 4096 bytes. Backslashes are ordinary name characters on posix and pass.
 */
export function validateTreePath(path: string): void {
  const fail = (why: string): never => {
    throw new ShadowError('PATH_INVALID', `Refusing path ${JSON.stringify(path)}: ${why}`, { path, why });
  };
  if (typeof path !== 'string' || path.length === 0) fail('empty path');
  if (path.includes('\0')) fail('contains a NUL byte');
  if (pathByteLength(path) > MAX_TREE_PATH_BYTES) fail(`longer than ${MAX_TREE_PATH_BYTES} bytes`);
  if (path.startsWith('/')) fail('absolute path');
  for (const segment of path.split('/')) {
    if (segment === '') fail('empty segment');
    if (segment === '.' || segment === '..') fail(`"${segment}" segment`);
    // git refuses `.git` case-insensitively too: writing there would rewrite the user's repository.
    if (segment.toLowerCase() === '.git') fail('.git segment');
  }
}

/**
 * Turns a user-supplied path filter into a posix workspace-relative path ('' = the whole
 * workspace), resolving relative paths against `cwd` (default: the workspace). Throws
 * PATH_INVALID when it lies outside the workspace or contains NUL. Purely lexical: no I/O.
 */
export function normalizeUserPath(workspace: string, input: string, cwd?: string): string {
  if (input.includes('\0') || (cwd ?? '').includes('\0')) {
    throw new ShadowError('PATH_INVALID', `Path ${JSON.stringify(input)} contains a NUL byte`, { path: input });
  }
  const root = resolve(workspace);
  const abs = resolve(root, cwd ?? '.', input);
  const rel = relative(root, abs);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new ShadowError('PATH_INVALID', `Path ${JSON.stringify(input)} is outside the workspace ${root}`, { path: input, workspace: root, cwd: cwd ?? root });
  }
  const posix = sep === '/' ? rel : rel.split(sep).join('/');
  if (posix !== '') validateTreePath(posix);
  return posix;
}
