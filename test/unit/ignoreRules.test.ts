import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeTempDir } from '../helpers/tempDir.js';
import { IgnoreRules, loadWorkspaceIgnoreRules, readerFromMap } from '../../daemon/store/ignoreRules.js';
import type { IgnoreRulesOptions } from '../../daemon/store/ignoreRules.js';
import { findExcludesFile, parseGitConfig } from '../../daemon/store/gitConfigReader.js';
import { mulberry32 } from '../../scripts/prng.mjs';

/** A hermetic environment for git and the loader: no GIT_* from outside, a private HOME, no system config. */
function hermeticEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('GIT_') && k !== 'XDG_CONFIG_HOME') env[k] = v;
  }
  return { ...env, HOME: home, GIT_CONFIG_NOSYSTEM: '1', ...extra };
}

function runGit(cwd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): string {
  const r = spawnSync('git', args, { cwd, env, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // check-ignore exits 1 when nothing is ignored.
  if (r.status !== 0 && !(args[0] === 'check-ignore' && r.status === 1)) {
    throw new Error(`git ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  return r.stdout;
}

/** Writes a tree: a value ending in '/' under key k makes directory k; `{ link }` a symlink. */
type Spec = Record<string, string | { link: string }>;
function writeTree(root: string, spec: Spec): void {
  for (const [rel, content] of Object.entries(spec)) {
    const abs = join(root, rel);
    if (typeof content === 'string' && rel.endsWith('/')) {
      mkdirSync(abs, { recursive: true });
      continue;
    }
    mkdirSync(dirname(abs), { recursive: true });
    if (typeof content === 'string') writeFileSync(abs, content);
    else symlinkSync(content.link, abs);
  }
}

/** What `git add -A` would add, by walking with our rules (parents before children, pruning). */
function walk(rules: IgnoreRules, root: string, rel = '', out: string[] = []): string[] {
  for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    const isDir = d.isDirectory();
    if (rules.isIgnored(p, isDir)) continue;
    if (isDir) walk(rules, root, p, out);
    else out.push(p);
  }
  return out;
}

/** Every file and directory under root except .git, with its kind. */
function allPaths(root: string, rel = '', out: Array<{ p: string; isDir: boolean }> = []): Array<{ p: string; isDir: boolean }> {
  for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
    if (d.name === '.git') continue;
    const p = rel ? `${rel}/${d.name}` : d.name;
    out.push({ p, isDir: d.isDirectory() });
    if (d.isDirectory()) allPaths(root, p, out);
  }
  return out;
}

function gitUntracked(root: string, env: NodeJS.ProcessEnv): string[] {
  return runGit(root, ['ls-files', '-o', '--exclude-standard', '-z'], env).split('\0').filter(Boolean).sort();
}

function gitIgnoredSet(root: string, paths: string[], env: NodeJS.ProcessEnv): Set<string> {
  const out = runGit(root, ['check-ignore', '--no-index', '-z', '--stdin'], env, paths.join('\0') + '\0');
  return new Set(out.split('\0').filter(Boolean));
}

/** Asserts tree parity (S1.1) and per-path parity of isIgnoredDeep with `git check-ignore`. */
function expectGitParity(root: string, env: NodeJS.ProcessEnv, rules?: IgnoreRules): void {
  const r = rules ?? loadWorkspaceIgnoreRules({ root, gitDir: join(root, '.git'), stateDirRel: null, configIgnore: [], env });
  expect(walk(r, root).sort()).toEqual(gitUntracked(root, env));
  const paths = allPaths(root);
  const ignored = gitIgnoredSet(root, paths.map((x) => x.p), env);
  const mismatches = paths
    .filter(({ p, isDir }) => r.isIgnoredDeep(p, isDir) !== ignored.has(p))
    .map(({ p, isDir }) => `${p}${isDir ? '/' : ''} git=${ignored.has(p)}`);
  expect(mismatches).toEqual([]);
}

function plainOptions(over: Partial<IgnoreRulesOptions>): IgnoreRulesOptions {
  return {
    readIgnoreFile: () => null,
    infoExclude: null,
    globalExcludes: null,
    shadowPatterns: [],
    alwaysIgnoredNames: ['.git'],
    alwaysIgnoredPaths: [],
    ...over,
  };
}

describe('IgnoreRules against native git (S1.1)', () => {
  let root: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cleanups: Array<() => void> = [];

  beforeEach(() => {
    const r = makeTempDir('shadow-ign-');
    const h = makeTempDir('shadow-home-');
    cleanups.push(r.cleanup, h.cleanup);
    root = r.dir;
    home = h.dir;
    env = hermeticEnv(home);
    runGit(root, ['init', '-q'], env);
  });
  afterEach(() => {
    while (cleanups.length) cleanups.pop()?.();
  });

  it('S1.1 nested .gitignore with negations, and no re-include inside an ignored directory', () => {
    writeTree(root, {
      '.gitignore': '*.log\n!keep.log\nbuild/\n!build/keep.txt\nlogs/\n',
      'a.log': '', 'keep.log': '', 'x.txt': '',
      'sub/.gitignore': '!debug.log\nkeep.log\n',
      'sub/debug.log': '', 'sub/other.log': '', 'sub/keep.log': '',
      'sub/deeper/x.log': '', 'sub/deeper/debug.log': '', 'sub/deeper/keep.log': '',
      'build/keep.txt': '', 'build/out.o': '',
      'logs/.gitignore': '!*\n', 'logs/app.txt': '',
    });
    expectGitParity(root, env);
  });

  it('S1.1 directory-only patterns match directories only', () => {
    writeTree(root, {
      '.gitignore': 'tmp/\ncache/\n',
      'a/tmp': 'a file named tmp', 'b/tmp/x': '', 'tmp/y': '', 'cache': 'file', 'c/cache/z': '',
      'link': { link: 'b/tmp' },
    });
    writeTree(root, { 'd/tmp': { link: '../b/tmp' } });
    expectGitParity(root, env);
  });

  it('S1.1 anchored patterns (/build, a/b) and patterns relative to their own directory', () => {
    writeTree(root, {
      '.gitignore': '/build\na/b\n/top.txt\n',
      'build/x': '', 'sub/build/x': '', 'a/b': '', 'x/a/b': '', 'top.txt': '', 'sub/top.txt': '',
      'sub/.gitignore': '/only-here\nc/d\n', 'sub/only-here': '', 'sub/z/only-here': '', 'sub/c/d': '', 'c/d': '',
    });
    expectGitParity(root, env);
  });

  it('S1.1 ** patterns', () => {
    writeTree(root, {
      '.gitignore': '**/cache\ndocs/**/*.md\nout/**\na/**/b\n**/deep/**/z.txt\n',
      'cache/x': '', 'p/q/cache': '', 'docs/a.md': '', 'docs/x/y/b.md': '', 'docs/c.txt': '',
      'out/f': '', 'out/g/h': '', 'a/b': '', 'a/x/y/b': '', 'q/a/b': '', 'k/deep/m/n/z.txt': '', 'k/deep/z.txt': '',
    });
    expectGitParity(root, env);
  });

  it('S1.1 escaped \\# and \\!, trailing spaces trimmed unless escaped, CRLF, comments', () => {
    writeTree(root, {
      '.gitignore': '# comment\n\\#hash\n\\!bang\ntrail   \nspace\\ \ncrlf.txt\r\n[ab].dat\n?.one\n',
      '#hash': '', '!bang': '', 'trail': '', 'trail   ': '', 'space ': '', 'space': '', 'crlf.txt': '',
      'a.dat': '', 'c.dat': '', 'x.one': '', 'xy.one': '', '# comment': '',
    });
    expectGitParity(root, env);
  });

  it('S1.1 case-sensitive by default, case-insensitive under core.ignoreCase=true', () => {
    writeTree(root, { '.gitignore': 'Foo.txt\n*.LOG\nBuild/\n', 'Foo.txt': '', 'foo.txt': '', 'FOO.TXT': '', 'a.log': '', 'b.LOG': '', 'build/x': '', 'Build/y': '' });
    expectGitParity(root, env);
    runGit(root, ['config', 'core.ignoreCase', 'true'], env);
    expectGitParity(root, env);
  });

  it('S1.1 $GIT_DIR/info/exclude applies, below every .gitignore', () => {
    writeTree(root, { '.gitignore': '!important.txt\n', '.git/info/exclude': '*.txt\n*.bak\n', 'important.txt': '', 'other.txt': '', 's/x.bak': '' });
    expectGitParity(root, env);
  });

  it('S1.1 core.excludesFile from a temp HOME .gitconfig, with ~/ expansion; info/exclude wins over it', () => {
    writeTree(home, { '.gitconfig': '[core]\n\texcludesFile = "~/my ignore"  # comment\n', 'my ignore': '!keep.tmp\n*.tmp\n!x.bak\n*.bak\n' });
    writeTree(root, { '.git/info/exclude': '!x.bak\n', 'a.bak': '', 'x.bak': '', 'keep.tmp': '', 'b.tmp': '', 'c.txt': '' });
    expectGitParity(root, env);
  });

  it('S1.1 default excludes file ~/.config/git/ignore, and repo config overrides global', () => {
    writeTree(home, { '.config/git/ignore': '*.def\n' });
    writeTree(root, { 'a.def': '', 'a.repo': '', 'b.txt': '' });
    expectGitParity(root, env);
    writeTree(home, { 'repo-ignore': '*.repo\n', '.gitconfig': '[core]\nexcludesfile = /nonexistent\n' });
    runGit(root, ['config', 'core.excludesFile', join(home, 'repo-ignore')], env);
    expectGitParity(root, env);
  });

  it('S1.1 core.excludesFile via XDG_CONFIG_HOME, GIT_CONFIG_GLOBAL, include.path, GIT_CONFIG_COUNT and a relative path', () => {
    writeTree(root, { 'a.xdg': '', 'a.glob': '', 'a.inc': '', 'a.cnt': '', 'a.rel': '', 'rel-ignore': '*.rel\n', 'a.txt': '' });
    writeTree(home, {
      'xdg/git/config': '[core]\nexcludesFile = ~/xdg-ignore\n', 'xdg-ignore': '*.xdg\n',
      'global.cfg': '[include]\n\tpath = inc.cfg\n', 'inc.cfg': '[core]\n\texcludesFile = ~/inc-ignore\n', 'inc-ignore': '*.inc\n',
      'cnt-ignore': '*.cnt\n',
      '.gitconfig': '[Core]\nExcludesFile = rel-ignore\n',
    });
    expectGitParity(root, env); // ~/.gitconfig: a relative path, resolved against the worktree top
    env = hermeticEnv(home, { XDG_CONFIG_HOME: join(home, 'xdg') });
    writeTree(home, { '.gitconfig': '' });
    expectGitParity(root, env);
    env = hermeticEnv(home, { GIT_CONFIG_GLOBAL: join(home, 'global.cfg') });
    expectGitParity(root, env);
    env = hermeticEnv(home, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.excludesfile', GIT_CONFIG_VALUE_0: join(home, 'cnt-ignore') });
    expectGitParity(root, env);
  });

  it('S1.1 precedence: the deepest level with any match decides', () => {
    writeTree(home, { '.gitconfig': '[core]\nexcludesFile = ~/g\n', g: '*.g\n!*.i\n' });
    writeTree(root, {
      '.gitignore': '!*.md\n*.x\n!*.g\n',
      '.git/info/exclude': '*.i\n!*.x\n',
      'sub/.gitignore': '*.md\n!*.x\n',
      'sub/deeper/.gitignore': '!*.md\n',
      'a.md': '', 'a.x': '', 'a.g': '', 'a.i': '', 'sub/a.md': '', 'sub/a.x': '', 'sub/deeper/a.md': '', 'sub/deeper/a.x': '',
    });
    expectGitParity(root, env);
  });

  it('S1.1 a symlinked .gitignore is not read (git >= 2.32 parity)', () => {
    writeTree(root, { 'real-rules': '*.log\n', 'sub/a.log': '', 'b.log': '' });
    writeTree(root, { '.gitignore': { link: 'real-rules' } });
    expectGitParity(root, env);
  });

  it('S1.1 plain directory: global excludes, .gitignore and the state folder, no info/exclude', () => {
    const scratch = makeTempDir('shadow-scratch-');
    cleanups.push(scratch.cleanup);
    writeTree(home, { '.config/git/ignore': '*.glob\n' });
    const plain = makeTempDir('shadow-plain-');
    cleanups.push(plain.cleanup);
    writeTree(plain.dir, { '.gitignore': '*.log\n', 'a.log': '', 'a.glob': '', 'a.txt': '', '.shadow/git/HEAD': '', 'sub/.shadow': '' });
    const gitDir = join(scratch.dir, 'git');
    runGit(scratch.dir, ['init', '-q', '--bare', gitDir], env);
    writeTree(gitDir, { 'info/exclude': '/.shadow/\n' });
    const genv = { ...env, GIT_DIR: gitDir, GIT_WORK_TREE: plain.dir };
    const rules = loadWorkspaceIgnoreRules({ root: plain.dir, gitDir: null, stateDirRel: '.shadow', configIgnore: [], env });
    expect(walk(rules, plain.dir).sort()).toEqual(gitUntracked(plain.dir, genv));
  });

  it('S1.1 randomised pattern sets on generated trees match git', () => {
    for (let seed = 1; seed <= 24; seed++) {
      const r = makeTempDir('shadow-rnd-');
      const h = makeTempDir('shadow-rndhome-');
      cleanups.push(r.cleanup, h.cleanup);
      const renv = hermeticEnv(h.dir);
      runGit(r.dir, ['init', '-q'], renv);
      const { tree, homeFiles } = randomScenario(seed);
      writeTree(r.dir, tree);
      writeTree(h.dir, homeFiles);
      try {
        expectGitParity(r.dir, renv);
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).message}\n${JSON.stringify(tree, null, 1).slice(0, 4000)}`, { cause: err });
      }
    }
  });

  it('S1.8 invalidate() picks up a rewritten or removed .gitignore', () => {
    writeTree(root, { 'sub/.gitignore': '*.log\n', 'sub/a.log': '', 'sub/b.txt': '', 'sub/c/d.txt': '' });
    const rules = loadWorkspaceIgnoreRules({ root, gitDir: join(root, '.git'), stateDirRel: null, configIgnore: [], env });
    expectGitParity(root, env, rules);
    writeTree(root, { 'sub/.gitignore': '*.txt\n' });
    expect(rules.isIgnored('sub/a.log', false)).toBe(true); // cached until told
    rules.invalidate('sub');
    expectGitParity(root, env, rules);
    expect(rules.isIgnoredDeep('sub/c/d.txt', false)).toBe(true);
    writeTree(root, { '.gitignore': 'sub/\n' });
    rules.invalidate('');
    expectGitParity(root, env, rules);
  });
});

describe('gitConfigReader (S1.1)', () => {
  it('S1.1 parses sections, case-insensitive keys, quotes, escapes, comments and continuations', () => {
    const text = '\uFEFF# top\n[core]\n\tbare\n  ExcludesFile = " a b " ; c\n[Remote "Origin"]\nurl = x\n[a.B] k = v\\\n  w\n[x]\nq = one\\ttwo\\"\n';
    const e = parseGitConfig(text);
    expect(e).toEqual([
      { section: 'core', subsection: null, key: 'bare', value: null },
      { section: 'core', subsection: null, key: 'excludesfile', value: ' a b ' },
      { section: 'remote', subsection: 'Origin', key: 'url', value: 'x' },
      { section: 'a', subsection: 'b', key: 'k', value: 'v  w' },
      { section: 'x', subsection: null, key: 'q', value: 'one\ttwo"' },
    ]);
  });

  it('S1.1 default excludes file, empty value and ~/ expansion', () => {
    const { dir, cleanup } = makeTempDir('shadow-cfg-');
    try {
      expect(findExcludesFile({ gitDir: null, env: hermeticEnv(dir), cwd: '/w' })).toBe(join(dir, '.config/git/ignore'));
      expect(findExcludesFile({ gitDir: null, env: hermeticEnv(dir, { XDG_CONFIG_HOME: '/x' }), cwd: '/w' })).toBe('/x/git/ignore');
      writeTree(dir, { '.gitconfig': '[core]\nexcludesfile =\n' });
      expect(findExcludesFile({ gitDir: null, env: hermeticEnv(dir), cwd: '/w' })).toBeNull();
      writeTree(dir, { '.gitconfig': '[core]\nexcludesfile = ~/i\n' });
      expect(findExcludesFile({ gitDir: null, env: hermeticEnv(dir), cwd: '/w' })).toBe(join(dir, 'i'));
    } finally {
      cleanup();
    }
  });
});

describe('IgnoreRules: Shadow-only rules (S1.1, S1.8)', () => {
  const gitignores = new Map([['', '*.log\n!keep.log\n'], ['sub', 'x/\n']]);

  it('S1.1 alwaysIgnoredNames at any depth and alwaysIgnoredPaths with everything below', () => {
    const r = new IgnoreRules(plainOptions({ readIgnoreFile: readerFromMap(gitignores), alwaysIgnoredPaths: ['.shadow', 'deep/state/'] }));
    expect(r.isIgnored('.git', true)).toBe(true);
    expect(r.isIgnored('a/b/.git', false)).toBe(true);
    expect(r.isIgnored('.shadow', true)).toBe(true);
    expect(r.isIgnored('.shadow/logs/x', false)).toBe(true);
    expect(r.isIgnored('.shadowx', true)).toBe(false);
    expect(r.isIgnored('sub/.shadow', true)).toBe(false);
    expect(r.isIgnoredDeep('deep/state/a/b', false)).toBe(true);
    expect(r.isIgnored('deep/stat', true)).toBe(false);
  });

  it('S1.1 case-sensitive unless ignoreCase is set', () => {
    const texts = new Map([['', 'Foo.txt\n']]);
    expect(new IgnoreRules(plainOptions({ readIgnoreFile: readerFromMap(texts) })).isIgnored('foo.txt', false)).toBe(false);
    expect(new IgnoreRules(plainOptions({ readIgnoreFile: readerFromMap(texts), ignoreCase: true })).isIgnored('foo.txt', false)).toBe(true);
  });

  it('S1.1 shadowPatterns only add ignores: a negation there never re-includes a git-ignored path', () => {
    const r = new IgnoreRules(plainOptions({ readIgnoreFile: readerFromMap(gitignores), shadowPatterns: ['node_modules/', '!a.log', '/top.bin', '*.tmp', '!keep.tmp', '# c', ''] }));
    expect(r.isIgnored('a.log', false)).toBe(true);
    expect(r.isIgnored('keep.log', false)).toBe(false);
    expect(r.isIgnored('node_modules', true)).toBe(true);
    expect(r.isIgnored('pkg/node_modules', true)).toBe(true);
    expect(r.isIgnored('node_modules', false)).toBe(false);
    expect(r.isIgnored('top.bin', false)).toBe(true);
    expect(r.isIgnored('sub/top.bin', false)).toBe(false);
    expect(r.isIgnored('sub/a.tmp', false)).toBe(true);
    expect(r.isIgnored('sub/keep.tmp', false)).toBe(false);
    expect(r.isIgnoredDeep('sub/x/keep.tmp', false)).toBe(true);
    expect(r.isIgnored('sub/x/keep.tmp', false)).toBe(false);
  });

  it('S1.1 micro-benchmark: isIgnored over 10k paths (printed, not asserted)', () => {
    const texts = new Map<string, string>([['', '*.log\n!keep.log\nbuild/\n/dist\n**/cache/**\n*.tmp\n']]);
    const paths: Array<[string, boolean]> = [];
    for (let d = 0; d < 500; d++) {
      const dir = `pkg${d % 25}/mod${d}`;
      if (d % 10 === 0) texts.set(dir, '*.gen.ts\n!index.gen.ts\nfixtures/\n');
      paths.push([dir, true]);
      for (let f = 0; f < 19; f++) paths.push([`${dir}/file${f}.${['ts', 'log', 'tmp', 'md'][f % 4]}`, false]);
    }
    let reads = 0;
    const reader = readerFromMap(texts);
    const r = new IgnoreRules(plainOptions({ readIgnoreFile: (d) => (reads++, reader(d)) }));
    const time = (fn: () => void): number => { const t = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - t) / 1e6; };
    let n = 0;
    const cold = time(() => { for (const [p, isDir] of paths) if (r.isIgnored(p, isDir)) n++; });
    const warm = time(() => { for (let k = 0; k < 5; k++) for (const [p, isDir] of paths) r.isIgnored(p, isDir); }) / 5;
    const deep = time(() => { for (const [p, isDir] of paths) r.isIgnoredDeep(p, isDir); });
    const heap0 = process.memoryUsage().heapUsed;
    for (let k = 0; k < 200_000; k++) r.isIgnored(`pkg1/mod1/unique-${k}.log`, false);
    const heapDelta = (process.memoryUsage().heapUsed - heap0) / 1e6;
    console.log(`[bench ignoreRules] ${paths.length} paths (${n} ignored): cold ${cold.toFixed(1)} ms, warm ${warm.toFixed(1)} ms, deep ${deep.toFixed(1)} ms; ${reads} .gitignore reads; heap delta after 200k distinct paths ${heapDelta.toFixed(1)} MB`);
    expect(reads).toBe(1 + 25 + 500); // root, each pkg dir, each mod dir: read once, cached after
  });
});


const DIR_NAMES = ['a', 'b', 'build', 'logs', 'sub', 'x y', 'deep', 'cache'];
const FILE_NAMES = ['a.log', 'keep.log', 'x.txt', 'b.txt', 'README.md', '#hash', '!bang', 'c', 'build', 'tmp.o', '.hidden', 'Foo.TXT', 'z.dat'];
const PATTERNS = [
  '*.log', '!keep.log', 'build/', '/build', 'build', '!build/', 'a/b', 'a/**/x.txt', '**/logs', 'logs/', '!logs/', '*.txt', '!x.txt',
  '*', '!*/', '!*.md', '\\#hash', '\\!bang', 'tmp.*', '[ab].txt', '?.txt', 'sub/**', '**/deep/*', '!sub/', 'x\\ y/', 'x y', '/a', '*/c',
  '.hidden', '!.hidden', 'Foo.txt', '*.TXT', 'a/', '!a', 'deep/**/c', '   ', '# comment', 'README.md   ', '!b/', 'cache/**', '!cache/keep',
  '**/a.log', 'b/*.log', '/*.dat', '!z.dat', '!c', '*/', '[!a-c].txt', '[[:alpha:]].txt', '!**/keep.log',
];

function randomScenario(seed: number): { tree: Spec; homeFiles: Spec } {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const patterns = (): string => Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => pick(PATTERNS)).join('\n') + '\n';
  const tree: Spec = {};
  const fill = (dir: string, depth: number): void => {
    const prefix = dir ? `${dir}/` : '';
    if (dir === '' || rnd() < 0.4) tree[`${prefix}.gitignore`] = patterns();
    const nFiles = 5 + Math.floor(rnd() * 6);
    for (let i = 0; i < nFiles; i++) tree[`${prefix}${pick(FILE_NAMES)}`] = 'x';
    if (depth >= 3) return;
    const nDirs = 2 + Math.floor(rnd() * 3);
    for (let i = 0; i < nDirs; i++) {
      const name = pick(DIR_NAMES);
      if (tree[`${prefix}${name}`] !== undefined) continue; // a file already has this name
      fill(`${prefix}${name}`, depth + 1);
    }
  };
  fill('', 0);
  // Drop files that collide with a directory of the same path.
  for (const k of Object.keys(tree)) if (Object.keys(tree).some((o) => o.startsWith(`${k}/`))) delete tree[k];
  if (rnd() < 0.7) tree['.git/info/exclude'] = patterns();
  const homeFiles: Spec = rnd() < 0.7 ? { '.gitconfig': '[core]\n  excludesFile = ~/gi\n', gi: patterns() } : {};
  return { tree, homeFiles };
}
