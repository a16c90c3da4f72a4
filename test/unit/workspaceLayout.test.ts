import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureStateDirs, resolveWorkspaceLayout } from '../../daemon/workspaceLayout.js';
import type { ShadowError } from '../../shared/errors.js';
import { git } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';

let root: string;
let cleanup: () => void;
beforeEach(() => ({ dir: root, cleanup } = makeTempDir()));
afterEach(() => cleanup());

const ID = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

function initRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'init'], ID);
}

function expectInvalid(dir: string): void {
  try {
    resolveWorkspaceLayout(dir);
  } catch (err) {
    expect((err as ShadowError).code).toBe('WORKSPACE_INVALID');
    return;
  }
  throw new Error(`expected WORKSPACE_INVALID for ${dir}`);
}

/** Everything native git would report as the user's repository state (S1.2). */
function repoState(dir: string): string {
  return [
    git(dir, ['status', '--porcelain=v1', '--untracked-files=all', '--ignored']),
    readFileSync(join(dir, '.git', 'HEAD'), 'utf8'),
    readFileSync(join(dir, '.git', 'config'), 'utf8'),
    readFileSync(join(dir, '.git', 'index')).toString('base64'),
    git(dir, ['for-each-ref']),
  ].join('\n--\n');
}

describe('resolveWorkspaceLayout (S1.3)', () => {
  it('lays out a plain directory under .shadow/ with a private store', () => {
    const l = resolveWorkspaceLayout(root);
    expect(l).toEqual({
      workspace: root,
      kind: 'plain',
      stateDir: join(root, '.shadow'),
      gitDir: join(root, '.shadow', 'git'),
      commonDir: join(root, '.shadow', 'git'),
      objectsDir: join(root, '.shadow', 'git', 'objects'),
      refsDir: join(root, '.shadow', 'git'),
      refNamespace: 'refs/shadow/',
      stateDirRel: '.shadow',
      userGitDir: null,
    });
  });

  it('lays out a repository under .git/shadow/ sharing its objects', () => {
    initRepo(root);
    const l = resolveWorkspaceLayout(root);
    expect(l).toEqual({
      workspace: root,
      kind: 'git',
      gitDir: join(root, '.git'),
      commonDir: join(root, '.git'),
      objectsDir: join(root, '.git', 'objects'),
      refsDir: join(root, '.git'),
      refNamespace: 'refs/shadow/',
      stateDir: join(root, '.git', 'shadow'),
      stateDirRel: join('.git', 'shadow'),
      userGitDir: join(root, '.git'),
    });
  });

  it('resolves the workspace through symlinks to its real path', () => {
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'link'));
    expect(resolveWorkspaceLayout(join(root, 'link')).workspace).toBe(join(root, 'real'));
  });

  it('follows a worktree\'s gitdir file and its commondir', () => {
    const main = join(root, 'main');
    initRepo(main);
    const wt = join(root, 'wt');
    git(main, ['worktree', 'add', '-q', wt, '-b', 'side']);
    const l = resolveWorkspaceLayout(wt);
    expect(l.kind).toBe('git');
    expect(l.gitDir).toBe(join(main, '.git', 'worktrees', 'wt'));
    expect(l.commonDir).toBe(join(main, '.git'));
    expect(l.objectsDir).toBe(join(main, '.git', 'objects'));
    expect(l.refsDir).toBe(join(main, '.git'));
    // #10.11: a linked worktree's refs are its own, in the common dir (S1.2).
    expect(l.refNamespace).toBe('refs/shadow/worktrees/wt/');
    expect(resolveWorkspaceLayout(main).refNamespace).toBe('refs/shadow/');
    expect(l.stateDir).toBe(join(main, '.git', 'worktrees', 'wt', 'shadow'));
    expect(l.stateDirRel).toBeNull();
    // info/exclude and config of a worktree are the common dir's.
    expect(l.userGitDir).toBe(join(main, '.git'));
    expect(git(wt, ['rev-parse', '--git-common-dir'])).toBe(join(main, '.git'));
  });

  it('#10.11 a worktree id that is no valid ref component (made before git sanitized ids) is escaped into one (S1.2)', () => {
    const main = join(root, 'main');
    initRepo(main);
    const wt = join(root, 'wt');
    git(main, ['worktree', 'add', '-q', wt, '-b', 'side']);
    const odd = join(main, '.git', 'worktrees', '.odd id..lock');
    renameSync(join(main, '.git', 'worktrees', 'wt'), odd);
    writeFileSync(join(wt, '.git'), `gitdir: ${odd}\n`);
    const ns = resolveWorkspaceLayout(wt).refNamespace;
    expect(ns).toBe('refs/shadow/worktrees/%2eodd%20id%2e%2elock/');
    git(main, ['check-ref-format', `${ns}auto`]);
  });

  it('resolves a relative gitdir file against the workspace (submodule style)', () => {
    const store = join(root, 'modules', 'sub');
    git(root, ['init', '-q', '--bare', store]);
    const ws = join(root, 'work', 'sub');
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(ws, '.git'), 'gitdir: ../../modules/sub\n');
    const l = resolveWorkspaceLayout(ws);
    expect(l.kind).toBe('git');
    expect(l.gitDir).toBe(store);
    expect(l.commonDir).toBe(store);
    expect(l.stateDir).toBe(join(store, 'shadow'));
    expect(l.stateDirRel).toBeNull();
  });

  it('rejects a missing path, a file, a malformed .git file and a dangling gitdir', () => {
    expectInvalid(join(root, 'nope'));
    writeFileSync(join(root, 'file'), 'x');
    expectInvalid(join(root, 'file'));
    mkdirSync(join(root, 'bad'));
    writeFileSync(join(root, 'bad', '.git'), 'hello\n');
    expectInvalid(join(root, 'bad'));
    mkdirSync(join(root, 'dangling'));
    writeFileSync(join(root, 'dangling', '.git'), 'gitdir: /does/not/exist\n');
    expectInvalid(join(root, 'dangling'));
  });
});

describe('ensureStateDirs (S1.3, S1.2)', () => {
  it('creates a plain workspace\'s state folder and a bare store native git accepts', () => {
    const l = resolveWorkspaceLayout(root);
    ensureStateDirs(l);
    ensureStateDirs(l); // idempotent
    expect(statSync(l.stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(l.stateDir, 'logs')).isDirectory()).toBe(true);
    expect(statSync(join(l.stateDir, 'cookies')).isDirectory()).toBe(true);
    expect(readFileSync(join(l.gitDir, 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');

    const gd = ['--git-dir', l.gitDir];
    expect(git(root, [...gd, 'rev-parse', '--is-bare-repository'])).toBe('true');
    expect(git(root, [...gd, 'config', '--get', 'core.filemode'])).toBe('true');
    expect(() => git(root, [...gd, 'config', '--get', 'core.autocrlf'])).toThrow();
    // Write a commit with native git, then read it back and fsck the store.
    const blob = git(root, [...gd, 'hash-object', '-w', '--stdin']);
    const tree = git(root, [...gd, 'write-tree']);
    const commit = git(root, [...gd, 'commit-tree', tree, '-m', 'probe'], ID);
    git(root, [...gd, 'update-ref', 'refs/heads/main', commit]);
    expect(git(root, [...gd, 'log', '--format=%s'])).toBe('probe');
    git(root, [...gd, 'fsck', '--full', '--strict']);
    expect(blob).toMatch(/^[0-9a-f]{40}$/);
  });

  it('keeps .shadow/ out of the status of a repository the plain workspace sits in', () => {
    initRepo(root);
    const ws = join(root, 'sub');
    mkdirSync(ws);
    const before = git(root, ['status', '--porcelain', '--untracked-files=all']);
    ensureStateDirs(resolveWorkspaceLayout(ws));
    expect(git(root, ['status', '--porcelain', '--untracked-files=all'])).toBe(before);
  });

  it('in a repository creates only .git/shadow/ and leaves the repository byte-identical', () => {
    initRepo(root);
    const before = repoState(root);
    const gitEntries = readdirSync(join(root, '.git')).sort();
    const l = resolveWorkspaceLayout(root);
    ensureStateDirs(l);
    ensureStateDirs(l);
    expect(repoState(root)).toBe(before);
    expect(readdirSync(join(root, '.git')).sort()).toEqual([...gitEntries, 'shadow'].sort());
    expect(readdirSync(l.stateDir).sort()).toEqual(['cookies', 'logs']);
    expect(statSync(l.stateDir).mode & 0o777).toBe(0o700);
    expect(existsSync(join(root, '.shadow'))).toBe(false);
    git(root, ['fsck', '--full']);
  });
});
