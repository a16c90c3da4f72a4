/**
 * Real repositories for the real-repository suite (#10): this project's own history, cloned, and a
 * repository whose commits are two published versions of a real npm package (rxjs 6 and 7, the
 * devDependencies `rxjs-v6` and `rxjs-v7`) with realistic ignore files. Everything comes from disk:
 * nothing is fetched at test time. Native git is the oracle.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { git } from './gitOracle.js';
import type { TestWorkspace } from './testWorkspace.js';
import { writeIn } from './testWorkspace.js';

/** The project's root: where package.json and (in any checkout, CI's included) `.git` are. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Clones this project's own repository into the (empty) workspace dir, as a user's clone with
 * its real history and .gitignore; returns its first-parent commits, oldest first. Fails, never
 * skips, when the project is not a git checkout: the suite needs its history.
 */
export function cloneProject(ws: TestWorkspace): string[] {
  if (!existsSync(join(PROJECT_ROOT, '.git'))) {
    throw new Error(`The real-repository suite clones this project's own history, but ${PROJECT_ROOT} has no .git: run the tests in a git clone of the project`);
  }
  git(ws.dir, ['clone', '-q', '--no-local', PROJECT_ROOT, '.'], ws.env);
  return git(ws.dir, ['rev-list', '--first-parent', '--reverse', 'HEAD'], ws.env).split('\n').filter(Boolean);
}

/** `n` commits spread evenly over `commits` (oldest and newest included), in their order. */
export function spread(commits: string[], n: number): string[] {
  if (commits.length <= n) return [...commits];
  return Array.from({ length: n }, (_, i) => commits[Math.round((i * (commits.length - 1)) / (n - 1))] as string);
}

/** What the package repository holds, for the assertions. */
export interface PackageRepo {
  /** The commit holding rxjs 6.6.7 and its ignore rules. */
  v6: string;
  /** The commit holding rxjs 7.8.1 and its ignore rules. */
  v7: string;
  /** Tracked files an ignore rule of their own commit matches (`git add -f`), by commit. */
  forceAdded: { v6: string[]; v7: string[] };
  /** Untracked ignored files present throughout, with their content: a restore must leave them. */
  ignoredExtras: Record<string, string>;
}

const V6_GITIGNORE = `# dependencies
node_modules/
# build output (the UMD bundles are built by CI; the minified one is committed for the CDN)
/build/
/bundles/
coverage/
*.log
.env
.DS_Store
# editor settings are personal
/.vscode/
`;

const V7_GITIGNORE = `node_modules/
/build/
/dist/bundles/
coverage/
*.log
*.tsbuildinfo
.env
.env.*
!.env.example
.DS_Store
`;

const PACKAGES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/**
 * Commits rxjs 6.6.7, then rxjs 7.8.1, into the workspace repository (which has one commit), each
 * with its own .gitignore, tracked dotfiles and a tracked-but-ignored bundle; leaves the
 * working tree at v7 with ignored files beside it (a build dir, `.env`, a log).
 */
export function buildPackageRepo(ws: TestWorkspace): PackageRepo {
  const v6Tree = join(PACKAGES, 'rxjs-v6');
  const v7Tree = join(PACKAGES, 'rxjs-v7');
  if (!existsSync(join(v6Tree, 'package.json')) || !existsSync(join(v7Tree, 'package.json'))) {
    throw new Error(`node_modules/rxjs-v6 and rxjs-v7 (devDependencies) are missing under ${PACKAGES}: run npm ci`);
  }
  const g = (args: string[]): string => git(ws.dir, args, ws.env);

  cpSync(v6Tree, ws.dir, { recursive: true });
  writeIn(ws, '.gitignore', V6_GITIGNORE);
  writeIn(ws, '.editorconfig', 'root = true\n\n[*]\nindent_style = space\nindent_size = 2\n');
  writeIn(ws, '.github/workflows/ci.yml', 'on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n');
  writeIn(ws, '.npmrc', 'save-exact=true\n');
  g(['add', '-A']);
  g(['add', '-f', 'bundles/rxjs.umd.min.js']);
  g(['commit', '-q', '-m', 'rxjs 6.6.7']);
  const v6 = g(['rev-parse', 'HEAD']);

  // The next version replaces this one whole: nothing of v6 (its ignored bundles, node_modules) stays.
  g(['rm', '-r', '-q', '.']);
  g(['clean', '-q', '-f', '-d', '-x']);
  cpSync(v7Tree, ws.dir, { recursive: true });
  writeIn(ws, '.gitignore', V7_GITIGNORE);
  writeIn(ws, '.editorconfig', 'root = true\n\n[*]\nindent_style = space\nindent_size = 2\ninsert_final_newline = true\n');
  writeIn(ws, '.github/workflows/ci.yml', 'on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm ci\n      - run: npm test\n');
  writeIn(ws, '.prettierrc', '{ "singleQuote": true, "printWidth": 140 }\n');
  writeIn(ws, '.env.example', 'API_URL=http://localhost:3000\n');
  writeIn(ws, '.vscode/settings.json', '{ "editor.formatOnSave": true }\n');
  writeIn(ws, '.vscode/extensions.json', '{ "recommendations": ["esbenp.prettier-vscode"] }\n');
  g(['add', '-A']);
  g(['add', '-f', 'dist/bundles/rxjs.umd.min.js']);
  g(['commit', '-q', '-m', 'rxjs 7.8.1']);
  const v7 = g(['rev-parse', 'HEAD']);

  const ignoredExtras: Record<string, string> = {
    'build/rxjs.local.js': 'console.log("a local build");\n',
    '.env': 'API_TOKEN=do-not-lose-me\n',
    'npm-debug.log': 'debug log\n',
  };
  for (const [rel, content] of Object.entries(ignoredExtras)) writeIn(ws, rel, content);
  return { v6, v7, forceAdded: { v6: ['bundles/rxjs.umd.min.js'], v7: ['dist/bundles/rxjs.umd.min.js'] }, ignoredExtras };
}

/** Runs `fn` with a scratch dir and an env whose new objects go there, the repository's still readable. */
function withScratchStore<T>(dir: string, env: NodeJS.ProcessEnv, fn: (scratch: string, env: NodeJS.ProcessEnv) => T): T {
  const objects = resolve(dir, git(dir, ['rev-parse', '--git-path', 'objects'], env));
  const scratch = mkdtempSync(join(tmpdir(), 'shadow-real-oracle-'));
  try {
    mkdirSync(join(scratch, 'objects'));
    // Objects the oracle hashes stay out of the repository: they would hide one a checkpoint failed to write.
    return fn(scratch, { ...env, GIT_INDEX_FILE: join(scratch, 'index'), GIT_OBJECT_DIRECTORY: join(scratch, 'objects'), GIT_ALTERNATE_OBJECT_DIRECTORIES: objects });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A tree native git computed, and how it differs from the one expected (empty when equal). */
export interface OracleTree {
  /** The tree oid. */
  tree: string;
  /** `git diff-tree -r --name-status <expected> <tree>` lines (first 20), for readable failures. */
  diff: string[];
}

function diffAgainst(dir: string, env: NodeJS.ProcessEnv, expected: string, tree: string): string[] {
  if (expected === tree) return [];
  return git(dir, ['diff-tree', '-r', '--name-status', expected, tree], env).split('\n').filter(Boolean).slice(0, 20);
}

/**
 * The tree git itself would commit from the working tree (S1.1): `git add -A && git write-tree`
 * on a copy of the repository's own index, so tracked files stay in even when ignored.
 */
export function indexTree(dir: string, env: NodeJS.ProcessEnv, expected: string): OracleTree {
  const index = resolve(dir, git(dir, ['rev-parse', '--git-path', 'index'], env));
  return withScratchStore(dir, env, (scratch, e) => {
    copyFileSync(index, join(scratch, 'index'));
    git(dir, ['add', '-A'], e);
    const tree = git(dir, ['write-tree'], e);
    return { tree, diff: diffAgainst(dir, e, expected, tree) };
  });
}

/**
 * The working tree as native git sees it against `expected`: that tree read into a scratch index,
 * then `git add -A && git write-tree`. Equals `expected` exactly when every path of it is on disk
 * with its content and mode, and nothing else that the on-disk ignore rules leave visible.
 * (`read-tree --reset` over a copy of the user's index keeps the stat data of entries whose blob
 * is the same, so only what the stat says changed is hashed again, as git does.)
 */
export function diskTreeAgainst(dir: string, env: NodeJS.ProcessEnv, expected: string): OracleTree {
  const index = resolve(dir, git(dir, ['rev-parse', '--git-path', 'index'], env));
  return withScratchStore(dir, env, (scratch, e) => {
    copyFileSync(index, join(scratch, 'index'));
    git(dir, ['read-tree', '--reset', expected], e);
    git(dir, ['add', '-A'], e);
    const tree = git(dir, ['write-tree'], e);
    return { tree, diff: diffAgainst(dir, e, expected, tree) };
  });
}

/** Everything of the user's repository Shadow must never change (S1.2): HEAD, index bytes, refs outside refs/shadow/. */
export function userRepoState(dir: string, env: NodeJS.ProcessEnv): string {
  const index = resolve(dir, git(dir, ['rev-parse', '--git-path', 'index'], env));
  const refs = git(dir, ['for-each-ref', '--format=%(refname) %(objectname)'], env)
    .split('\n')
    .filter((l) => l && !l.startsWith('refs/shadow/'));
  const head = readFileSync(resolve(dir, git(dir, ['rev-parse', '--git-path', 'HEAD'], env)), 'utf8');
  return [head.trim(), createHash('sha256').update(readFileSync(index)).digest('hex'), ...refs].join('\n');
}
