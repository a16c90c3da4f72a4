/**
 * Just enough of git's config machinery to find `core.excludesFile` (and `core.ignoreCase`) the
 * way git does (S1.1): system < global < repository < GIT_CONFIG_COUNT environment, last value
 * wins. Not supported, on purpose: `includeIf` (conditional on the git dir, branch, remote…),
 * `%(prefix)/` paths and `~user/` expansion; unconditional `include.path` is followed.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** One `section[.subsection].key = value` line of a config file; value null for a bare key. */
export interface GitConfigEntry {
  /** Lower-cased section name (`core`). */
  section: string;
  /** Subsection as written (case-sensitive), or null. */
  subsection: string | null;
  /** Lower-cased key name (`excludesfile`). */
  key: string;
  /** The unquoted, unescaped value; null for a key without `=` (boolean true). */
  value: string | null;
}

/** Nested includes deeper than this are dropped (git stops at 10 too). */
const MAX_INCLUDE_DEPTH = 10;

/** Parses the text of a git config file; malformed lines are skipped rather than fatal. */
export function parseGitConfig(text: string): GitConfigEntry[] {
  const entries: GitConfigEntry[] = [];
  let section = '';
  let subsection: string | null = null;
  const s = text.replace(/^\uFEFF/, '');
  let i = 0;
  const n = s.length;
  const skipLine = (): void => {
    while (i < n && s[i] !== '\n') i++;
  };
  while (i < n) {
    const c = s[i] as string;
    if (c === '\n' || c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#' || c === ';') { skipLine(); continue; }
    if (c === '[') {
      const end = s.indexOf(']', i);
      const nl = s.indexOf('\n', i);
      if (end < 0 || (nl >= 0 && nl < end)) { skipLine(); continue; }
      const header = s.slice(i + 1, end).trim();
      const m = /^([A-Za-z0-9.-]+?)\s+"((?:[^"\\]|\\.)*)"$/.exec(header);
      if (m) {
        section = (m[1] as string).toLowerCase();
        subsection = (m[2] as string).replace(/\\(.)/g, '$1');
      } else {
        // Legacy `[section.sub]`: the subsection is lower-cased by git.
        const dot = header.indexOf('.');
        section = (dot < 0 ? header : header.slice(0, dot)).toLowerCase();
        subsection = dot < 0 ? null : header.slice(dot + 1).toLowerCase();
      }
      i = end + 1;
      continue; // a key may follow on the same line
    }
    // key [= value]
    const km = /^[A-Za-z][A-Za-z0-9-]*/.exec(s.slice(i, i + 256));
    if (!km || !section) { skipLine(); continue; }
    const key = km[0].toLowerCase();
    i += km[0].length;
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= n || s[i] === '\n' || s[i] === '\r' || s[i] === '#' || s[i] === ';') {
      entries.push({ section, subsection, key, value: null });
      skipLine();
      continue;
    }
    if (s[i] !== '=') { skipLine(); continue; }
    i++;
    const parsed = parseValue(s, i);
    i = parsed.next;
    entries.push({ section, subsection, key, value: parsed.value });
  }
  return entries;
}

/** Reads a value from `start` to the end of its (possibly continued) line, as git's parse_value. */
function parseValue(s: string, start: number): { value: string; next: number } {
  let i = start;
  let out = '';
  let quoted = false;
  let pendingSpace = ''; // whitespace is kept only when something follows it
  while (i < s.length) {
    const c = s[i] as string;
    if (c === '\n') break;
    if (c === '\r' && s[i + 1] === '\n') { i++; continue; }
    if (!quoted && (c === '#' || c === ';')) {
      while (i < s.length && s[i] !== '\n') i++;
      break;
    }
    if (!quoted && (c === ' ' || c === '\t')) {
      if (out !== '') pendingSpace += c;
      i++;
      continue;
    }
    out += pendingSpace;
    pendingSpace = '';
    if (c === '"') { quoted = !quoted; i++; continue; }
    if (c === '\\') {
      const d = s[i + 1];
      if (d === '\n') { i += 2; continue; } // line continuation
      if (d === '\r' && s[i + 2] === '\n') { i += 3; continue; }
      if (d === 'n') out += '\n';
      else if (d === 't') out += '\t';
      else if (d === 'b') out = out.slice(0, -1);
      else if (d === '"' || d === '\\') out += d;
      // git rejects other escapes; keeping the character is the lenient choice.
      else if (d !== undefined) out += d;
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  return { value: out, next: i };
}

/** The config files git reads, lowest precedence first, for a repository (or none). */
export function gitConfigFiles(gitDir: string | null, env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  if (!isTrue(env.GIT_CONFIG_NOSYSTEM)) files.push(env.GIT_CONFIG_SYSTEM || '/etc/gitconfig');
  if (env.GIT_CONFIG_GLOBAL !== undefined) {
    if (env.GIT_CONFIG_GLOBAL !== '') files.push(env.GIT_CONFIG_GLOBAL);
  } else {
    files.push(join(xdgConfigHome(env), 'git', 'config'));
    files.push(join(home(env), '.gitconfig'));
  }
  if (gitDir) {
    const common = commonGitDir(gitDir);
    files.push(join(common, 'config'));
    // config.worktree only counts with extensions.worktreeConfig; reading it when absent is harmless.
    if (common !== gitDir) files.push(join(gitDir, 'config.worktree'));
  }
  return files;
}

/** The last value of `section.key` (no subsection) across git's config files and GIT_CONFIG_COUNT. */
export function readGitConfigValue(name: string, gitDir: string | null, env: NodeJS.ProcessEnv = process.env): string | null | undefined {
  const dot = name.lastIndexOf('.');
  const section = name.slice(0, dot).toLowerCase();
  const key = name.slice(dot + 1).toLowerCase();
  let found: string | null | undefined;
  for (const file of gitConfigFiles(gitDir, env)) {
    for (const e of readEntries(file, env, 0)) {
      if (e.section === section && e.subsection === null && e.key === key) found = e.value;
    }
  }
  // `git -c` style overrides from the environment (GIT_CONFIG_COUNT / KEY_n / VALUE_n).
  const count = Number(env.GIT_CONFIG_COUNT ?? 0);
  for (let k = 0; Number.isInteger(count) && k < count; k++) {
    if ((env[`GIT_CONFIG_KEY_${k}`] ?? '').toLowerCase() === `${section}.${key}`) found = env[`GIT_CONFIG_VALUE_${k}`] ?? '';
  }
  return found;
}

/**
 * The absolute path of the file git uses as `core.excludesFile` for this repository (gitDir null:
 * a plain directory, global config only), whether or not it exists. `cwd` resolves a relative value
 * (git resolves it against the worktree top, where it runs). Null when set to an empty value.
 */
export function findExcludesFile(opts: { gitDir: string | null; env?: NodeJS.ProcessEnv; cwd: string }): string | null {
  const env = opts.env ?? process.env;
  const value = readGitConfigValue('core.excludesFile', opts.gitDir, env);
  if (value === undefined || value === null) return join(xdgConfigHome(env), 'git', 'ignore');
  if (value === '') return null;
  const expanded = expandHome(value, env);
  return isAbsolute(expanded) ? expanded : resolve(opts.cwd, expanded);
}

/** `core.ignoreCase` as a boolean (git's default on Linux: false). */
export function readIgnoreCase(gitDir: string | null, env: NodeJS.ProcessEnv = process.env): boolean {
  const v = readGitConfigValue('core.ignoreCase', gitDir, env);
  return v === null || isTrue(v);
}

/** Reads the text of a file, null when it is missing or unreadable (git treats both as absent). */
export function readTextOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The git dir holding config and info/ (a linked worktree's `commondir`, else gitDir itself). */
export function commonGitDir(gitDir: string): string {
  const rel = readTextOrNull(join(gitDir, 'commondir'));
  if (rel === null) return gitDir;
  const trimmed = rel.replace(/\r?\n$/, '');
  return isAbsolute(trimmed) ? trimmed : resolve(gitDir, trimmed);
}

function readEntries(file: string, env: NodeJS.ProcessEnv, depth: number): GitConfigEntry[] {
  const text = readTextOrNull(file);
  if (text === null) return [];
  const out: GitConfigEntry[] = [];
  for (const e of parseGitConfig(text)) {
    if (e.section === 'include' && e.subsection === null && e.key === 'path' && e.value) {
      if (depth >= MAX_INCLUDE_DEPTH) continue;
      const p = expandHome(e.value, env);
      out.push(...readEntries(isAbsolute(p) ? p : resolve(dirname(file), p), env, depth + 1));
      continue;
    }
    out.push(e);
  }
  return out;
}

function isTrue(v: string | undefined): boolean {
  if (v === undefined) return false;
  return ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
}

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

function xdgConfigHome(env: NodeJS.ProcessEnv): string {
  return env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : join(home(env), '.config');
}

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~') return home(env);
  if (p.startsWith('~/')) return join(home(env), p.slice(2));
  return p;
}
