/**
 * Git-exact ignore decisions (S1.1, S1.8): the snapshot holds exactly what `git add -A` would add.
 *
 * Git's order for one path: the `.gitignore` of its own directory, then each parent's up to the
 * root's, then `$GIT_DIR/info/exclude`, then `core.excludesFile`. Within a list the last matching
 * pattern wins; the first list with any match (ignore or negation) decides. Shadow's own patterns
 * (.shadowignore, config `ignore`) can only add ignores, so they run after git's verdict.
 *
 * Pattern syntax comes from the `ignore` package, but only its compiled per-rule regexes: its
 * `ignores()`/`test()` also test every parent directory against the same list (wrong across
 * levels: root `d/` would hide `x/d/f` even when `x/.gitignore` says `!d/`) and cache every path
 * ever asked without bound. Matching one path against one list here is a loop over those regexes,
 * with no per-path state, so memory is bounded by the number of directories.
 */
import { constants, closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore from 'ignore';
import { ShadowError } from '../../shared/errors.js';
import { decodePathBytes, fsPath } from '../../shared/pathBytes.js';
import { ABORT_FILE, REVIEW_FILE } from '../../shared/runModel.js';
import { commonGitDir, findExcludesFile, readIgnoreCase, readTextOrNull } from './gitConfigReader.js';

/** Returns the text of the ignore file (`.gitignore`) in workspace-relative dir `dirRel` ('' = root), or null. Synchronous on purpose. */
export type IgnoreFileReader = (dirRel: string) => string | null;

/** Everything an IgnoreRules needs. */
export interface IgnoreRulesOptions {
  /** Reads the `.gitignore` of a workspace-relative directory, or null. */
  readIgnoreFile: IgnoreFileReader;
  /** Text of $GIT_DIR/info/exclude. */
  infoExclude: string | null;
  /** Text of the core.excludesFile file. */
  globalExcludes: string | null;
  /** Shadow-only patterns (.shadowignore lines + config `ignore`), root-relative; they can only ADD ignores. */
  shadowPatterns: string[];
  /** Basenames ignored at any depth, e.g. ['.git']. */
  alwaysIgnoredNames: string[];
  /** Root-relative paths ignored with everything below, e.g. ['.shadow'] (the state folder). */
  alwaysIgnoredPaths: string[];
  /** git's core.ignoreCase (default false, git's default on Linux). */
  ignoreCase?: boolean;
  /** Re-reads the sources above that are not `.gitignore` files (see `reloadExcludes`). */
  reloadExcludes?: () => ExcludeSources;
}

/** The ignore sources that live outside the per-directory `.gitignore` files. */
export type ExcludeSources = Pick<IgnoreRulesOptions, 'infoExclude' | 'globalExcludes' | 'shadowPatterns'>;

/** One compiled pattern. */
interface Rule {
  re: RegExp;
  negative: boolean;
  /** No slash inside the pattern: git matches it against the basename only. */
  basenameOnly: boolean;
}

/** The compiled patterns of one ignore file; match() answers 1 ignored, -1 re-included, 0 no match. */
class PatternList {
  constructor(private readonly rules: Rule[]) {}

  /** `path` is relative to the list's directory, `base` its last segment; both end in '/' for a directory. */
  match(path: string, base: string): number {
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const r = this.rules[i] as Rule;
      if (r.re.test(r.basenameOnly ? base : path)) return r.negative ? -1 : 1;
    }
    return 0;
  }
}

/** The rule shape of `ignore` 7 we rely on (internal, checked by compile()). */
interface IgnoreInternals {
  _rules?: { _rules?: Array<{ body?: unknown; negative?: unknown; regex?: unknown }> };
}

/** Compiles ignore-file text (or lines) into a PatternList, null when it holds no pattern. */
function compile(source: string | string[], ignoreCase: boolean): PatternList | null {
  const ig = ignore({ ignorecase: ignoreCase }).add(source) as unknown as IgnoreInternals;
  const raw = ig._rules?._rules;
  if (!Array.isArray(raw)) {
    throw new ShadowError('INTERNAL', 'The ignore package no longer exposes its compiled rules', { package: 'ignore' });
  }
  const rules: Rule[] = [];
  for (const r of raw) {
    let re: unknown;
    try {
      re = r.regex; // compiled lazily by the getter: a pattern it cannot translate matches nothing
    } catch {
      continue;
    }
    if (!(re instanceof RegExp) || typeof r.negative !== 'boolean' || typeof r.body !== 'string') {
      throw new ShadowError('INTERNAL', 'The ignore package changed its rule shape', { package: 'ignore' });
    }
    const body = r.body.endsWith('/') ? r.body.slice(0, -1) : r.body;
    rules.push({ re, negative: r.negative, basenameOnly: !body.includes('/') });
  }
  return rules.length ? new PatternList(rules) : null;
}

/** A level of the per-directory stack: the list of the `.gitignore` in `prefix`'s directory. */
interface Level {
  /** Length of `dirRel + '/'` ('' → 0), cut from a root-relative path to make it list-relative. */
  cut: number;
  list: PatternList;
}

/** Caps on the per-directory caches: past them they are dropped and rebuilt lazily. */
const MAX_DIRS = 200_000;
const MAX_CHAINS = 50_000;

/** Git-exact ignore matcher with one cached compiled list per directory (S1.1). */
export class IgnoreRules {
  private opts: IgnoreRulesOptions;
  private readonly ignoreCase: boolean;
  private readonly names: Set<string>;
  private readonly paths: string[];
  private fileLists: PatternList[] = [];
  private shadow: PatternList | null = null;
  /** dirRel → compiled `.gitignore`, or null for "none here" (cached too). */
  private readonly dirs = new Map<string, PatternList | null>();
  /** dirRel → the text its cached list was compiled from (only for lists that exist). */
  private readonly texts = new Map<string, string>();
  /** dirRel → the levels that apply to its entries, deepest first. */
  private readonly chains = new Map<string, Level[]>();
  /**
   * Whether git tracks a file (the user's index): git's ignore rules never apply to a tracked
   * file (`git add -A` keeps updating it), only the built-in ignores and Shadow's own patterns do.
   */
  private tracked: ((relPath: string) => boolean) | null = null;
  /** Bumped whenever a decision may have changed (rules invalidated or reloaded). */
  generation = 0;

  constructor(opts: IgnoreRulesOptions) {
    this.opts = opts;
    this.ignoreCase = opts.ignoreCase ?? false;
    this.names = new Set(opts.alwaysIgnoredNames);
    this.paths = opts.alwaysIgnoredPaths.map((p) => p.replace(/^\.\/+/, '').replace(/\/+$/, '')).filter((p) => p !== '');
    this.compileExcludes();
  }

  /**
   * Re-reads info/exclude, core.excludesFile and the Shadow patterns (when built with a reloader)
   * and returns true when they changed. git reads them afresh on every command, so a daemon that
   * read them once would go on hiding or showing files git no longer does (S1.1). After a change
   * anything may be hidden or revealed: the caller must rescan the whole tree.
   */
  reloadExcludes(): boolean {
    const fresh = this.opts.reloadExcludes?.();
    if (!fresh) return false;
    const { infoExclude, globalExcludes, shadowPatterns } = this.opts;
    if (fresh.infoExclude === infoExclude && fresh.globalExcludes === globalExcludes && fresh.shadowPatterns.join('\n') === shadowPatterns.join('\n')) return false;
    this.opts = { ...this.opts, ...fresh };
    this.compileExcludes();
    this.generation++;
    return true;
  }

  private compileExcludes(): void {
    const opts = this.opts;
    // info/exclude is consulted before core.excludesFile (git walks its EXC_FILE group backwards).
    this.fileLists = [opts.infoExclude, opts.globalExcludes]
      .map((t) => (t === null ? null : compile(t, this.ignoreCase)))
      .filter((l): l is PatternList => l !== null);
    this.shadow = compile(opts.shadowPatterns, this.ignoreCase);
  }

  /** The same rules with other `.gitignore` files (e.g. those recorded in a checkpoint's tree). */
  withIgnoreFiles(readIgnoreFile: IgnoreFileReader): IgnoreRules {
    const rules = new IgnoreRules({ ...this.opts, readIgnoreFile });
    rules.tracked = this.tracked;
    return rules;
  }

  /** Sets the tracked-file test (S1.1: a tracked file is captured even when an ignore rule matches it); null: none. */
  setTracked(tracked: ((relPath: string) => boolean) | null): void {
    this.tracked = tracked;
    this.generation++;
  }

  /** relPath: posix, root-relative, no leading './'. Assumes no parent directory is ignored (walker use). */
  isIgnored(relPath: string, isDir: boolean): boolean {
    if (relPath === '') return false;
    const slash = relPath.lastIndexOf('/');
    const name = slash < 0 ? relPath : relPath.slice(slash + 1);
    if (this.names.has(name)) return true;
    for (const p of this.paths) {
      if (relPath === p || (relPath.startsWith(p) && relPath.charCodeAt(p.length) === 47)) return true;
    }
    const path = isDir ? relPath + '/' : relPath;
    const base = isDir ? name + '/' : name;
    const verdict = this.gitVerdict(slash < 0 ? '' : relPath.slice(0, slash), path, base);
    if (verdict > 0 && !isDir && this.tracked?.(relPath)) return this.shadow !== null && this.shadow.match(path, base) > 0;
    if (verdict !== 0) return verdict > 0;
    return this.shadow !== null && this.shadow.match(path, base) > 0;
  }

  /** Ignored by the built-in ignores or Shadow's own patterns alone (what still hides a tracked file). */
  private ownIgnored(relPath: string, isDir: boolean): boolean {
    const slash = relPath.lastIndexOf('/');
    const name = slash < 0 ? relPath : relPath.slice(slash + 1);
    if (this.names.has(name)) return true;
    for (const p of this.paths) {
      if (relPath === p || (relPath.startsWith(p) && relPath.charCodeAt(p.length) === 47)) return true;
    }
    return this.shadow !== null && this.shadow.match(isDir ? relPath + '/' : relPath, isDir ? name + '/' : name) > 0;
  }

  /** Same, but also true when any parent directory is ignored (for checking arbitrary paths, e.g. before deleting). */
  isIgnoredDeep(relPath: string, isDir: boolean): boolean {
    // A tracked file inside an ignored directory is still git's (`git add -A` updates it).
    const tracked = !isDir && this.tracked !== null && this.tracked(relPath);
    for (let i = relPath.indexOf('/'); i >= 0; i = relPath.indexOf('/', i + 1)) {
      const dir = relPath.slice(0, i);
      if (tracked ? this.ownIgnored(dir, true) : this.isIgnored(dir, true)) return true;
    }
    return this.isIgnored(relPath, isDir);
  }

  /** Whether dirRel's cached rules were compiled from exactly `content` (then a re-read would change nothing). */
  hasRulesFrom(dirRel: string, content: Uint8Array): boolean {
    const text = this.texts.get(dirRel);
    return text !== undefined && this.dirs.get(dirRel) !== undefined && Buffer.from(text, 'utf8').equals(content);
  }

  /** Drops the cached matcher of dirRel (its .gitignore changed or vanished). */
  invalidate(dirRel: string): void {
    this.dirs.delete(dirRel);
    this.texts.delete(dirRel);
    this.generation++;
    // Chains of every descendant embed this directory's list: rebuild them all (cheap, lazily).
    this.chains.clear();
  }

  /** git's answer: 1 ignored, -1 re-included by a negation, 0 no pattern matched. */
  private gitVerdict(dirRel: string, path: string, base: string): number {
    for (const level of this.chain(dirRel)) {
      const v = level.list.match(level.cut ? path.slice(level.cut) : path, base);
      if (v !== 0) return v;
    }
    for (const list of this.fileLists) {
      const v = list.match(path, base);
      if (v !== 0) return v;
    }
    return 0;
  }

  private chain(dirRel: string): Level[] {
    const cached = this.chains.get(dirRel);
    if (cached) return cached;
    if (this.chains.size >= MAX_CHAINS) this.chains.clear();
    const own = this.list(dirRel);
    let parent: Level[] = [];
    if (dirRel !== '') {
      const slash = dirRel.lastIndexOf('/');
      parent = this.chain(slash < 0 ? '' : dirRel.slice(0, slash));
    }
    const levels = own ? [{ cut: dirRel === '' ? 0 : dirRel.length + 1, list: own }, ...parent] : parent;
    this.chains.set(dirRel, levels);
    return levels;
  }

  private list(dirRel: string): PatternList | null {
    const cached = this.dirs.get(dirRel);
    if (cached !== undefined) return cached;
    if (this.dirs.size >= MAX_DIRS) {
      this.dirs.clear();
      this.texts.clear();
    }
    const text = this.opts.readIgnoreFile(dirRel);
    const list = text === null ? null : compile(text, this.ignoreCase);
    this.dirs.set(dirRel, list);
    if (text !== null) this.texts.set(dirRel, text);
    return list;
  }
}

/** An IgnoreFileReader over in-memory texts keyed by dirRel (used for the rules recorded in a checkpoint's tree). */
export function readerFromMap(texts: Map<string, string>): IgnoreFileReader {
  return (dirRel) => texts.get(dirRel) ?? null;
}

/** Builds the rules of a live workspace: reads `<root>/<dir>/.gitignore` lazily, `<gitDir>/info/exclude` (gitDir null for a plain directory: then no info/exclude), core.excludesFile, and `<root>/.shadowignore`. */
export function loadWorkspaceIgnoreRules(opts: {
  root: string;
  gitDir: string | null;
  stateDirRel: string | null;
  configIgnore: string[];
  env?: NodeJS.ProcessEnv;
}): IgnoreRules {
  const env = opts.env ?? process.env;
  const readExcludes = (): ExcludeSources => {
    // Resolved again on each call: the user may edit ~/.gitconfig to point elsewhere.
    const excludesFile = findExcludesFile({ gitDir: opts.gitDir, env, cwd: opts.root });
    const shadowIgnore = readInTree(join(opts.root, '.shadowignore'));
    return {
      infoExclude: opts.gitDir ? readTextOrNull(join(commonGitDir(opts.gitDir), 'info', 'exclude')) : null,
      globalExcludes: excludesFile === null ? null : readTextOrNull(excludesFile),
      shadowPatterns: [...(shadowIgnore === null ? [] : shadowIgnore.split(/\r?\n/)), ...opts.configIgnore],
    };
  };
  return new IgnoreRules({
    readIgnoreFile: (dirRel) => readInTree(fsPath(opts.root, dirRel ? `${dirRel}/.gitignore` : '.gitignore')),
    ...readExcludes(),
    reloadExcludes: readExcludes,
    alwaysIgnoredNames: ['.git'],
    // The abort file and the review marker are Shadow's own signals, never part of a snapshot and
    // never deleted by a restore (S5.1, S5.3).
    alwaysIgnoredPaths: [...(opts.stateDirRel ? [opts.stateDirRel] : []), ABORT_FILE, REVIEW_FILE],
    ignoreCase: readIgnoreCase(opts.gitDir, env),
  });
}

/**
 * Reads an in-tree ignore file as git does since 2.32: never through a symlink (O_NOFOLLOW), and
 * only a regular file. Missing or unreadable means "no file" (git warns and goes on).
 */
function readInTree(file: string | Buffer): string | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    // Patterns match names byte for byte, names that are not UTF-8 included (shared/pathBytes.ts).
    return decodePathBytes(readFileSync(fd));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
