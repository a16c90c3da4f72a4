/**
 * Cancel actions end to end through the typed client (S5.2–S5.4, S5.7, S5.8, S5.12), native
 * git as the oracle: remove_all goes back to the run's base (the user's pre-run work survives),
 * rollback to the last checkpoint, keep_for_review writes the marker and touches nothing,
 * keep_checkpoint takes a final commit; undo restores the pre-abort state exactly; ignored and
 * uncaptured files are never deleted; a dry run changes nothing.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cancel, CancellationLog, Checkpoint, RunGet, RunPhase, RunStart, RunStep, Undo } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient, rejection } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace , writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
let client: ShadowClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
});

const write = (rel: string, content: string): void => writeIn(ws, rel, content);
const read = (rel: string): string => readFileSync(join(ws.dir, rel), 'utf8');
const tree = (): string => nativeTree(ws.dir, { repo: true, env: ws.env });
const treeOf = (commit: string): string => gitIn(ws, ['rev-parse', `${commit}^{tree}`]);

/** A repository with committed files, plus the user's own uncommitted edits made before any run. */
async function setup(config: object = {}): Promise<ShadowClient> {
  ws = makeTestWorkspace({ git: true });
  write('shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false }, ...config }));
  write('.gitignore', '*.log\n');
  write('src/main.ts', 'committed\n');
  write('src/util.ts', 'util\n');
  gitIn(ws, ['add', '-A']);
  gitIn(ws, ['commit', '-q', '-m', 'project']);
  // Uncommitted work from before the run: remove_all must bring this back, not HEAD (issue #3, 2).
  write('src/main.ts', 'user edit before the run\n');
  write('notes.txt', 'user notes, never committed\n');
  client = await connectClient(ws);
  return client;
}

/** What a run does to the tree: edits, creations, a deletion. */
function runWork(tag: string): void {
  write('src/main.ts', `edited by the run ${tag}\n`);
  write(`gen/${tag}/a.ts`, 'generated\n');
  write(`gen/${tag}/b.ts`, 'generated\n');
  rmSync(join(ws.dir, 'src/util.ts'), { force: true });
}

describe('cancel actions (S5.3, S5.4)', () => {
  it('remove_all returns to the run base exactly (pre-run uncommitted work survives); undo restores the pre-abort tree', async () => {
    const c = await setup();
    const s = await c.request(RunStart, { name: 'agent' });
    expect(treeOf(s.base)).toBe(tree());
    runWork('x');
    write('debug.log', 'ignored, created during the run\n');
    const during = tree();

    const r = await c.request(Cancel, { reason: 'user_cancel' });
    expect(r).toMatchObject({ run: s.run, status: 'cancelled', reason: 'user_cancel', trigger: 'request', action: 'remove_all', restoredTo: s.base, cancelled: [s.run], inconsistent: false, dryRun: false });
    expect(r.removed).toEqual(['gen/x/a.ts', 'gen/x/b.ts']);
    expect(r.restored).toEqual(['src/main.ts', 'src/util.ts']);
    expect(tree()).toBe(treeOf(s.base));
    expect(read('src/main.ts')).toBe('user edit before the run\n');
    expect(read('notes.txt')).toBe('user notes, never committed\n');
    expect(existsSync(join(ws.dir, 'gen'))).toBe(false); // directories left empty are removed
    expect(read('debug.log')).toBe('ignored, created during the run\n'); // ignored: never deleted (S1.8)
    // The pre-abort commit holds the state at the cancel, with its trailers (S5.4, S1.5).
    expect(treeOf(r.preAbort as string)).toBe(during);
    expect(gitIn(ws, ['log', '-1', '--format=%(trailers:key=Shadow-Kind,valueonly)%(trailers:key=Shadow-Run,valueonly)', 'refs/shadow/undo'])).toBe(`pre-abort\n${s.run}`);

    const u = await c.request(Undo, {});
    expect(u.restoredTo).toBe(r.preAbort);
    expect(tree()).toBe(during);
    expect(read('src/main.ts')).toBe('edited by the run x\n');
    expect((await c.request(RunGet, { run: s.run })).run).toMatchObject({ status: 'cancelled', reason: 'user_cancel', action: 'remove_all', preAbort: r.preAbort, resumable: true });
    // HEAD and the index were never touched (S1.2).
    expect(gitIn(ws, ['rev-parse', 'HEAD'])).toBe(gitIn(ws, ['rev-parse', 'main']));
    expect(gitIn(ws, ['diff', '--cached', '--name-only'])).toBe('');
  });

  it('rollback (reason error) returns to the last checkpoint, base when there is none', async () => {
    const c = await setup();
    const s = await c.request(RunStart, {});
    write('step1.txt', 'kept: before the checkpoint\n');
    const cp = await c.request(Checkpoint, {});
    runWork('y');
    const r = await c.request(Cancel, { reason: 'error' });
    expect(r).toMatchObject({ status: 'failed', action: 'rollback', restoredTo: cp.commit });
    expect(tree()).toBe(cp.tree);
    expect(read('step1.txt')).toBe('kept: before the checkpoint\n');

    const s2 = await c.request(RunStart, {});
    write('late.txt', 'x');
    const r2 = await c.request(Cancel, { reason: 'user_cancel', action: 'rollback' });
    expect(r2).toMatchObject({ status: 'cancelled', action: 'rollback', restoredTo: s2.base, removed: ['late.txt'] });
    expect(s.run).not.toBe(s2.run);
  });

  it('keep_for_review touches nothing and writes .needs-review listing every changed path and the reason', async () => {
    const c = await setup();
    const s = await c.request(RunStart, { name: 'reviewme' });
    runWork('z');
    const during = tree();
    const r = await c.request(Cancel, { reason: 'quality_failure', message: 'coverage 61% < threshold 80%' });
    expect(r).toMatchObject({ action: 'keep_for_review', status: 'cancelled', preAbort: null, restoredTo: null, removed: [], restored: [] });
    expect(r.preserved).toEqual(['gen/z/a.ts', 'gen/z/b.ts', 'src/main.ts']);
    expect(r.preservedReasons['src/main.ts']).toBe('kept for review');
    const marker = read('.needs-review');
    expect(marker).toContain(`run ${s.run}`);
    expect(marker).toContain('reason: quality_failure');
    expect(marker).toContain('coverage 61% < threshold 80%');
    for (const line of ['A gen/z/a.ts', 'A gen/z/b.ts', 'M src/main.ts', 'D src/util.ts']) expect(marker.split('\n')).toContain(line);
    // The marker is Shadow's own (built-in ignore): the tree is otherwise untouched.
    expect(nativeTree(ws.dir, { repo: true, env: ws.env, extraExcludes: [] })).not.toBe(during); // git sees the marker file...
    rmSync(join(ws.dir, '.needs-review'));
    expect(tree()).toBe(during); // ...and nothing else changed
  });

  it('keep_checkpoint (reason timeout) takes a final checkpoint, touches nothing, stays resumable', async () => {
    const c = await setup();
    const s = await c.request(RunStart, { phases: ['p1', 'p2'] });
    await c.request(RunPhase, { name: 'p1' });
    runWork('k');
    await c.request(RunStep, { name: 'half' });
    write('more.txt', 'after the step\n');
    const during = tree();
    const r = await c.request(Cancel, { reason: 'timeout' });
    expect(r).toMatchObject({ action: 'keep_checkpoint', status: 'cancelled', preAbort: null, removed: [], restored: [], resume: `shadowctl resume --run ${s.run}` });
    expect(tree()).toBe(during);
    const final = gitIn(ws, ['rev-parse', s.ref]);
    expect(treeOf(final)).toBe(during);
    expect(gitIn(ws, ['log', '-1', '--format=%(trailers:key=Shadow-Kind,valueonly)%(trailers:key=Shadow-Reason,valueonly)', s.ref])).toBe('final\ntimeout');
    expect((await c.request(RunGet, { run: s.run })).run).toMatchObject({ lastCheckpoint: final, resumable: true, status: 'cancelled', reason: 'timeout' });
  });

  it('S5.6: with keepPartialWork false, keep_checkpoint saves the partial work in its final checkpoint and rolls it back', async () => {
    const c = await setup({ keepPartialWork: false });
    const s = await c.request(RunStart, {});
    write('done.txt', 'checkpointed\n');
    const cp = await c.request(Checkpoint, {});
    runWork('p');
    const during = tree();
    const r = await c.request(Cancel, { reason: 'timeout' });
    expect(r).toMatchObject({ action: 'keep_checkpoint', restoredTo: cp.commit, removed: ['gen/p/a.ts', 'gen/p/b.ts'] });
    expect(tree()).toBe(cp.tree);
    expect(treeOf(gitIn(ws, ['rev-parse', s.ref]))).toBe(during); // the final checkpoint keeps it
    await c.request(Undo, {});
    expect(tree()).toBe(during);
  });

  it('S1.8: files ignored under either rule set and uncapturable files are never deleted', async () => {
    const c = await setup({ maxFileSize: '1KB' });
    write('.gitignore', '*.log\nout/\n');
    const s = await c.request(RunStart, {});
    write('.gitignore', '*.log\n'); // the run un-ignores out/ ...
    write('out/result.bin', 'made while out/ was not ignored\n'); // ... so this is captured now
    write('big.dat', 'x'.repeat(4096)); // over maxFileSize: never captured
    write('trace.log', 'ignored now\n');
    const r = await c.request(Cancel, {});
    expect(r.restoredTo).toBe(s.base);
    expect(r.preservedReasons).toMatchObject({ 'out/result.bin': 'ignored-in-checkpoint', 'big.dat': expect.stringMatching(/^uncaptured/) });
    expect(read('out/result.bin')).toContain('made while');
    expect(read('big.dat').length).toBe(4096);
    expect(read('trace.log')).toBe('ignored now\n');
    expect(read('.gitignore')).toBe('*.log\nout/\n');
  });

  it('S5.12: a dry run answers the exact plan and changes nothing', async () => {
    const c = await setup();
    const s = await c.request(RunStart, {});
    runWork('d');
    const during = tree();
    const undoBefore = gitIn(ws, ['for-each-ref', 'refs/shadow/undo']);
    const plan = await c.request(Cancel, { dryRun: true });
    expect(plan).toMatchObject({ dryRun: true, status: 'running', action: 'remove_all', preAbort: null, report: null, restoredTo: s.base, cancelled: [s.run] });
    expect(plan.removed).toEqual(['gen/d/a.ts', 'gen/d/b.ts']);
    expect(plan.restored).toEqual(['src/main.ts', 'src/util.ts']);
    expect(tree()).toBe(during);
    expect(gitIn(ws, ['for-each-ref', 'refs/shadow/undo'])).toBe(undoBefore);
    expect((await c.request(RunGet, {})).run.status).toBe('running');
    // The real cancel then does exactly what the plan said.
    const real = await c.request(Cancel, {});
    expect({ removed: real.removed, restored: real.restored }).toEqual({ removed: plan.removed, restored: plan.restored });
  });

  it('S5.7, S5.8: the report and the cancellation log say what happened and how to resume', async () => {
    const c = await setup();
    const s = await c.request(RunStart, { name: 'pipeline', phases: ['fetch', 'build', 'ship'] });
    await c.request(RunPhase, { name: 'fetch' });
    await c.request(RunStep, { name: 'download' });
    await c.request(RunPhase, { name: 'build' });
    runWork('r');
    const r = await c.request(Cancel, { reason: 'dependency_missing', message: 'libfoo >= 2 not found (have 1.4)' });
    const report = readFileSync(r.report as string, 'utf8');
    expect(r.report).toBe(join(gitIn(ws, ['rev-parse', '--absolute-git-dir']), 'shadow', 'reports', `${s.run}.md`));
    for (const text of ['dependency_missing', '| Trigger | request |', 'build (2/3)', '| Completed steps | 1 |', 'download', '`gen/r/a.ts`', '`src/util.ts`', `shadowctl resume --run ${s.run}`, 'libfoo >= 2 not found (have 1.4)']) {
      expect(report).toContain(text);
    }
    const log = await c.request(CancellationLog, {});
    expect(log.entries[0]).toMatchObject({
      run: s.run,
      name: 'pipeline',
      reason: 'dependency_missing',
      trigger: 'request',
      action: 'remove_all',
      state: { status: 'cancelled', phase: 'build', phaseIndex: 2, phases: 3, steps: 1 },
      cleanup: { removed: 2, restored: 2, preserved: 0, processes: 0, tempPaths: 0, lockFiles: 0 },
      inconsistent: false,
      resume: `shadowctl resume --run ${s.run}`,
      message: 'libfoo >= 2 not found (have 1.4)',
    });
    const s2 = await c.request(RunStart, {});
    await c.request(Cancel, { reason: 'timeout' });
    const all = await c.request(CancellationLog, {});
    expect(all.entries.map((e) => e.run)).toEqual([s2.run, s.run]); // newest first
    expect((await c.request(CancellationLog, { run: s.run })).entries.map((e) => e.run)).toEqual([s.run]);
    expect((await rejection(c.request(Undo, { bogus: 1 } as never))).code).toBe('INVALID_PARAMS');
  });
});
