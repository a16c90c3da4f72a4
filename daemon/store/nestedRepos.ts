/**
 * Nested git repositories and submodules in the workspace (issue #10.7, S1.1a).
 *
 * The checkpoint tree holds a nested repository's files like any others (not a gitlink: a gitlink
 * names only its HEAD commit, and the uncommitted and untracked work inside it would be in no
 * commit). Its git dir is kept beside the checkpoint: at every checkpoint each nested repository
 * the scanner has met is captured (nestedRepoCapture.ts) and `<state>/nested/checkpoints/<commit>.json`
 * names the capture of each. A restore to that commit re-creates a `.git` that is gone — a
 * directory from its capture, or a submodule's `.git` file and, when gone too, the git dir it
 * points to — and never deletes or overwrites one that is there: that one is reported as
 * preserved, as is a nested repository the checkpoint does not hold.
 */
import type { Stats } from 'node:fs';
import { closeSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, unlinkSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { writeTempFile } from '../writeTempFile.js';
import type { RestoreResult } from './applyRestore.js';
import type { NestedStorePaths, PreviousCapture } from './nestedRepoCapture.js';
import { absent, captureGitDir, exists, linkOrFalse, nestedStorePaths } from './nestedRepoCapture.js';
import type { NestedPruned } from './nestedRepoPrune.js';
import { pruneNestedStore, shadowCommits } from './nestedRepoPrune.js';
import { materializeCapture, sameAsCapture } from './nestedRepoRestore.js';
import { firstNonDirectory } from './realDirectory.js';
import type { SnapshotEngine } from './snapshotEngine.js';

/** One nested repository as a checkpoint holds it. */
export interface NestedRepoRecord {
  /** Workspace-relative directory holding the `.git`. */
  path: string;
  /** The `.git` file's bytes (a submodule, a linked worktree), or null for a `.git` directory. */
  gitFile: string | null;
  /** The capture of its git dir (`<state>/nested/captures/<id>`). */
  capture: string;
}

/** Options of NestedRepos. */
export interface NestedReposOptions {
  workspace: string;
  stateDir: string;
  /** Directories a re-created git dir may be written in: the workspace, the user's git dir. */
  gitDirRoots: string[];
  logger: { warn(obj: object, msg: string): void };
}

/** Reasons given for nested `.git` paths a restore leaves alone. */
export const NESTED_REASONS = {
  differs: 'nested repository: differs from the checkpoint, left as it is',
  notInCheckpoint: 'nested repository: not in the checkpoint, left as it is',
  outside: 'nested repository: its git dir is outside the workspace, not re-created',
} as const;

/** Finds, captures and re-creates the nested repositories of one workspace. */
export class NestedRepos {
  readonly store: NestedStorePaths;
  /** Directories seen holding a `.git` (kept current by the scanner's directory reads). */
  private readonly known = new Set<string>();
  private readonly prev = new Map<string, PreviousCapture>();
  private readonly realRoot: string;

  constructor(private readonly opts: NestedReposOptions) {
    this.store = nestedStorePaths(opts.stateDir);
    this.realRoot = realpathSync.native(opts.workspace);
  }

  /**
   * Told of each directory the scanner read, with whether its entries hold a `.git` (the scanner
   * skips it as ignored); without that, as for a watcher event, one lstat finds out.
   */
  noteDir(dir: string, hasGit?: boolean): void {
    if (dir === '') return; // the workspace's own repository
    if (hasGit ?? this.lstat(join(dir, '.git'))) this.known.add(dir);
    else this.known.delete(dir);
  }

  /** Captures every nested repository present and records them for `commit`. Never throws: a failure is logged and that repository is left out. */
  capture(commit: string): void {
    const repos: NestedRepoRecord[] = [];
    for (const path of [...this.known].sort()) {
      try {
        const found = this.locate(path);
        if (!found) {
          this.known.delete(path);
          continue;
        }
        const cap = captureGitDir(this.store, found.gitDir, this.prev.get(path) ?? null);
        this.prev.set(path, cap);
        repos.push({ path, gitFile: found.gitFile, capture: cap.id });
      } catch (err) {
        this.opts.logger.warn({ path, err: String(err) }, 'nested repository not captured');
      }
    }
    if (repos.length === 0) return;
    try {
      mkdirSync(this.store.checkpoints, { recursive: true });
      const file = join(this.store.checkpoints, `${commit}.json`);
      writeOnce(file, JSON.stringify({ repos }));
    } catch (err) {
      this.opts.logger.warn({ commit, err: String(err) }, 'nested repositories not recorded');
    }
  }

  /** `to` rewrites commit `from` (the auto chain's compaction): it holds the same nested repositories. */
  carry(from: string, to: string): void {
    const fromFile = join(this.store.checkpoints, `${from}.json`);
    if (exists(fromFile)) linkOrFalse(fromFile, join(this.store.checkpoints, `${to}.json`));
  }

  /** Prunes the nested store down to what the commits on shadow refs need (gc, S1.7). Inside `exclusive`. */
  async prune(engine: SnapshotEngine): Promise<NestedPruned> {
    if (!exists(this.store.root)) return { records: 0, captures: 0, objects: 0 }; // no walk of every commit for nothing
    // The previous captures' object lists may name objects the prune removes: forget them.
    this.prev.clear();
    return pruneNestedStore(this.store, await shadowCommits(engine));
  }

  /** The nested repositories recorded for `commit` (none when it has no record). */
  recorded(commit: string): NestedRepoRecord[] {
    try {
      return (JSON.parse(readFileSync(join(this.store.checkpoints, `${commit}.json`), 'utf8')) as { repos: NestedRepoRecord[] }).repos;
    } catch (err) {
      if (absent(err)) return [];
      throw err;
    }
  }

  /**
   * After a restore to `commit` (or `paths` of it): re-creates each recorded `.git` that is gone
   * and reports, in `result`, what it re-created (`restored`) and each nested `.git` it left alone
   * (`preserved`). Nothing existing is ever deleted or overwritten.
   */
  restoreInto(result: RestoreResult, commit: string, paths: string[] | null): void {
    const inScope = (p: string): boolean => paths === null || paths.some((f) => f === '' || f === p || p.startsWith(`${f}/`));
    const recorded = this.recorded(commit).filter((r) => inScope(r.path));
    const restored: string[] = [];
    const preserved: { path: string; reason: string }[] = [];
    for (const rec of recorded) {
      try {
        this.restoreOne(rec, restored, preserved);
        this.known.add(rec.path);
      } catch (err) {
        preserved.push({ path: `${rec.path}/.git`, reason: `error: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
      }
    }
    const held = new Set(recorded.map((r) => r.path));
    for (const path of this.known) {
      if (!held.has(path) && inScope(path) && this.lstat(join(path, '.git'))) preserved.push({ path: `${path}/.git`, reason: NESTED_REASONS.notInCheckpoint });
    }
    result.restored = [...result.restored, ...restored].sort();
    result.preserved = [...result.preserved, ...preserved].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private restoreOne(rec: NestedRepoRecord, restored: string[], preserved: { path: string; reason: string }[]): void {
    const dotGitRel = `${rec.path}/.git`;
    const blocker = firstNonDirectory(this.opts.workspace, this.realRoot, rec.path, (p) => this.lstat(p));
    if (blocker !== null) {
      if (this.lstat(blocker)) return void preserved.push({ path: dotGitRel, reason: `in the way: ${blocker}` });
      mkdirSync(join(this.opts.workspace, rec.path), { recursive: true });
    }
    const dotGit = join(this.opts.workspace, dotGitRel);
    const st = this.lstat(dotGitRel);
    if (rec.gitFile === null) {
      if (st) {
        if (!st.isDirectory() || !sameAsCapture(this.store, rec.capture, dotGit)) preserved.push({ path: dotGitRel, reason: NESTED_REASONS.differs });
      } else if (materializeCapture(this.store, rec.capture, dotGit)) restored.push(dotGitRel);
      else preserved.push({ path: dotGitRel, reason: `in the way: ${dotGitRel}` });
      return;
    }
    if (st && !(st.isFile() && readFileSync(dotGit, 'utf8') === rec.gitFile)) return void preserved.push({ path: dotGitRel, reason: NESTED_REASONS.differs });
    // The git dir first, so a `.git` file never points at nothing.
    const gitDir = gitDirOf(join(this.opts.workspace, rec.path), rec.gitFile);
    if (gitDir === null) return void preserved.push({ path: dotGitRel, reason: 'nested repository: unreadable .git file in the checkpoint' });
    const shown = this.shown(gitDir);
    if (!exists(gitDir)) {
      if (!this.opts.gitDirRoots.some((root) => within(root, gitDir))) return void preserved.push({ path: shown, reason: NESTED_REASONS.outside });
      if (materializeCapture(this.store, rec.capture, gitDir)) restored.push(shown);
      else preserved.push({ path: shown, reason: `in the way: ${shown}` });
    } else if (!sameAsCapture(this.store, rec.capture, gitDir)) preserved.push({ path: shown, reason: NESTED_REASONS.differs });
    if (st) return;
    const tmp = writeTempFile(dotGit, rec.gitFile, 0o644);
    try {
      linkSync(tmp, dotGit); // never over a `.git` that appeared meanwhile
      restored.push(dotGitRel);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      preserved.push({ path: dotGitRel, reason: `in the way: ${dotGitRel}` });
    } finally {
      unlinkSync(tmp);
    }
  }

  /** The git dir of the nested repository at `path`, or null when `.git` is no repository's. */
  private locate(path: string): { gitDir: string; gitFile: string | null } | null {
    const dotGit = join(this.opts.workspace, path, '.git');
    const st = this.lstat(join(path, '.git'));
    if (!st) return null;
    let gitFile: string | null = null;
    let gitDir: string | null = dotGit;
    if (st.isFile()) {
      gitFile = readHead(dotGit, 4096);
      gitDir = gitDirOf(join(this.opts.workspace, path), gitFile);
    } else if (!st.isDirectory()) return null;
    if (gitDir === null || !exists(join(gitDir, 'HEAD'))) return null;
    return { gitDir, gitFile };
  }

  /** A path for reports: workspace-relative when inside it. */
  private shown(abs: string): string {
    return within(this.opts.workspace, abs) ? relative(this.opts.workspace, abs) : abs;
  }

  private lstat(rel: string): Stats | undefined {
    try {
      return lstatSync(join(this.opts.workspace, rel));
    } catch (err) {
      if (absent(err)) return undefined;
      throw err;
    }
  }
}

/** The git dir a `.git` file names (`gitdir: <path>`, relative to its directory), or null. */
export function gitDirOf(dir: string, gitFile: string): string | null {
  const m = /^gitdir: (.+)$/m.exec(gitFile);
  return m?.[1] ? resolve(dir, m[1].trim()) : null;
}

/** True when `path` is `root` or below it. */
function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The first `max` bytes of a file, as text. */
function readHead(file: string, max: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(max);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, max, 0));
  } finally {
    closeSync(fd);
  }
}

/** Writes a whole file that is never rewritten: temp file, then a link (an existing one stays). */
function writeOnce(file: string, text: string): void {
  const tmp = writeTempFile(file, text);
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}
