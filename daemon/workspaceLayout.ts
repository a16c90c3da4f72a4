/**
 * Where a workspace keeps its state (S1.3): inside a repository, `.git/shadow/` with objects
 * shared with the repository's own store; in a plain directory, `.shadow/` holding a private
 * bare git store.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ShadowError } from '../shared/errors.js';
import { GIT_STATE_DIR, PLAIN_STATE_DIR, STATE_FILES } from '../shared/paths.js';
import { writeTempFile } from './writeTempFile.js';

/** The resolved places of one workspace. All paths are absolute. */
export interface WorkspaceLayout {
  /** Real path of the workspace directory. */
  workspace: string;
  /** `git` when the workspace root has a `.git`; `plain` otherwise. */
  kind: 'git' | 'plain';
  /** The git dir Shadow writes to: the repository's (per worktree), or the private store. */
  gitDir: string;
  /** The git dir shared by all worktrees (objects, refs, config); gitDir when not a worktree. */
  commonDir: string;
  /** Where objects are stored: `<commonDir>/objects`. */
  objectsDir: string;
  /** Where refs (refs/shadow/*, packed-refs) live: commonDir. */
  refsDir: string;
  /**
   * Where this worktree's Shadow refs live in refsDir (S1.2): `refs/shadow/` for a repository's
   * main worktree and a plain workspace, `refs/shadow/worktrees/<id>/` for a linked worktree.
   */
  refNamespace: string;
  /** The daemon's state folder. */
  stateDir: string;
  /** stateDir relative to the workspace when inside it (`.git/shadow`, `.shadow`), else null. */
  stateDirRel: string | null;
  /** The user's repository dir holding info/exclude and config (its common dir), or null when plain. */
  userGitDir: string | null;
}

/** Resolves the layout of the workspace `dir`. Throws WORKSPACE_INVALID when it is not a usable directory. */
export function resolveWorkspaceLayout(dir: string): WorkspaceLayout {
  let workspace: string;
  try {
    workspace = realpathSync(dir);
  } catch (err) {
    throw invalid(`Workspace ${dir} does not exist or cannot be resolved: ${(err as Error).message}`, dir, err);
  }
  if (!statSync(workspace).isDirectory()) throw invalid(`Workspace ${dir} is not a directory`, dir);

  const dotGit = join(workspace, '.git');
  const dotGitStat = statSync(dotGit, { throwIfNoEntry: false });
  if (!dotGitStat) {
    const stateDir = join(workspace, PLAIN_STATE_DIR);
    const gitDir = join(stateDir, STATE_FILES.plainGitDir);
    return layout(workspace, 'plain', gitDir, gitDir, stateDir, null);
  }

  let gitDir: string;
  if (dotGitStat.isDirectory()) {
    gitDir = realpathSync(dotGit);
  } else {
    // A worktree or submodule: `.git` is a file `gitdir: <path>`, relative to the workspace.
    const text = readFileSync(dotGit, 'utf8');
    const m = /^gitdir: *(.+?)\s*$/m.exec(text);
    if (!m) throw invalid(`${dotGit} is neither a directory nor a "gitdir: <path>" file`, dir);
    const target = resolve(workspace, m[1] as string);
    try {
      gitDir = realpathSync(target);
    } catch (err) {
      throw invalid(`${dotGit} points to ${target}, which does not exist`, dir, err);
    }
    if (!statSync(gitDir).isDirectory()) throw invalid(`${dotGit} points to ${target}, which is not a directory`, dir);
  }
  const commondirFile = join(gitDir, 'commondir');
  let commonDir = gitDir;
  if (existsSync(commondirFile)) {
    const target = resolve(gitDir, readFileSync(commondirFile, 'utf8').trim());
    try {
      commonDir = realpathSync(target);
    } catch (err) {
      throw invalid(`${commondirFile} points to ${target}, which does not exist`, dir, err);
    }
  }
  return layout(workspace, 'git', gitDir, commonDir, join(gitDir, GIT_STATE_DIR), commonDir);
}

function layout(workspace: string, kind: 'git' | 'plain', gitDir: string, commonDir: string, stateDir: string, userGitDir: string | null): WorkspaceLayout {
  const rel = relative(workspace, stateDir);
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  return {
    workspace,
    kind,
    gitDir,
    commonDir,
    objectsDir: join(commonDir, 'objects'),
    refsDir: commonDir,
    refNamespace: shadowRefNamespace(gitDir, commonDir),
    stateDir,
    stateDirRel: inside ? rel : null,
    userGitDir,
  };
}

/**
 * Linked worktrees share the common dir's refs: each gets its own namespace so that no worktree
 * sees, moves or prunes another's checkpoints. Not git's per-worktree `refs/worktree/`: git 2.39's
 * `gc --prune=now` run from another worktree does not keep those reachable and deletes the objects.
 */
function shadowRefNamespace(gitDir: string, commonDir: string): string {
  if (gitDir === commonDir || dirname(gitDir) !== join(commonDir, 'worktrees')) return 'refs/shadow/';
  return `refs/shadow/worktrees/${refComponent(basename(gitDir))}/`;
}

/** A worktree id as one valid ref component (git sanitizes new ids; older ones may hold any byte). */
function refComponent(id: string): string {
  const hex = (c: string): string => [...Buffer.from(c)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  return id
    .replace(/[^A-Za-z0-9._+=@,-]/g, hex)
    .replace(/^\.|\.(?=\.)|\.$/g, '%2e')
    .replace(/\.lock$/, '%2elock');
}

function invalid(message: string, dir: string, cause?: unknown): ShadowError {
  return new ShadowError('WORKSPACE_INVALID', message, { workspace: dir }, cause === undefined ? undefined : { cause });
}

/**
 * Creates the state folder (0700) with `logs/` and `cookies/`, and for a plain workspace the
 * private bare store, so native `git --git-dir=.shadow/git log` and `fsck` work on it.
 * Idempotent; in a repository it creates nothing but `<gitDir>/shadow/`.
 */
export function ensureStateDirs(layout: WorkspaceLayout): void {
  try {
    createStateDirs(layout);
  } catch (err) {
    // E.g. a file where the folder should be (EEXIST, ENOTDIR), or no permission: a coded error
    // naming the folder, the same at every start, instead of an internal error and a stack.
    const errno = (err as NodeJS.ErrnoException).code;
    throw new ShadowError('WORKSPACE_INVALID', `Cannot create the state folder ${layout.stateDir}: ${(err as Error).message}`, { workspace: layout.workspace, stateDir: layout.stateDir, errno }, { cause: err });
  }
}

function createStateDirs(layout: WorkspaceLayout): void {
  mkdirSync(layout.stateDir, { recursive: true, mode: 0o700 });
  // The folder holds logs and journals of the user's work: private whatever the umask.
  chmodSync(layout.stateDir, 0o700);
  mkdirSync(join(layout.stateDir, STATE_FILES.logs), { recursive: true, mode: 0o700 });
  mkdirSync(join(layout.stateDir, STATE_FILES.cookies), { recursive: true, mode: 0o700 });
  if (layout.kind !== 'plain') return;

  // A plain workspace may sit inside someone's repository: `*` keeps .shadow/ out of its
  // `git status` (the trick pytest and virtualenv use), and out of native-git oracles.
  writeIfAbsent(join(layout.stateDir, '.gitignore'), '*\n');
  const git = layout.gitDir;
  for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) {
    mkdirSync(join(git, sub), { recursive: true, mode: 0o700 });
  }
  writeIfAbsent(join(git, 'HEAD'), 'ref: refs/heads/main\n');
  // Never core.autocrlf: restores must stay byte-exact.
  writeIfAbsent(join(git, 'config'), '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n');
}

/** Writes a file whole (temp + rename) unless it exists: a crash never leaves it half-written. */
function writeIfAbsent(path: string, text: string): void {
  if (existsSync(path)) return;
  renameSync(writeTempFile(path, text), path);
}
