/**
 * Resuming runs end to end through shadowctl (S6, issue #4 acceptance 1–5): the list, each
 * option's effect on the tree (native git's tree of the directory equals the target
 * checkpoint's tree), validation failures that move nothing, the pre-abort snapshot of changes
 * made since the checkpoint, the interactive choice on a real pseudo-terminal, and
 * `run --resume`. Native git is the oracle throughout.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTree } from '../helpers/gitOracle.js';
import { CLI_ENTRY } from '../helpers/shadowctl.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

const PTY_RUN = fileURLToPath(new URL('../fixtures/ptyRun.py', import.meta.url));

let ws: TestWorkspace | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
  for (const c of cleanups.splice(0)) c();
});

/** A repository with auto snapshots off (so every commit on the refs is one the test made). */
function setup(): TestWorkspace {
  ws = makeTestWorkspace({ git: true });
  writeFileSync(join(ws.dir, 'shadow.config.json'), JSON.stringify({ autoSnapshot: { enabled: false } }));
  writeIn(ws, 'keep.txt', 'from before the run\n');
  return ws;
}

/** The tree oid native git computes for the workspace now. */
function treeNow(w: TestWorkspace): string {
  return nativeTree(w.dir, { repo: true, env: w.env });
}

/** The tree of a commit, by native git. */
function treeOf(w: TestWorkspace, commit: string): string {
  return gitIn(w, ['rev-parse', `${commit}^{tree}`]);
}

/**
 * A pipeline run with phases a, b, c: phase a writes a.txt (step sa), phase b writes b.txt
 * (step sb) and then work.txt, and the run is interrupted (reason shutdown: final checkpoint,
 * nothing touched). Returns the run id.
 */
async function interruptedPipeline(w: TestWorkspace, opts: { timeout?: string; artifactB?: string } = {}): Promise<string> {
  const { run } = await w.json<{ run: string }>(['start', '--name', 'pipe', '--phases', 'a,b,c', ...(opts.timeout ? ['--timeout', opts.timeout] : [])]);
  await w.json(['phase', 'a', '--run', run]);
  writeIn(w, 'a.txt', 'A\n');
  await w.json(['step', 'sa', '--artifact', 'a.txt', '--run', run]);
  await w.json(['phase', 'b', '--run', run]);
  writeIn(w, 'b.txt', 'B\n');
  await w.json(['step', 'sb', '--artifact', opts.artifactB ?? 'b.txt', '--run', run]);
  writeIn(w, 'work.txt', 'half done\n');
  await w.json(['cancel', '--run', run, '--reason', 'shutdown']);
  return run;
}

/** The run's persisted record (what run.get answers), read from the state folder. */
function getRun(w: TestWorkspace, run: string): { status: string; lastCheckpoint: string | null; base: string; deadline: number | null } {
  return JSON.parse(readFileSync(join(w.dir, '.git', 'shadow', 'runs', `${run}.json`), 'utf8')) as never;
}

describe('shadowctl resume (S6, issue #4)', () => {
  it('S6.1: --list shows resumable runs newest first with id, name, status, reason and progress', async () => {
    const w = setup();
    const older = await interruptedPipeline(w);
    const { run: newer } = await w.json<{ run: string }>(['start', '--name', 'second']);
    await w.json(['cancel', '--run', newer, '--reason', 'error']);
    const { run: done } = await w.json<{ run: string }>(['start', '--name', 'done']);
    await w.json(['finish', '--run', done]);
    const { runs } = await w.json<{ runs: Record<string, unknown>[] }>(['resume', '--list']);
    expect(runs.map((r) => r.id)).toEqual([newer, older]); // completed runs are not resumable
    expect(runs[0]).toMatchObject({ id: newer, name: 'second', status: 'failed', reason: 'error', progress: { phases: { completed: 0, total: 0 }, steps: { completed: 0 }, percent: 0 } });
    expect(runs[1]).toMatchObject({ id: older, name: 'pipe', status: 'interrupted', reason: 'shutdown', progress: { phases: { completed: 1, total: 3 }, steps: { completed: 2 }, percent: 33 } });
    // One top-level run at a time: with `newer` running again, `older` cannot be resumed.
    await w.json(['resume', '--run', newer, '--yes']);
    const busy = await w.cli(['resume', '--run', older, '--yes', '--json']);
    expect(busy.json()).toMatchObject({ error: { code: 'RUN_ACTIVE', details: { run: newer } } });
  });

  it('S6.3/S6.4: --yes continues from the last checkpoint; changes since are in a pre-abort commit (git log --all); the run is running again', async () => {
    const w = setup();
    const run = await interruptedPipeline(w, { timeout: '1h' });
    const last = (getRun(w, run)).lastCheckpoint!;
    writeIn(w, 'after.txt', 'written after the cancel\n');
    const r = await w.json<{ plan: unknown; restoredTo: string; preAbort: string; status: string }>(['resume', '--run', run, '--yes']);
    expect(r).toMatchObject({ status: 'running', restoredTo: last, plan: { completed: ['a'], remaining: ['b', 'c'], next: 'b', progress: { phases: { completed: 1, total: 3 }, percent: 33 } } });
    expect(treeNow(w)).toBe(treeOf(w, last));
    expect(existsSync(join(w.dir, 'after.txt'))).toBe(false);
    expect(gitIn(w, ['log', '--all', '--format=%H'])).toContain(r.preAbort);
    expect(gitIn(w, ['show', `${r.preAbort}:after.txt`])).toBe('written after the cancel');
    const rec = getRun(w, run);
    expect(rec.status).toBe('running');
    expect(rec.deadline).toBeGreaterThan(Date.now() + 30 * 60_000); // re-armed with the 1 h limit
    const status = await w.json<{ run: { id: string; status: string } }>(['status']);
    expect(status.run).toMatchObject({ id: run, status: 'running' });
    expect((await w.json<{ runs: unknown[] }>(['resume', '--list'])).runs).toEqual([]);
    await w.json(['finish', '--run', run]);
  });

  it('S6.4: --restart goes back to the base; --from-phase P to the phase-end checkpoint of the phase before P', async () => {
    const w = setup();
    const run = await interruptedPipeline(w);
    const base = (getRun(w, run)).base;
    const restarted = await w.json<{ restoredTo: string; plan: unknown }>(['resume', '--run', run, '--restart']);
    expect(restarted).toMatchObject({ restoredTo: base, plan: { completed: [], remaining: ['a', 'b', 'c'], next: 'a' } });
    expect(treeNow(w)).toBe(treeOf(w, base));
    // Run it again to the middle of phase b, then start over from b.
    await w.json(['phase', 'a', '--run', run]);
    writeIn(w, 'a.txt', 'A2\n');
    await w.json(['step', 'sa', '--artifact', 'a.txt', '--run', run]);
    await w.json(['phase', 'b', '--run', run]);
    writeIn(w, 'b.txt', 'B2\n');
    await w.json(['cancel', '--run', run, '--reason', 'shutdown']);
    const fromB = await w.json<{ restoredTo: string; plan: unknown }>(['resume', '--run', run, '--from-phase', 'b']);
    // The newest commit on the run's ref with trailers "Shadow-Kind: phase-end" and "Shadow-Phase: a".
    const phaseEnds = gitIn(w, ['log', '--format=%H %(trailers:key=Shadow-Kind,valueonly,separator=)|%(trailers:key=Shadow-Phase,valueonly,separator=)', `refs/shadow/runs/${run}`])
      .split('\n')
      .filter((l) => l.endsWith(' phase-end|a'));
    expect(fromB).toMatchObject({ restoredTo: phaseEnds[0]!.split(' ')[0], plan: { completed: ['a'], next: 'b', progress: { steps: { completed: 1 } } } });
    expect(treeNow(w)).toBe(treeOf(w, fromB.restoredTo));
    expect(readFileSync(join(w.dir, 'a.txt'), 'utf8')).toBe('A2\n');
    expect(existsSync(join(w.dir, 'b.txt'))).toBe(false);
    // Re-entering the phase resumed in takes no phase-end checkpoint of it.
    const entered = await w.json<{ checkpoint: string | null; index: number }>(['phase', 'b', '--run', run]);
    expect(entered).toMatchObject({ checkpoint: null, index: 2 });
  });

  it('S6.4: --discard deletes the run (record and ref, packed too) and leaves the tree alone', async () => {
    const w = setup();
    const run = await interruptedPipeline(w);
    gitIn(w, ['pack-refs', '--all']);
    const before = treeNow(w);
    const r = await w.json<{ deletedRefs: string[] }>(['resume', '--run', run, '--discard']);
    expect(r.deletedRefs).toEqual([`refs/shadow/runs/${run}`]);
    expect(gitIn(w, ['for-each-ref', 'refs/shadow/runs'])).toBe('');
    expect(readFileSync(join(w.dir, '.git', 'packed-refs'), 'utf8')).not.toContain(run);
    expect(existsSync(join(w.dir, '.git', 'shadow', 'runs', `${run}.json`))).toBe(false);
    expect((await w.json<{ runs: unknown[] }>(['resume', '--list'])).runs).toEqual([]);
    expect(treeNow(w)).toBe(before);
  });

  it('S6.2: an artifact missing from the checkpoint is RESUME_INVALID naming it, and nothing moves', async () => {
    const w = setup();
    const run = await interruptedPipeline(w, { artifactB: 'never-written.bin' });
    writeIn(w, 'after.txt', 'x\n');
    const before = treeNow(w);
    const undoBefore = gitIn(w, ['for-each-ref', '--format=%(objectname)', 'refs/shadow/undo']);
    const r = await w.cli(['resume', '--run', run, '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ error: { code: 'RESUME_INVALID', details: { missing: 'artifact', artifact: 'never-written.bin', step: 'sb', phase: 'b' } } });
    expect(treeNow(w)).toBe(before);
    expect(gitIn(w, ['for-each-ref', '--format=%(objectname)', 'refs/shadow/undo'])).toBe(undoBefore);
    expect((getRun(w, run)).status).toBe('interrupted');
  });

  it('S6.2: a missing checkpoint object is RESUME_INVALID naming it, and nothing moves', async () => {
    const w = setup();
    // Missing everywhere: with the backup store (#10.8) the object would be read from there.
    w.env.SHADOW_BACKUP = 'off';
    const run = await interruptedPipeline(w);
    const last = (getRun(w, run)).lastCheckpoint!;
    await w.cli(['daemon', 'stop']); // a fresh daemon: nothing of the commit cached
    rmSync(join(w.dir, '.git', 'objects', last.slice(0, 2), last.slice(2)));
    const before = treeNow(w);
    const r = await w.cli(['resume', '--run', run, '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ error: { code: 'RESUME_INVALID', details: { missing: 'checkpoint', checkpoint: last } } });
    expect(treeNow(w)).toBe(before);
    expect((getRun(w, run)).status).toBe('interrupted');
  });

  it('S6.5: without a terminal and without an option, resume is a usage error explaining the options', async () => {
    const w = setup();
    await interruptedPipeline(w);
    const r = await w.cli(['resume']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes.*--restart.*--from-phase.*--discard/s);
  });

  it('S6.5: on a terminal, resume shows the run and asks; R restarts from the base', async () => {
    const w = setup();
    const run = await interruptedPipeline(w);
    const base = (getRun(w, run)).base;
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'dumb', ...w.env };
    delete env.NODE_OPTIONS;
    const helper = spawn('python3', [PTY_RUN, process.execPath, CLI_ENTRY, '-C', w.dir, 'resume'], { cwd: w.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    cleanups.push(() => helper.exitCode === null && helper.kill('SIGKILL'));
    let screen = '';
    helper.stdout.on('data', (b: Buffer) => (screen += b.toString('utf8')));
    const done = new Promise<number>((resolve) => helper.on('close', (code) => resolve(code ?? -1)));
    await waitFor(() => screen.includes('[D]iscard') || helper.exitCode !== null, 'the question on the terminal', 30_000);
    expect(screen).toContain(`Run ${run} 'pipe' interrupted (shutdown) at `);
    expect(screen).toContain('phase 2/3 (b)');
    expect(screen).toContain('Completed steps: sa, sb');
    expect(screen).toContain('[C]ontinue / [R]estart / [S]tart from a phase / [D]iscard');
    helper.stdin.write('r\r');
    expect(await done).toBe(0);
    expect(screen).toContain('running again (restart)');
    expect(treeNow(w)).toBe(treeOf(w, base));
    expect((getRun(w, run)).status).toBe('running');
  });

  it('S6.6: run --resume resumes the newest resumable run and runs CMD with SHADOW_RUN_ID and SHADOW_RESUME_PHASE', async () => {
    const w = setup();
    const run = await interruptedPipeline(w);
    const { dir: out, cleanup } = makeTempDir('shadow-resume-out-');
    cleanups.push(cleanup);
    const file = join(out, 'env.txt');
    const r = await w.cli(['run', '--resume', '--json', '--', 'sh', '-c', `echo "$SHADOW_RUN_ID $SHADOW_RESUME_PHASE" > '${file}'`]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ run, status: 'completed', exitCode: 0 });
    expect(readFileSync(file, 'utf8')).toBe(`${run} b\n`);
  });
});

