/**
 * Real repositories (#10): real history and real ignore files, not generated trees, offline.
 * (a) This project's own history, cloned: checkpoints at commits spread over it, checked out far
 * apart under a running daemon. (b) Two published versions of rxjs (3.6k and 2.3k files)
 * committed in turn with their own .gitignore, tracked-but-ignored bundles, dotfiles, an ignored
 * build dir and `.env` beside them. Each checkpoint's tree equals native git's on a copy of the
 * user's index (S1.1); each restore leaves exactly the checkpoint's tree, as native git sees it;
 * undo brings back the state before it (S5.4); the user's HEAD, index and refs never change, and
 * `git fsck` stays clean (S1.2). Tree comparisons are soft: one run reports every mismatch.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git } from '../helpers/gitOracle.js';
import type { OracleTree } from '../helpers/realRepo.js';
import { buildPackageRepo, cloneProject, diskTreeAgainst, indexTree, spread, userRepoState } from '../helpers/realRepo.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

interface CheckpointJson {
  commit: string;
  tree: string;
}

interface RestoreJson {
  preRestore: string;
  preserved: { path: string; reason: string }[];
}

/** Soft: the oracle's tree equals `expected`, naming the differing paths when not. */
function expectTree(o: OracleTree, expected: string, what: string): void {
  expect.soft(o.diff, `${what}: paths differing from ${expected} (A: only on disk, D: missing from disk, M: other content)`).toEqual([]);
  expect.soft(o.tree, what).toBe(expected);
}

/** Takes a checkpoint; soft-asserts parity with native git on a copy of the index (S1.1) and that the user's repository did not move (S1.2). */
async function checkpointWithParity(w: TestWorkspace, what: string): Promise<CheckpointJson> {
  const state = userRepoState(w.dir, w.env);
  const cp = await w.json<CheckpointJson>(['checkpoint', '-m', what]);
  expectTree(indexTree(w.dir, w.env, cp.tree), cp.tree, `parity of the checkpoint ${what} (S1.1)`);
  expect(userRepoState(w.dir, w.env), `S1.2 checkpoint ${what}`).toBe(state);
  return cp;
}

/** Restores `cp`, checks the tree is exactly cp's, then undoes and checks the tree is the pre-restore one (S5.4). */
async function restoreAndUndo(w: TestWorkspace, cp: CheckpointJson, what: string, check: () => void = () => undefined): Promise<void> {
  const state = userRepoState(w.dir, w.env);
  const r = await w.json<RestoreJson>(['restore', cp.commit]);
  expectTree(diskTreeAgainst(w.dir, w.env, cp.tree), cp.tree, `the tree after restoring ${what}`);
  check();
  const before = git(w.dir, ['rev-parse', `${r.preRestore}^{tree}`], w.env);
  await w.json(['undo']);
  expectTree(diskTreeAgainst(w.dir, w.env, before), before, `the tree after undoing the restore of ${what} (S5.4)`);
  check();
  expect(userRepoState(w.dir, w.env), `S1.2 restore and undo of ${what}`).toBe(state);
}

/** Oldest, newest, second, second newest, ...: every checkout jumps far. */
function farOrder<T>(items: T[]): T[] {
  const out: T[] = [];
  for (let i = 0, j = items.length - 1; i <= j; i++, j--) out.push(...(i === j ? [items[i] as T] : [items[i] as T, items[j] as T]));
  return out;
}

/**
 * A gross bound only: beside six other test runs on two cores (load average 13) these took 25 s
 * and 111 s, mostly waiting on the disk (`git add -A` of the 3.6k files: 15 s wall, 0.6 s CPU).
 */
const TIMEOUT_MS = 240_000;

describe('real repositories (#10)', () => {
  it('#10 this project\'s own history: parity at six commits checked out far apart under a running daemon, restore across them, undo (S1.1, S1.2, S5.4)', { timeout: TIMEOUT_MS }, async () => {
    ws = makeTestWorkspace();
    const w = ws;
    const commits = cloneProject(w);
    expect(commits.length, 'the project has a history to walk').toBeGreaterThanOrEqual(2);
    const picked = farOrder(spread(commits, 6));
    const cps: CheckpointJson[] = [];
    for (const [i, commit] of picked.entries()) {
      git(w.dir, ['checkout', '-q', '--detach', commit], w.env);
      // The user's own work travels across checkouts: untracked notes, a local build output.
      writeIn(w, `scratch/notes-${i}.md`, `notes taken at ${commit}\n`);
      writeIn(w, 'dist/local-build.js', `// built at ${commit}\n`);
      cps.push(await checkpointWithParity(w, `at ${commit.slice(0, 12)}`));
    }
    // Now at a commit from the middle of the history: restore the oldest and the newest.
    await restoreAndUndo(w, cps[0] as CheckpointJson, `the checkpoint at the oldest commit ${picked[0]}`);
    await restoreAndUndo(w, cps[1] as CheckpointJson, `the checkpoint at the newest commit ${picked[1]}`);
    git(w.dir, ['fsck', '--full', '--strict', '--no-dangling'], w.env);
  });

  it('#10 two published versions of rxjs with their own ignore rules: parity at each, far checkouts, restore across them keeps ignored files and brings back paths the current rules ignore, undo (S1.1, S1.2, S5.4)', { timeout: TIMEOUT_MS }, async () => {
    ws = makeTestWorkspace({ git: true });
    const w = ws;
    const repo = buildPackageRepo(w);
    const extrasIntact = (): void => {
      for (const [rel, content] of Object.entries(repo.ignoredExtras)) {
        expect.soft(existsSync(join(w.dir, rel)) ? readFileSync(join(w.dir, rel), 'utf8') : null, `ignored ${rel} left as it was`).toBe(content);
      }
    };
    const inTree = (cp: CheckpointJson, rel: string): boolean => git(w.dir, ['ls-tree', '--name-only', cp.tree, '--', rel], w.env) === rel;

    const cp7 = await checkpointWithParity(w, 'rxjs 7.8.1');
    for (const rel of repo.forceAdded.v7) expect.soft(inTree(cp7, rel), `tracked but ignored ${rel} captured (#10.1)`).toBe(true);

    git(w.dir, ['checkout', '-q', repo.v6], w.env);
    const cp6 = await checkpointWithParity(w, 'rxjs 6.6.7');
    for (const rel of repo.forceAdded.v6) expect.soft(inTree(cp6, rel), `tracked but ignored ${rel} captured (#10.1)`).toBe(true);
    extrasIntact();

    // At v6, whose .gitignore ignores /.vscode/, restore v7's checkpoint, which tracks .vscode/* (#10.2).
    await restoreAndUndo(w, cp7, 'rxjs 7.8.1 while at 6.6.7', extrasIntact);

    // The undone tree is v6's checkout again: git goes back to v7 cleanly, and parity holds there.
    git(w.dir, ['checkout', '-q', repo.v7], w.env);
    await checkpointWithParity(w, 'rxjs 7.8.1 again');
    await restoreAndUndo(w, cp6, 'rxjs 6.6.7 while at 7.8.1', extrasIntact);
    git(w.dir, ['fsck', '--full', '--strict', '--no-dangling'], w.env);
  });
});
