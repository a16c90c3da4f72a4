/**
 * Tree parity end to end (S1.1, S1.3): the tree of every `shadowctl checkpoint` equals what native
 * `git add -A && git write-tree` produces on the same directory with a throwaway index — in a
 * repository and in a plain directory, on a first (full) scan and after every kind of change the
 * watcher has to report (incremental path). Every checkpoint commit reads with native git.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { makeTestWorkspace } from '../helpers/testWorkspace.js';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

let ws: TestWorkspace;
afterEach(async () => {
  await ws?.cleanup();
});

/** The `--json` fields of `checkpoint` every consumer may rely on (S7). */
interface CheckpointJson {
  commit: string;
  tree: string;
  ref: string;
  run: string | null;
}

/** Native git against the store Shadow writes to: the repository, or `.shadow/git` in a plain dir. */
function storeGit(args: string[], repo: boolean): { code: number; out: string; err: string } {
  const full = repo ? args : [`--git-dir=${join(ws.dir, '.shadow', 'git')}`, ...args];
  const r = spawnSync('git', full, { cwd: ws.dir, env: { ...process.env, ...ws.env }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** `mode oid path` lines of a tree in the store, recursively (-z: names are never quoted). */
function listTree(tree: string, repo: boolean): string[] {
  const r = storeGit(['ls-tree', '-r', '-z', tree], repo);
  expect(r.code, r.err).toBe(0);
  return r.out.split('\0').filter(Boolean).map((l) => {
    const [meta, path] = l.split('\t') as [string, string];
    const [mode, , oid] = meta.split(' ');
    return `${mode} ${oid} ${path}`;
  });
}

/** The same lines for what native `git add -A` stages (same set-up as nativeTree), for readable failures. */
function nativeListing(repo: boolean): string[] {
  const scratch = mkdtempSync(join(tmpdir(), 'shadow-listing-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, ...ws.env, GIT_INDEX_FILE: join(scratch, 'index') };
    if (!repo) {
      const gitDir = join(scratch, 'git');
      spawnSync('git', ['init', '-q', '--bare', gitDir], { env });
      mkdirSync(join(gitDir, 'info'), { recursive: true });
      writeFileSync(join(gitDir, 'info', 'exclude'), '/.shadow/\n');
      Object.assign(env, { GIT_DIR: gitDir, GIT_WORK_TREE: ws.dir });
    }
    const add = spawnSync('git', ['add', '-A'], { cwd: ws.dir, env, encoding: 'utf8' });
    expect(add.status, add.stderr).toBe(0);
    const ls = spawnSync('git', ['ls-files', '-s', '-z'], { cwd: ws.dir, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    return ls.stdout.split('\0').filter(Boolean).map((l) => {
      const [meta, path] = l.split('\t') as [string, string];
      const [mode, oid] = meta.split(' ');
      return `${mode} ${oid} ${path}`;
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Takes a checkpoint and asserts its tree equals native git's (S1.1); returns it. */
async function expectParity(repo: boolean, commits: CheckpointJson[]): Promise<CheckpointJson> {
  const cp = await ws.json<CheckpointJson>(['checkpoint', '-m', `parity ${commits.length}`]);
  expect(cp).toMatchObject({ ref: 'refs/shadow/manual', run: null });
  expect(cp.commit).toMatch(/^[0-9a-f]{40}$/);
  const expected = nativeTree(ws.dir, { repo, env: ws.env, userIndex: repo }); // S1.1: from a copy of the user's index
  if (cp.tree !== expected) {
    // Same assertion, with the entry-level difference as the failure message.
    expect(listTree(cp.tree, repo).sort()).toEqual(nativeListing(repo).sort());
  }
  expect(cp.tree).toBe(expected);
  commits.push(cp);
  return cp;
}

/**
 * Every checkpoint commit reads with native git, names its tree, carries its trailer; fsck is clean
 * (S1.5, S1.6). The daemon is stopped first: fsck lists the loose objects before it reads the refs,
 * so an auto snapshot written in between (a new loose commit and its ref) reads as "missing commit".
 */
async function expectNativeReadable(commits: CheckpointJson[], repo: boolean): Promise<void> {
  const stop = await ws.cli(['daemon', 'stop']);
  expect(stop.code, stop.stderr).toBe(0);
  for (const cp of commits) {
    const r = storeGit(['cat-file', '-p', cp.commit], repo);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`tree ${cp.tree}\n`);
    expect(r.out).toMatch(/^Shadow-Kind: checkpoint$/m);
    expect(storeGit(['cat-file', '-t', cp.tree], repo).out.trim()).toBe('tree');
  }
  // The fixture's symlinked .gitignore draws fsck's gitignoreSymlink warning on native git's own
  // tree for the same directory too: it is the user's content, not a fault of the store.
  const fsck = storeGit(['-c', 'fsck.gitignoreSymlink=ignore', 'fsck', '--full', '--strict', '--no-dangling', '--no-progress'], repo);
  expect(fsck.code, fsck.out + fsck.err).toBe(0);
  // A plain store's HEAD names an unborn branch: git says so as a notice, which is no fault.
  const complaints = (fsck.out + fsck.err).split('\n').filter((l) => l.trim() && !l.startsWith('notice:'));
  expect(complaints).toEqual([]);
}

function write(path: string, content: string | Buffer, mode?: number): void {
  const full = join(ws.dir, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content);
  if (mode !== undefined) chmodSync(full, mode);
}

function link(target: string, path: string): void {
  mkdirSync(join(ws.dir, path, '..'), { recursive: true });
  symlinkSync(target, join(ws.dir, path));
}

/** `core.excludesFile` through the test HOME's ~/.gitconfig, as a user would set it. */
function globalExcludes(): void {
  const home = ws.env.HOME as string;
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, '.gitconfig'), '[core]\n\texcludesFile = ~/global-ignore\n');
  writeFileSync(join(home, 'global-ignore'), '*.globalignored\nglobal-dir/\n');
}

/** Twelve directories deep. */
const DEEP = Array.from({ length: 12 }, (_, i) => `level${i + 1}`).join('/');

/** Every kind of entry the issue names, plus the ignore sources; `repo` adds .git/info/exclude. */
function seed(repo: boolean): void {
  globalExcludes();
  if (repo) writeFileSync(join(ws.dir, '.git', 'info', 'exclude'), '# local\n*.secret\n/excluded-dir/\n');
  // Modes: git keys on the user x bit only (a group- or other-only x bit is 100644).
  write('plain.txt', 'plain\n', 0o644);
  write('exec.sh', '#!/bin/sh\necho hi\n', 0o755);
  write('user-only-x', 'u\n', 0o700);
  write('group-only-x', 'g\n', 0o654);
  write('other-only-x', 'o\n', 0o645);
  // Symlinks: to a file, to a directory, to nowhere, absolute, outside the workspace, into a subdir.
  write('dir/sub/file.txt', 'in sub\n');
  link('exec.sh', 'link-to-file');
  link('dir/sub', 'link-to-dir');
  link('does/not/exist', 'dangling');
  link('/etc/passwd', 'abs-link');
  link('../../outside', 'dir/up-and-out');
  link('sub/file.txt', 'dir/link-in-dir');
  // Content: empty, binary with NULs, CRLF, lone CR, no trailing newline.
  write('empty', '');
  write('dir/empty-too', '');
  write('binary.bin', Buffer.concat([Buffer.from([0, 0, 255, 0]), randomBytes(64 * 1024), Buffer.from([0])]));
  write('crlf.txt', 'one\r\ntwo\r\n');
  write('mixed.txt', 'lf\ncrlf\r\ncr\rend');
  // Names.
  for (const name of ['café.txt', '日本/語.txt', '😀 emoji.md', 'with space.txt', 'dir with space/x y', '-leading-dash', '--double-dash', '#hash', "quote's", 'dq"uote', 'back\\slash', 'tab\tname', '[brackets]', '!bang', 'star*', 'q?', 'a-b', 'a.b', 'a/z']) {
    write(name, `${name}\n`);
  }
  write(`${DEEP}/leaf.txt`, 'deep\n');
  // Empty directories (git leaves them out), and a directory whose files are all ignored.
  mkdirSync(join(ws.dir, 'empty-dir'));
  mkdirSync(join(ws.dir, 'empty-tree/a/b/c'), { recursive: true });
  write('only-ignored/x.log', 'ignored\n');
  // Nested .gitignore files with negations.
  write('.gitignore', ['*.log', '!keep.log', 'build/', '/root-only.txt', 'tmp*', '!tmp-keep', 'logs/*', '!logs/keep.txt', '\\#literal', '!public.secret', '!wanted.globalignored', 'trailing-space\\ ', ''].join('\n'));
  for (const p of ['a.log', 'keep.log', 'build/out.js', 'build/.gitignore', 'root-only.txt', 'dir/root-only.txt', 'tmp1', 'tmp-keep', 'logs/a.txt', 'logs/keep.txt', '#literal', 'trailing-space ', 'x.secret', 'public.secret', 'excluded-dir/f', 'dir/excluded-dir/f', 'x.globalignored', 'wanted.globalignored', 'global-dir/f']) {
    write(p, `${p}\n`);
  }
  write('build/.gitignore', '!out.js\n'); // cannot re-include below an excluded directory
  write('nested/.gitignore', '!*.log\n*.bak\n/anchored\n');
  write('nested/n.log', 'reincluded\n');
  write('nested/n.bak', 'ignored\n');
  write('nested/anchored', 'ignored here\n');
  write('nested/deeper/anchored', 'not ignored below\n');
  write('nested/deeper/.gitignore', '!*.bak\n');
  write('nested/deeper/d.bak', 'reincluded deeper\n');
  write('nested/deeper/d.log', 'still re-included\n');
  // A CRLF .gitignore (git strips the CR), and one that is a symlink (git never reads it through one).
  write('crlf-ignore/.gitignore', '*.tmp\r\n!keep.tmp   \r\n');
  write('crlf-ignore/a.tmp', 'ignored\n');
  write('crlf-ignore/keep.tmp', 'kept\n');
  write('ignore-source', '*.txt\n');
  link('../ignore-source', 'linked-ignore/.gitignore');
  write('linked-ignore/kept.txt', 'not ignored: the link is not read\n');
  // The same visible name in NFC and NFD: two distinct byte strings, two entries.
  write('caf\u00e9-nfc', 'nfc\n');
  write('cafe\u0301-nfd', 'nfd\n');
  // A .gitignore that ignores itself: edited later, its new rules must still take effect.
  write('self-ignoring/.gitignore', '*\n');
  write('self-ignoring/hidden.txt', 'hidden for now\n');
  write('self-ignoring2/.gitignore', '*\n'); // deleted later
  write('self-ignoring2/hidden.txt', 'hidden for now\n');
  write('self-ignoring3/.gitignore', '*\n'); // its directory is deleted and made again later
  write('self-ignoring3/hidden.txt', 'hidden for now\n');
  write('was-file', 'turns into a symlink\n');
  write('becomes-dir', 'turns into a directory\n');
  write('dir-to-file/inner.txt', 'the directory turns into a file\n');
}

/** Edits, deletes, dir renames, chmod, file↔symlink, file↔dir, ignore changes. */
function mutate(): void {
  write('crlf.txt', 'one\r\ntwo\r\nthree\r\n');
  write('binary.bin', randomBytes(1000));
  rmSync(join(ws.dir, 'empty'));
  rmSync(join(ws.dir, `${DEEP}/leaf.txt`)); // leaves twelve empty directories behind
  renameSync(join(ws.dir, 'nested'), join(ws.dir, 'nested-renamed')); // its .gitignore moves with it
  renameSync(join(ws.dir, '日本'), join(ws.dir, 'renamed日本'));
  renameSync(join(ws.dir, 'dir/sub'), join(ws.dir, 'dir/sub2')); // link-to-dir now dangles
  chmodSync(join(ws.dir, 'exec.sh'), 0o644);
  chmodSync(join(ws.dir, 'plain.txt'), 0o755);
  chmodSync(join(ws.dir, 'group-only-x'), 0o754);
  chmodSync(join(ws.dir, 'user-only-x'), 0o600);
  unlinkSync(join(ws.dir, 'was-file'));
  link('crlf.txt', 'was-file');
  unlinkSync(join(ws.dir, 'link-to-file'));
  write('link-to-file', 'a file now\n');
  unlinkSync(join(ws.dir, 'becomes-dir'));
  write('becomes-dir/inner', 'inside\n');
  rmSync(join(ws.dir, 'dir-to-file'), { recursive: true });
  write('dir-to-file', 'a file now\n');
  unlinkSync(join(ws.dir, 'abs-link'));
  link('/usr', 'abs-link');
  write('empty-dir/now-full', 'x\n');
  write('empty-tree/a/b/c/d/e', 'x\n');
  // Ignore changes: a new pattern hides a tracked file, a dropped negation hides keep.log, a new negation reveals tmp1.
  write('.gitignore', ['*.log', 'build/', '/root-only.txt', 'tmp*', '!tmp1', 'logs/*', '!logs/keep.txt', '\\#literal', '!public.secret', '!wanted.globalignored', 'plain.txt', ''].join('\n'));
  write('new-dir/deeper/new.txt', 'new\n');
  write('new-dir/ignored.log', 'ignored\n');
  write('self-ignoring/.gitignore', '*.log\n'); // now neither itself nor hidden.txt is ignored
  write('self-ignoring/x.log', 'ignored\n');
  rmSync(join(ws.dir, 'self-ignoring2/.gitignore'));
  // A directory holding a tracked .gitignore becomes ignored by its parent's rules.
  write('.gitignore', `${readFileSync(join(ws.dir, '.gitignore'), 'utf8')}crlf-ignore/\n`);
}

/** A second round: renames back, swaps again, deletes whole subtrees. */
function mutateAgain(): void {
  renameSync(join(ws.dir, 'nested-renamed'), join(ws.dir, 'nested'));
  rmSync(join(ws.dir, 'dir'), { recursive: true });
  unlinkSync(join(ws.dir, 'was-file'));
  write('was-file', 'a file again\n', 0o755);
  rmSync(join(ws.dir, 'becomes-dir'), { recursive: true });
  link('renamed日本', 'becomes-dir'); // dir → symlink to a dir
  rmSync(join(ws.dir, '.gitignore'));
  rmSync(join(ws.dir, 'self-ignoring3'), { recursive: true });
  write('self-ignoring3/visible.txt', 'no .gitignore any more\n');
  write('level1/level2/.gitignore', '*\n');
  write('level1/level2/hidden.txt', 'ignored by the line above\n');
}

describe('tree parity with native git (S1.1, S1.3)', () => {
  for (const repo of [true, false]) {
    const where = repo ? 'in a git repository' : 'in a plain directory';
    it(`S1.1 S1.3 every entry kind and ignore source, before and after changes, ${where}`, async () => {
      ws = makeTestWorkspace({ git: repo });
      seed(repo);
      const commits: CheckpointJson[] = [];
      const first = await expectParity(repo, commits);
      // Spot checks that the oracle itself saw the cases (a broken fixture would pass trivially).
      const entries = listTree(first.tree, repo).join('\n');
      expect(entries).toMatch(/^100755 \S+ exec\.sh$/m);
      expect(entries).toMatch(/^100644 \S+ group-only-x$/m);
      expect(entries).toMatch(/^120000 \S+ dangling$/m);
      expect(entries).toContain('nested/deeper/d.bak');
      expect(entries).not.toContain('x.globalignored');
      expect(entries).toContain('wanted.globalignored');
      expect(entries.includes('x.secret')).toBe(!repo);
      expect(entries).not.toContain('empty-dir');

      mutate();
      const second = await expectParity(repo, commits);
      expect(second.tree).not.toBe(first.tree);
      mutateAgain();
      await expectParity(repo, commits);
      // Nothing changed: same tree again.
      const again = await expectParity(repo, commits);
      expect(again.tree).toBe(commits[commits.length - 2]?.tree);
      await expectNativeReadable(commits, repo);
    });
  }

  it('S1.1 a real third-party tree: node_modules with .bin symlinks and nested node_modules', async () => {
    ws = makeTestWorkspace({ git: true });
    const nm = join(ws.dir, 'node_modules');
    // .bin links point at packages; those not copied dangle, as in a half-installed tree.
    cpSync(join(NODE_MODULES, '.bin'), join(nm, '.bin'), { recursive: true, verbatimSymlinks: true });
    for (const pkg of ['acorn', 'copyfiles', 'crc-32', 'mkdirp', 'nanoid', 'semver', 'which', 'sha.js', '@typescript-eslint/typescript-estree', '@eslint/config-array', '@eslint-community/eslint-utils']) {
      cpSync(join(NODE_MODULES, pkg), join(nm, pkg), { recursive: true, verbatimSymlinks: true });
    }
    // The nested node_modules' own .bin-style links, made by hand as npm does.
    link('../semver/bin/semver.js', 'node_modules/@typescript-eslint/typescript-estree/node_modules/.bin/semver');
    write('package.json', '{"name":"fixture"}\n');
    const commits: CheckpointJson[] = [];
    const first = await expectParity(true, commits);
    expect(listTree(first.tree, true).join('\n')).toMatch(/^120000 \S+ node_modules\/\.bin\/semver$/m);

    // An "npm install" of a new version: a package replaced, a bin relinked, one removed.
    rmSync(join(nm, 'semver'), { recursive: true });
    cpSync(join(NODE_MODULES, 'semver'), join(nm, 'semver'), { recursive: true, verbatimSymlinks: true });
    write('node_modules/semver/bin/semver.js', '#!/usr/bin/env node\n// new version\n', 0o755);
    unlinkSync(join(nm, '.bin', 'acorn'));
    link('../acorn/dist/bin.js', 'node_modules/.bin/acorn');
    rmSync(join(nm, 'mkdirp'), { recursive: true });
    rmSync(join(nm, '.bin', 'mkdirp'));
    renameSync(join(nm, '@eslint'), join(nm, '@eslint-renamed'));
    await expectParity(true, commits);
    await expectNativeReadable(commits, true);
  });

  it('S1.1 edits to .git/info/exclude and core.excludesFile made while the daemon runs take effect', async () => {
    ws = makeTestWorkspace({ git: true });
    globalExcludes();
    for (const p of ['a.secret', 'b.txt', 'c.globalignored', 'd.other', 'sub/e.secret']) write(p, `${p}\n`);
    const commits: CheckpointJson[] = [];
    await expectParity(true, commits); // the daemon now runs with the rules it read at start
    writeFileSync(join(ws.dir, '.git', 'info', 'exclude'), '*.secret\n');
    await expectParity(true, commits);
    writeFileSync(join(ws.env.HOME as string, 'global-ignore'), '*.other\n'); // reveals c, hides d
    await expectParity(true, commits);
    // Pointing core.excludesFile elsewhere counts too, and so does dropping info/exclude.
    writeFileSync(join(ws.env.HOME as string, 'other-ignore'), 'b.txt\n');
    writeFileSync(join(ws.env.HOME as string, '.gitconfig'), '[core]\n\texcludesFile = ~/other-ignore\n');
    rmSync(join(ws.dir, '.git', 'info', 'exclude'));
    const last = await expectParity(true, commits);
    expect(listTree(last.tree, true).map((l) => l.split(' ')[2])).toEqual(['a.secret', 'c.globalignored', 'd.other', 'sub/e.secret']);
    await expectNativeReadable(commits, true);
  });

  // Known deviation, not fixed here: a file name that is not valid UTF-8 is decoded by Node into
  // U+FFFD and cannot be opened under that name, so it is missing from the checkpoint (git stores
  // the raw bytes). It is never deleted either: restores only rmdir empty directories.
  it.todo('S1.1 names that are not valid UTF-8 are captured byte-exact (deviation: skipped today)');

  it('S1.1 core.excludesFile defaults to $XDG_CONFIG_HOME/git/ignore when unset', async () => {
    ws = makeTestWorkspace({ git: false });
    const xdg = ws.env.XDG_CONFIG_HOME as string;
    mkdirSync(join(xdg, 'git'), { recursive: true });
    writeFileSync(join(xdg, 'git', 'ignore'), '*.xdg\n');
    write('a.xdg', 'ignored\n');
    write('b.txt', 'kept\n');
    const commits: CheckpointJson[] = [];
    const cp = await expectParity(false, commits);
    expect(listTree(cp.tree, false).map((l) => l.split(' ')[2])).toEqual(['b.txt']);
    await expectNativeReadable(commits, false);
  });
});
