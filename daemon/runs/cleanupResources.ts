/**
 * Releases what a cancelled run owned (S5.6): its lock files and, with `autoCleanTemp`, its temp
 * paths. Cleanup runs after the cancel's restore, in the same exclusive section, and may only
 * delete what is provably the run's own: never a path of the run's base checkpoint (it existed
 * before the run), never one the restore just brought back (deleting it would undo the restore),
 * never a file born before the run started (an ignored file the user had is in no commit), and
 * never what it cannot prove the run made. What it keeps, it reports with why.
 */
import type { Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, realpathSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { FlatTree } from '../store/flatTree.js';
import { validateTreePath } from '../store/validateTreePath.js';

/** What a registered path was when the run registered it, judged against the run's start (S5.6). */
export type ResourceOrigin = 'absent' | 'created' | 'preexisting' | 'unknown';

/** What cleanup removed and what it kept. */
export interface CleanupResult {
  /** Temp paths deleted (or already gone). */
  tempPaths: string[];
  /** Lock files deleted (or already gone). */
  lockFiles: string[];
  /** Paths left in place, with why. */
  kept: { path: string; reason: string }[];
}

/** What cleanup protects and judges against. */
export interface CleanupInput {
  /** The workspace's real path. */
  root: string;
  lockFiles: string[];
  tempPaths: string[];
  /** Whether temp paths go at all (`autoCleanTemp`). */
  cleanTemp: boolean;
  /** The run's start, epoch ms on the file system's clock (fsClockNow): a file born before it existed before the run. */
  startedAt: number;
  /** Origins recorded at registration; a path missing here is judged by its birth time alone. */
  origins: Record<string, ResourceOrigin>;
  /** The run's base checkpoint: nothing of it is deleted. */
  base: FlatTree;
  /** The checkpoint the cancel restored (null when the tree was left alone): nothing of it is deleted. */
  target: FlatTree | null;
  /** Plan only: report what would go and change nothing (S5.12). */
  dryRun?: boolean;
}

/** Most kept entries listed below one registered directory; the rest are summed up on it. */
const MAX_KEPT_LISTED = 100;

/** Normalizes a client's workspace-relative path; throws PATH_INVALID when it escapes. */
export function normalizeRunPath(path: string): string {
  const clean = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  validateTreePath(clean);
  return clean;
}

/** Whether `abs`'s parent directory really lies inside `root` (no symlink on the way out). */
function parentInside(root: string, abs: string): boolean {
  try {
    const parent = realpathSync(dirname(abs));
    return parent === root || parent.startsWith(root + sep);
  } catch {
    return false;
  }
}

/**
 * Now, on the file system's clock: the birth (or mtime) of a file created in `dir` and removed at
 * once. File times come from a coarse kernel clock that lags Date.now() by up to a tick, so a file
 * made just after the run started may read as born before Date.now() did; compared with this
 * stamp it cannot. Date.now() when no file can be made there (that errs on keeping files).
 */
export function fsClockNow(dir: string): number {
  const tmp = join(dir, `.clock-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      const st = fstatSync(fd);
      return birth(st) ?? st.mtimeMs;
    } finally {
      closeSync(fd);
      unlinkSync(tmp);
    }
  } catch {
    return Date.now();
  }
}

/** The birth time in ms, or null when the file system does not give one (it reads as 0). */
function birth(st: Stats): number | null {
  return st.birthtimeMs > 0 ? st.birthtimeMs : null;
}

/**
 * Judges a path at `run.register` time: absent (whatever is there later came during the run),
 * created (born after the run started), preexisting (born, or last changed, before it), or
 * unknown (no birth time and changed since the start: it may be the user's file, edited).
 */
export function originAtRegistration(root: string, rel: string, startedAt: number): ResourceOrigin {
  const abs = join(root, rel);
  if (!parentInside(root, abs)) return 'unknown';
  let st: Stats;
  try {
    st = lstatSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : 'unknown';
  }
  const born = birth(st);
  if (born !== null) return born >= startedAt ? 'created' : 'preexisting';
  return st.ctimeMs < startedAt ? 'preexisting' : 'unknown';
}

/** Paths of the checkpoints at or below the registered paths, with why each is protected. */
function protectedPaths(input: CleanupInput, registered: string[]): { files: Map<string, string>; dirs: Set<string> } {
  const files = new Map<string, string>();
  const dirs = new Set<string>();
  const roots = new Set(registered);
  const scan = (tree: FlatTree | null, reason: string): void => {
    if (!tree) return;
    for (const path of tree.keys()) {
      // Walk up the path: protected when it or an ancestor is registered.
      let hit = roots.has(path);
      for (let i = path.lastIndexOf('/'); !hit && i > 0; i = path.lastIndexOf('/', i - 1)) hit = roots.has(path.slice(0, i));
      if (!hit) continue;
      if (!files.has(path)) files.set(path, reason);
      for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) dirs.add(path.slice(0, i));
    }
  };
  scan(input.base, "in the run's base checkpoint (existed before the run)");
  scan(input.target, 'restored by the cancel');
  return { files, dirs };
}

/** Cleanup of one registered path: deletes what is provably the run's, records what it keeps. */
class PathCleaner {
  kept: { path: string; reason: string }[] = [];
  private listedBelow = 0;

  constructor(
    private readonly input: CleanupInput,
    private readonly prot: { files: Map<string, string>; dirs: Set<string> },
    private readonly top: string,
  ) {}

  /** Handles `rel` (the registered path or an entry below it); true when it is gone. */
  clean(rel: string, dirsToo: boolean): boolean {
    const { root } = this.input;
    const abs = join(root, rel);
    if (!parentInside(root, abs)) return this.keep(rel, 'outside the workspace or parent missing');
    let st: Stats;
    try {
      st = lstatSync(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return true; // already gone
      return this.keep(rel, `error: ${code ?? String(err)}`);
    }
    const prot = this.prot.files.get(rel);
    if (prot) return this.keep(rel, prot);
    if (st.isDirectory()) {
      if (!dirsToo) return this.keep(rel, 'is a directory');
      let allGone = true;
      // rm -r by hand: each entry is judged on its own, and symlinks are never followed (lstat).
      for (const name of readdirSync(abs)) if (!this.clean(`${rel}/${name}`, true)) allGone = false;
      if (!allGone || this.prot.dirs.has(rel)) return false;
      const why = this.notProvablyCreated(rel, st);
      if (why) return this.keep(rel, why);
      return this.remove(rel, () => rmdirSync(abs));
    }
    const why = this.notProvablyCreated(rel, st);
    if (why) return this.keep(rel, why);
    return this.remove(rel, () => unlinkSync(abs));
  }

  /** Null when `rel` was provably made during the run, else why it stays. */
  private notProvablyCreated(rel: string, st: Stats): string | null {
    const { startedAt, origins } = this.input;
    const origin: ResourceOrigin | undefined = origins[this.top];
    if (rel === this.top && origin === 'preexisting') return 'existed before the run (seen at registration)';
    const born = birth(st);
    if (born !== null) return born >= startedAt ? null : 'existed before the run (born before it started)';
    // No birth time: only a path absent at registration is provably the run's, with all below it.
    if (origin === 'absent') return null;
    return 'not provably created by the run (the file system gives no birth time)';
  }

  private remove(rel: string, op: () => void): boolean {
    if (this.input.dryRun) return true;
    try {
      op();
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      return this.keep(rel, `error: ${code ?? String(err)}`);
    }
  }

  private keep(rel: string, reason: string): false {
    if (rel === this.top || ++this.listedBelow <= MAX_KEPT_LISTED) this.kept.push({ path: rel, reason });
    return false;
  }

  /** Entries kept below the top path beyond those listed. */
  get unlisted(): number {
    return Math.max(0, this.listedBelow - MAX_KEPT_LISTED);
  }
}

/**
 * Deletes the run's lock files, and temp paths when `cleanTemp`, keeping every path that is not
 * provably the run's own (see the file comment). Synchronous, like the restore, so it never
 * queues behind the watcher's thread-pool work (S5.9); call it inside `exclusive`.
 */
export function cleanupResources(input: CleanupInput): CleanupResult {
  const out: CleanupResult = { tempPaths: [], lockFiles: [], kept: [] };
  const temps = input.cleanTemp ? input.tempPaths : [];
  if (!input.lockFiles.length && !temps.length) return out;
  const prot = protectedPaths(input, [...input.lockFiles, ...temps]);
  const run = (path: string, dirsToo: boolean, done: string[]): void => {
    const cleaner = new PathCleaner(input, prot, path);
    const gone = cleaner.clean(path, dirsToo);
    if (gone) done.push(path);
    const more = cleaner.unlisted ? `; ${cleaner.unlisted} more entries below it kept` : '';
    if (!gone && !cleaner.kept.some((k) => k.path === path)) out.kept.push({ path, reason: `holds entries that are kept${more}` });
    for (const k of cleaner.kept) out.kept.push(k.path === path ? { path, reason: `${k.reason}${more}` } : k);
  };
  for (const path of input.lockFiles) run(path, false, out.lockFiles);
  for (const path of temps) run(path, true, out.tempPaths);
  return out;
}
