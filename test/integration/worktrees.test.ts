/**
 * #10.11 linked worktrees (S1.2, S5.4, S1.7): a repository's main worktree and a linked one, a
 * daemon in each. Each worktree's checkpoints, undo, runs, log and gc are its own: nothing done in
 * one reads, moves or prunes the other's refs, and native `git gc --prune=now` keeps both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, nativeTree } from '../helpers/gitOracle.js';
import type { LinkedWorktree } from '../helpers/linkedWorktree.js';
import { addLinkedWorktree } from '../helpers/linkedWorktree.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let a: TestWorkspace | undefined;
let b: LinkedWorktree | undefined;
afterEach(async () => {
  await b?.cleanup();
  await a?.cleanup();
  a = b = undefined;
});

interface LogJson {
  entries: { commit: string; ref: string; kind: string | null }[];
}

/** `refname oid` of every ref under refs/shadow/, by native git (from any worktree: same store). */
function shadowRefs(w: TestWorkspace): string[] {
  return git(w.dir, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/shadow/'], w.env).split('\n').filter(Boolean);
}

/** The main worktree's refs: refs/shadow/* outside refs/shadow/worktrees/. */
const mainRefs = (w: TestWorkspace): string[] => shadowRefs(w).filter((l) => !l.startsWith('refs/shadow/worktrees/'));
/** The linked worktree's refs, by their stored names. */
const linkedRefs = (w: TestWorkspace, id: string): string[] => shadowRefs(w).filter((l) => l.startsWith(`refs/shadow/worktrees/${id}/`));

/** Every commit reachable from the given `refname oid` lines, by native git. */
function reachable(w: TestWorkspace, refLines: string[]): Set<string> {
  if (!refLines.length) return new Set();
  const oids = refLines.map((l) => l.split(' ')[1] as string);
  return new Set(git(w.dir, ['rev-list', ...oids], w.env).split('\n').filter(Boolean));
}

/** A repository with one tracked file, and a linked worktree `wtB` of it. */
function setup(): { a: TestWorkspace; b: LinkedWorktree } {
  a = makeTestWorkspace({ git: true });
  writeIn(a, 'shared.txt', 'tracked\n');
  git(a.dir, ['add', '-A'], a.env);
  git(a.dir, ['commit', '-q', '-m', 'shared'], a.env);
  b = addLinkedWorktree(a, 'wtB');
  return { a, b };
}

const tree = (w: TestWorkspace): string => nativeTree(w.dir, { repo: true, env: w.env });

describe('linked worktrees (#10.11, S1.2)', () => {
  it('#10.11 undo in a linked worktree never restores the main worktree\'s tree; each worktree\'s checkpoint, restore, undo and log are its own (S1.2, S5.4)', async () => {
    const { a, b } = setup();
    // A's refs must hold still while B works: no auto snapshots in A (B keeps them).
    writeIn(a, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    // A: a checkpoint, a change, a restore: A now has an undo.
    writeIn(a, 'a.txt', 'A one\n');
    const cpA = await a.json<{ commit: string }>(['checkpoint', '-m', 'A one']);
    writeIn(a, 'a.txt', 'A two\n');
    await a.json(['restore', cpA.commit]);
    const aRefs = mainRefs(a);
    const aTree = tree(a);
    expect(aRefs.map((l) => l.split(' ')[0])).toEqual(expect.arrayContaining(['refs/shadow/manual', 'refs/shadow/undo']));

    // B has never restored anything: nothing to undo, and nothing of A's comes into B.
    writeIn(b, 'b.txt', 'B one\n');
    const bBefore = tree(b);
    const undo = await b.cli(['undo', '--json']);
    expect(undo.json<{ error?: { code: string } }>().error?.code).toBe('CHECKPOINT_NOT_FOUND');
    expect(tree(b)).toBe(bBefore);
    expect(existsSync(join(b.dir, 'a.txt'))).toBe(false);

    // B's own checkpoint, restore and undo, on B's refs.
    const cpB = await b.json<{ commit: string; ref: string }>(['checkpoint', '-m', 'B one']);
    expect(cpB.ref).toBe('refs/shadow/manual');
    writeIn(b, 'b.txt', 'B two\n');
    writeIn(b, 'b2.txt', 'B extra\n');
    const bTwo = tree(b);
    await b.json(['restore', cpB.commit]);
    expect(tree(b)).toBe(bBefore);
    await b.json(['undo']);
    expect(tree(b)).toBe(bTwo);
    expect(readFileSync(join(b.dir, 'b.txt'), 'utf8')).toBe('B two\n');

    // A's refs and tree did not move; B's refs are all under its namespace.
    expect(mainRefs(a)).toEqual(aRefs);
    expect(tree(a)).toBe(aTree);
    const bRefs = linkedRefs(a, b.id);
    expect(bRefs.map((l) => l.split(' ')[0])).toEqual(expect.arrayContaining([`refs/shadow/worktrees/${b.id}/manual`, `refs/shadow/worktrees/${b.id}/undo`]));
    expect(git(b.dir, ['rev-parse', `refs/shadow/worktrees/${b.id}/manual^{tree}`], b.env)).toBe(bBefore);

    // Each log lists its own worktree's checkpoints only. The logs first: B's auto snapshots may
    // move its refs meanwhile, and what B's refs reach later includes what they reached before.
    const logB = await b.json<LogJson>(['log', '-n', '100']);
    const logA = await a.json<LogJson>(['log', '-n', '100']);
    const inA = reachable(a, mainRefs(a));
    const inB = reachable(a, linkedRefs(a, b.id));
    expect(logB.entries.length).toBeGreaterThan(0);
    for (const e of logB.entries) expect(inB.has(e.commit) && !inA.has(e.commit), `B's log shows ${e.commit} (${e.ref})`).toBe(true);
    for (const e of logA.entries) expect(inA.has(e.commit) && !inB.has(e.commit), `A's log shows ${e.commit} (${e.ref})`).toBe(true);

    // And undo in A still brings back A's own pre-restore state.
    await a.json(['undo']);
    expect(readFileSync(join(a.dir, 'a.txt'), 'utf8')).toBe('A two\n');
    expect(existsSync(join(a.dir, 'b.txt'))).toBe(false);
  });

  it('#10.11 a run cancelled in a linked worktree restores that worktree\'s base; gc there prunes only its own runs; the main worktree\'s refs never move (S5.1, S1.7)', async () => {
    const { a, b } = setup();
    // B keeps one finished run, A all of them: whatever goes is B's gc's doing.
    writeIn(a, 'shadow.config.json', JSON.stringify({ retention: { keepRuns: 10, keepDays: 0 }, autoSnapshot: { enabled: false } }));
    writeIn(b, 'shadow.config.json', JSON.stringify({ retention: { keepRuns: 1, keepDays: 0 }, autoSnapshot: { enabled: false } }));
    // Two finished runs in A: gc in B must not prune either.
    for (const i of [1, 2]) expect((await a.cli(['run', '--', 'sh', '-c', `echo run ${i} > a-run.txt`])).code).toBe(0);
    writeIn(a, 'a-notes.txt', 'A notes\n');
    await a.json(['checkpoint', '-m', 'A notes']);
    const aRefs = mainRefs(a);
    expect(aRefs.filter((l) => l.startsWith('refs/shadow/runs/'))).toHaveLength(2);

    writeIn(b, 'notes.txt', 'my notes in B\n');
    const base = tree(b);
    const run = b.cli(['run', '--json', '--', 'sh', '-c', 'echo partial > partial.txt; echo more >> notes.txt; echo $$ > pid.txt; exec sleep 30'], { timeoutMs: 30_000 });
    await waitFor(() => existsSync(join(b.dir, 'pid.txt')) && readFileSync(join(b.dir, 'pid.txt'), 'utf8').endsWith('\n'), 'the run in B started its command');
    const cancel = await b.json<{ action: string; preAbort: string | null }>(['cancel']);
    expect(cancel.action).toBe('remove_all');
    await run;
    expect(tree(b)).toBe(base);
    expect(existsSync(join(b.dir, 'partial.txt'))).toBe(false);
    expect(mainRefs(a)).toEqual(aRefs);
    expect(existsSync(join(a.dir, 'notes.txt'))).toBe(false);
    const bRuns = linkedRefs(a, b.id).filter((l) => l.startsWith(`refs/shadow/worktrees/${b.id}/runs/`));
    expect(bRuns).toHaveLength(1);

    // Two finished runs in B, then gc in B: it prunes B's older runs, never A's runs nor A's refs.
    for (const i of [1, 2]) expect((await b.cli(['run', '--', 'sh', '-c', `echo done ${i} > b-run.txt`])).code).toBe(0);
    const bRunRefs = (): string[] => linkedRefs(a, b.id).filter((l) => l.startsWith(`refs/shadow/worktrees/${b.id}/runs/`));
    expect(bRunRefs()).toHaveLength(3);
    const gcB = await b.json<{ runsPruned: string[]; refsDeleted: string[] }>(['gc']);
    expect(gcB.runsPruned.length).toBeGreaterThan(0);
    expect(gcB.refsDeleted.sort()).toEqual(gcB.runsPruned.map((id) => `refs/shadow/runs/${id}`).sort());
    expect(bRunRefs()).toHaveLength(3 - gcB.runsPruned.length);
    expect(mainRefs(a)).toEqual(aRefs);
    // gc in A leaves B's refs.
    const bRefsBefore = linkedRefs(a, b.id);
    await a.json(['gc']);
    expect(linkedRefs(a, b.id)).toEqual(bRefsBefore);
    expect(mainRefs(a)).toEqual(aRefs);

    // undo in B brings back the cancelled run's work in B, not anything of A's.
    await b.json(['undo']);
    expect(readFileSync(join(b.dir, 'partial.txt'), 'utf8')).toBe('partial\n');
    expect(existsSync(join(b.dir, 'a-notes.txt'))).toBe(false);
  });

  it('#10.11 native git gc --prune=now from either worktree keeps both worktrees\' checkpoints (S1.2, S1.7)', async () => {
    const { a, b } = setup();
    writeIn(a, 'only-a.txt', 'content only A checkpointed\n');
    writeIn(b, 'only-b.txt', 'content only B checkpointed\n');
    const cpA = await a.json<{ commit: string; tree: string }>(['checkpoint', '-m', 'A']);
    const cpB = await b.json<{ commit: string; tree: string }>(['checkpoint', '-m', 'B']);
    // Untracked files: each blob is reachable from its worktree's checkpoint only. The daemons
    // stop first so that gc races with nothing.
    for (const w of [a, b]) await w.cli(['daemon', 'stop']);
    git(a.dir, ['gc', '-q', '--prune=now'], a.env);
    git(b.dir, ['gc', '-q', '--prune=now'], b.env);
    git(a.dir, ['fsck', '--full', '--strict', '--no-dangling'], a.env);
    for (const cp of [cpA, cpB]) expect(git(a.dir, ['cat-file', '-t', cp.commit], a.env)).toBe('commit');
    expect(git(a.dir, ['show', `${cpB.commit}:only-b.txt`], a.env)).toBe('content only B checkpointed');
    expect(git(a.dir, ['show', `${cpA.commit}:only-a.txt`], a.env)).toBe('content only A checkpointed');
    // And each daemon still restores its own checkpoint.
    writeIn(b, 'only-b.txt', 'changed\n');
    await b.json(['restore', cpB.commit]);
    expect(tree(b)).toBe(cpB.tree);
  });
});
