/**
 * Copies of nested git repositories (issue #10.7, S1.1a): a job's `rm -rf proj` must not take
 * proj's history with it. The checkpoint tree holds proj's files; this module keeps its git dir.
 *
 * Layout under `<state>/nested/`:
 * - `objects/`: one pool of object files, hard links of the nested repositories' own files.
 *   Loose objects (`ab/cdef…`) and packs (`pack/pack-<hash>.pack|idx|rev|bitmap|mtimes`) are
 *   named after their content and git never rewrites them in place, so a link is a free,
 *   immutable copy that outlives the repository's own `git gc` and the outer repository's
 *   (git never looks into `.git/shadow`).
 * - `captures/<id>/`: everything else of one git dir at one moment (HEAD, index, config, refs,
 *   packed-refs, logs, hooks, info, empty directories) copied under `git/`, and `manifest.json`
 *   naming the pooled objects it needs. `id` is a hash of the git dir's listing and stats, so an
 *   unchanged repository costs one stat walk and no write; a metadata file whose stat did not
 *   change since the previous capture is hard-linked from it rather than copied again.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { copyFileSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One entry of a git dir, relative to it ('/'-separated). */
export type GitDirEntry = { rel: string; kind: 'object' } | { rel: string; kind: 'file' | 'symlink' | 'dir'; st: Stats };

/** What a capture holds, as written to its `manifest.json`. */
export interface CaptureManifest {
  version: 1;
  /** Pooled object files, relative to the git dir (`objects/ab/cd…`, `objects/pack/pack-….pack`). */
  objects: string[];
  /** Metadata files and symlinks, relative to the git dir; each is under the capture's `git/`. */
  files: string[];
  /** Directories, so empty ones (`refs/tags`, `objects/info`) come back too. */
  dirs: string[];
}

/** Where the nested store lives and how to reach its parts. */
export interface NestedStorePaths {
  root: string;
  pool: string;
  captures: string;
  checkpoints: string;
  tmp: string;
}

/** The paths of the nested store of a state folder. */
export function nestedStorePaths(stateDir: string): NestedStorePaths {
  const root = join(stateDir, 'nested');
  return { root, pool: join(root, 'objects'), captures: join(root, 'captures'), checkpoints: join(root, 'checkpoints'), tmp: join(root, 'tmp') };
}

const LOOSE = /^objects\/[0-9a-f]{2}\/[0-9a-f]{38}(?:[0-9a-f]{24})?$/;
const PACKED = /^objects\/pack\/pack-[0-9a-f]{40}(?:[0-9a-f]{24})?\.(?:pack|idx|rev|bitmap|mtimes)$/;

/** True for an object file named after its content (a link to it is an immutable copy). */
export function isObjectFile(rel: string): boolean {
  return LOOSE.test(rel) || PACKED.test(rel);
}

/**
 * Entries never copied: locks and git's temp files (a copied `index.lock` would block the
 * restored repository), a gc's pid file, and a Shadow state folder of the nested repository
 * (sockets, journals: its refs and objects are copied like any others).
 */
function skipped(rel: string, name: string): boolean {
  return name.endsWith('.lock') || rel === 'gc.pid' || rel === 'shadow' || rel.startsWith('objects/incoming-') || /^objects\/(?:pack\/)?tmp_/.test(rel);
}

/** Lists a git dir, never following a symlink; sockets and other special files are left out. */
export function listGitDir(gitDir: string): GitDirEntry[] {
  const out: GitDirEntry[] = [];
  const walk = (rel: string): void => {
    for (const d of readdirSync(rel ? join(gitDir, rel) : gitDir, { withFileTypes: true })) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (skipped(child, d.name)) continue;
      // Object files are immutable: their name says all, and not lstat-ing thousands of loose
      // objects is what keeps an unchanged repository cheap at every checkpoint.
      if (d.isFile() && isObjectFile(child)) {
        out.push({ rel: child, kind: 'object' });
        continue;
      }
      let st: Stats;
      try {
        st = lstatSync(join(gitDir, child));
      } catch (err) {
        if (absent(err)) continue; // removed by the repository's own git meanwhile
        throw err;
      }
      if (st.isDirectory()) {
        out.push({ rel: child, kind: 'dir', st });
        walk(child);
      } else if (st.isSymbolicLink()) out.push({ rel: child, kind: 'symlink', st });
      else if (st.isFile()) out.push(isObjectFile(child) ? { rel: child, kind: 'object' } : { rel: child, kind: 'file', st });
    }
  };
  walk('');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** The capture id of a listing: equal listings and stats give equal ids (no copy needed). */
export function captureId(entries: GitDirEntry[]): string {
  const h = createHash('sha1');
  for (const e of entries) {
    h.update(`${e.kind}\0${e.rel}\0`);
    if (e.kind !== 'object' && e.kind !== 'dir') h.update(`${e.st.size}\0${e.st.mtimeMs}\0${e.st.ctimeMs}\0${e.st.ino}\0${e.st.mode}\n`);
    else h.update('\n');
  }
  return h.digest('hex');
}

/** Reads a capture's manifest. */
export function readManifest(paths: NestedStorePaths, id: string): CaptureManifest {
  return JSON.parse(readFileSync(join(paths.captures, id, 'manifest.json'), 'utf8')) as CaptureManifest;
}

/** The previous capture of a repository, so unchanged metadata files are linked, not copied. */
export interface PreviousCapture {
  id: string;
  /** rel → stat key of the source file when it was copied. */
  stats: Map<string, string>;
  /** Object files known to be in the pool (drop this cache after a prune). */
  objects: Set<string>;
}

const statKey = (st: Stats): string => `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.mode}`;

/**
 * Captures `gitDir` into the store (idempotent: an existing capture of the same id is reused).
 * Returns the id and what the next capture needs to link from this one.
 */
export function captureGitDir(paths: NestedStorePaths, gitDir: string, prev: PreviousCapture | null): PreviousCapture {
  const entries = listGitDir(gitDir);
  const id = captureId(entries);
  const stats = new Map<string, string>();
  for (const e of entries) if (e.kind === 'file') stats.set(e.rel, statKey(e.st));
  if (exists(join(paths.captures, id, 'manifest.json'))) return { id, stats, objects: new Set(readManifest(paths, id).objects) };
  const objects = new Set(entries.filter((e) => e.kind === 'object').map((e) => e.rel));
  const build = join(paths.tmp, `capture-${randomBytes(6).toString('hex')}`);
  mkdirSync(join(build, 'git'), { recursive: true });
  const manifest: CaptureManifest = { version: 1, objects: [], files: [], dirs: [] };
  const dirsMade = new Set<string>();
  const made = (dir: string): void => {
    if (dirsMade.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    dirsMade.add(dir);
  };
  try {
    for (const e of entries) {
      const src = join(gitDir, e.rel);
      const dst = join(build, 'git', e.rel);
      if (e.kind === 'dir') {
        manifest.dirs.push(e.rel); // made at restore; here only the parents of copied files
      } else if (e.kind === 'object') {
        if (prev?.objects.has(e.rel) || pool(src, join(paths.pool, e.rel.slice('objects/'.length)))) manifest.objects.push(e.rel);
        else objects.delete(e.rel);
      } else if (e.kind === 'symlink') {
        made(dirname(dst));
        symlinkSync(readlinkSync(src), dst);
        manifest.files.push(e.rel);
      } else {
        made(dirname(dst));
        const same = prev && prev.stats.get(e.rel) === statKey(e.st);
        if (!(same && linkOrFalse(join(paths.captures, prev.id, 'git', e.rel), dst)) && !copyOrFalse(src, dst)) continue;
        manifest.files.push(e.rel);
      }
    }
    writeFileSync(join(build, 'manifest.json'), JSON.stringify(manifest));
    mkdirSync(paths.captures, { recursive: true });
    try {
      renameSync(build, join(paths.captures, id));
    } catch (err) {
      // Another capture of the same id won the race: it holds the same thing.
      if (!exists(join(paths.captures, id, 'manifest.json'))) throw err;
    }
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
  return { id, stats, objects };
}

/**
 * Puts an object file in the pool: a hard link (a copy across file systems or where links are
 * refused). False when the source vanished (the repository's gc) and the pool lacks it.
 */
function pool(src: string, dst: string): boolean {
  if (exists(dst)) return true;
  mkdirSync(dirname(dst), { recursive: true });
  if (linkOrFalse(src, dst)) return true;
  return exists(dst) || copyOrFalse(src, dst);
}

/** Hard-links `src` to `dst`; false when `src` is gone or links cannot be made there. */
export function linkOrFalse(src: string, dst: string): boolean {
  try {
    linkSync(src, dst);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return true;
    if (absent(err) || code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP') return false;
    throw err;
  }
}

/** Copies `src` to `dst` with its mode; false when `src` is gone. */
export function copyOrFalse(src: string, dst: string): boolean {
  try {
    copyFileSync(src, dst);
    return true;
  } catch (err) {
    if (absent(err)) return false;
    throw err;
  }
}

/** lstat-based existence: only ENOENT/ENOTDIR mean absent. */
export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (err) {
    if (absent(err)) return false;
    throw err;
  }
}

/** True for the errnos that mean "nothing there". */
export function absent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
