/**
 * S2.2: chokidar's crawl must not lstat every file (a 30 000-file tree moved in held the event
 * loop ≈ 0.4 s at a time in those lstats). With the wrapper, `ignored` sees directories only,
 * and every directory is still watched; symlinks to directories and ignored directories are not.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import { watch } from 'chokidar';
import { afterEach, describe, expect, it } from 'vitest';
import { crawlDirectoriesOnly } from '../../daemon/watcher/crawlDirectoriesOnly.js';
import { makeTempDir } from '../helpers/tempDir.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** Crawls `root` as the daemon's watcher does (directories only); returns what `ignored` was asked with stats, and what got watched. */
async function crawl(root: string, wrap: boolean): Promise<{ askedWithStats: string[]; watched: string[] }> {
  const askedWithStats: string[] = [];
  const ignored = (p: string, stats?: Stats): boolean => {
    if (p === root) return false;
    if (!stats) return p.endsWith('/skip');
    askedWithStats.push(p.slice(root.length + 1));
    return !stats.isDirectory() || p.endsWith('/skip');
  };
  const w = watch(root, { ignored, ignoreInitial: true, followSymlinks: false, atomic: false, ignorePermissionErrors: true });
  if (wrap) expect(crawlDirectoriesOnly(w)).toBe(true);
  await new Promise<void>((resolve) => w.once('ready', () => resolve()));
  const watched = Object.keys(w.getWatched())
    .map((d) => (d === root ? '' : d.slice(root.length + 1)))
    .filter((d) => d !== '' && !d.startsWith('..'))
    .sort();
  await w.close();
  return { askedWithStats: askedWithStats.sort(), watched };
}

describe('crawlDirectoriesOnly (S2.2)', () => {
  it('S2.2 the crawl stats no file, watches every directory, skips ignored ones and symlinked ones', async () => {
    const tmp = makeTempDir('shadow-crawl-');
    cleanup = tmp.cleanup;
    const root = tmp.dir;
    for (const d of ['a', 'a/b', 'a/b/c', 'skip', 'e']) mkdirSync(join(root, d), { recursive: true });
    for (const f of ['top.txt', 'a/1.txt', 'a/b/2.txt', 'a/b/c/3.txt', 'skip/4.txt']) writeFileSync(join(root, f), f);
    symlinkSync('a', join(root, 'link-to-dir'));
    symlinkSync('top.txt', join(root, 'link-to-file'));

    const plain = await crawl(root, false);
    const wrapped = await crawl(root, true);
    // Unwrapped, chokidar hands `ignored` a Stats for every file: the cost the wrapper removes.
    expect(plain.askedWithStats).toEqual(expect.arrayContaining(['top.txt', 'a/1.txt', 'a/b/c/3.txt']));
    // Wrapped, only directories (and the symlink readdirp types as one) reach it.
    expect(wrapped.askedWithStats.filter((p) => p.endsWith('.txt') || p === 'link-to-file')).toEqual([]);
    expect(wrapped.askedWithStats).toEqual(expect.arrayContaining(['a', 'a/b', 'a/b/c', 'e', 'skip']));
    // The same directories are watched either way.
    expect(wrapped.watched).toEqual(plain.watched);
    expect(wrapped.watched).toEqual(expect.arrayContaining(['a', 'a/b', 'a/b/c', 'e']));
    expect(wrapped.watched.some((d) => d === 'skip' || d.startsWith('link-to-dir'))).toBe(false);
  });
});
