/**
 * Spares chokidar's crawl an lstat of every file. chokidar 5.0.0 reads each new directory with
 * readdirp in stats mode (`alwaysStat: true`): one `fs.promises.lstat` and one Stats object per
 * entry, only to hand them to our `ignored`, which drops every non-directory. For a tree of
 * 30 000 files moved in, those lstats and their garbage held the event loop ≈ 0.4 s at a time
 * (S2.2); at a cold start they are most of the crawl. The wrapper asks readdirp for dirents
 * instead (the type comes with `readdir`), rejects files outright, as our `ignored` would, and
 * gives directories the few Stats methods chokidar reads before it stats them itself.
 */
import type { Dirent } from 'node:fs';
import type { FSWatcher } from 'chokidar';

/** A readdirp entry as chokidar's filters see it. */
interface CrawlEntry {
  fullPath: string;
  dirent?: Dirent;
  stats?: unknown;
}

interface ReaddirpOptions {
  fileFilter?: (entry: CrawlEntry) => boolean;
  directoryFilter?: (entry: CrawlEntry) => boolean;
  [key: string]: unknown;
}

interface ChokidarCrawl {
  _readdirp?: (root: string, opts: ReaddirpOptions) => unknown;
}

/** The Stats methods chokidar calls on a crawled directory entry (its `ignored` and symlink checks). */
function direntStats(d: Dirent): object {
  return {
    isFile: () => d.isFile(),
    isDirectory: () => d.isDirectory(),
    isSymbolicLink: () => d.isSymbolicLink(),
    isFIFO: () => d.isFIFO(),
    isSocket: () => d.isSocket(),
    isBlockDevice: () => d.isBlockDevice(),
    isCharacterDevice: () => d.isCharacterDevice(),
  };
}

/**
 * Installs the wrapper on a watcher whose `ignored` drops every non-directory. Returns false
 * when chokidar's internals are not as expected: the crawl then stays as it was (correct, slower).
 */
export function crawlDirectoriesOnly(w: FSWatcher): boolean {
  const fsw = w as unknown as ChokidarCrawl;
  const original = fsw._readdirp;
  if (typeof original !== 'function') return false;
  fsw._readdirp = function (this: unknown, root: string, opts: ReaddirpOptions) {
    const { directoryFilter } = opts;
    return original.call(this, root, {
      ...opts,
      alwaysStat: false,
      // Files, symlinks, sockets: never watched (our `ignored` rejects them, with stats or not).
      fileFilter: () => false,
      directoryFilter: (entry: CrawlEntry) => {
        if (entry.stats === undefined && entry.dirent) entry.stats = direntStats(entry.dirent);
        return directoryFilter ? directoryFilter(entry) : true;
      },
    });
  };
  return true;
}
