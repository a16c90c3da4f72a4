/**
 * Brings a captured nested git dir back (issue #10.7): metadata copied from the capture (never
 * linked: the re-created repository may write them in place), objects hard-linked from the pool
 * (git never writes an object file in place). Built aside and renamed into place, so the git dir
 * appears whole or not at all, and never over anything: an existing one is left to the caller.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestedStorePaths } from './nestedRepoCapture.js';
import { copyOrFalse, exists, linkOrFalse, listGitDir, readManifest } from './nestedRepoCapture.js';

/** Fills `dest` (a new, empty directory) with capture `id`. */
function fill(paths: NestedStorePaths, id: string, dest: string): void {
  const m = readManifest(paths, id);
  const from = join(paths.captures, id, 'git');
  for (const rel of m.dirs) mkdirSync(join(dest, rel), { recursive: true });
  for (const rel of m.files) {
    const src = join(from, rel);
    mkdirSync(dirname(join(dest, rel)), { recursive: true });
    if (lstatSync(src).isSymbolicLink()) symlinkSync(readlinkSync(src), join(dest, rel));
    else copyOrFalse(src, join(dest, rel));
  }
  for (const rel of m.objects) {
    const src = join(paths.pool, rel.slice('objects/'.length));
    const dst = join(dest, rel);
    mkdirSync(dirname(dst), { recursive: true });
    if (!linkOrFalse(src, dst)) copyOrFalse(src, dst);
  }
}

/**
 * Re-creates capture `id` at `dest`, which must not exist (its parent is created if missing).
 * Returns false, touching nothing there, when something appeared at `dest` meanwhile.
 */
export function materializeCapture(paths: NestedStorePaths, id: string, dest: string): boolean {
  const build = join(paths.tmp, `restore-${randomBytes(6).toString('hex')}`);
  mkdirSync(build, { recursive: true });
  try {
    fill(paths, id, build);
    mkdirSync(dirname(dest), { recursive: true });
    if (exists(dest)) return false;
    try {
      renameSync(build, dest);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') return false;
      if (code !== 'EXDEV') throw err;
    }
    // Another file system: build in place, in a directory only this call created.
    try {
      mkdirSync(dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    fill(paths, id, dest);
    return true;
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

/**
 * True when `gitDir` holds what capture `id` holds: the same object files, and the same
 * metadata files byte for byte (stats differ after a re-creation, so bytes are compared).
 */
export function sameAsCapture(paths: NestedStorePaths, id: string, gitDir: string): boolean {
  const m = readManifest(paths, id);
  const now = listGitDir(gitDir);
  const objects = now.filter((e) => e.kind === 'object').map((e) => e.rel);
  const files = now.filter((e) => e.kind === 'file' || e.kind === 'symlink');
  if (objects.join('\n') !== [...m.objects].sort().join('\n')) return false;
  if (files.map((e) => e.rel).join('\n') !== [...m.files].sort().join('\n')) return false;
  const from = join(paths.captures, id, 'git');
  for (const e of files) {
    const a = e.kind === 'symlink' ? Buffer.from(readlinkSync(join(gitDir, e.rel))) : readFileSync(join(gitDir, e.rel));
    const b = lstatSync(join(from, e.rel)).isSymbolicLink() ? Buffer.from(readlinkSync(join(from, e.rel))) : readFileSync(join(from, e.rel));
    if (!a.equals(b)) return false;
  }
  return true;
}
