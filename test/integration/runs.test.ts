/**
 * Runs end to end through the typed client (S4): start with a base checkpoint, phases with
 * phase-end checkpoints, steps, checkpoints on the run's ref, finish; one active top-level run;
 * errors with context; records that survive a daemon restart. Native git is the oracle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpoint, RunFinish, RunGet, RunPhase, RunRegister, RunStart, RunStep, RunUnsafe, Status, Cancel } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient, rejection } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace , writeIn } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let ws: TestWorkspace;
let client: ShadowClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
});

const write = (rel: string, content: string): void => writeIn(ws, rel, content);

/** Shadow trailers of every commit on a ref, newest first, read by native git. */
function trailers(ref: string, key: string): string[] {
  // Each line starts with '|' so that empty values survive the output's trimming.
  return gitIn(ws, ['log', '--format=|%(trailers:key=' + key + ',valueonly,separator=%x2C)', ref]).split('\n').map((l) => l.slice(1).trim());
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runs (S4)', () => {
  it('S4.2, S4.3, S1.5: start, phase, step, checkpoint and finish write trailered commits on the run ref', async () => {
    ws = makeTestWorkspace({ git: true });
    write('src/a.txt', 'a\n');
    client = await connectClient(ws);
    const s = await client.request(RunStart, { name: 'build', phases: ['gen', 'test'] });
    expect(s.run).toMatch(/^r\d{14}-[0-9a-f]{4}$/);
    expect(s.ref).toBe(`refs/shadow/runs/${s.run}`);
    expect(gitIn(ws, ['rev-parse', `${s.base}^{tree}`])).toBe(nativeTree(ws.dir, { repo: true, env: ws.env }));

    const st = await client.request(Status, {});
    expect(st.run).toMatchObject({ id: s.run, name: 'build', status: 'running', phase: null, phases: ['gen', 'test'], checkpoints: 1, steps: 0, unsafe: 0 });

    expect(await client.request(RunPhase, { name: 'gen' })).toEqual({ run: s.run, phase: 'gen', index: 1, total: 2, checkpoint: null });
    write('out/gen.txt', 'generated\n');
    const step = await client.request(RunStep, { name: 'generate', artifacts: ['./out/gen.txt'] });
    expect(step).toEqual({ run: s.run, step: 'generate', artifacts: ['out/gen.txt'], steps: 1 });
    const ph = await client.request(RunPhase, { name: 'test' });
    expect(ph).toMatchObject({ phase: 'test', index: 2, total: 2 });
    expect(ph.checkpoint).toMatch(/^[0-9a-f]{40}$/);
    write('out/test.txt', 'tested\n');
    const cp = await client.request(Checkpoint, { message: 'mid test' });
    expect(cp).toMatchObject({ run: s.run, ref: s.ref });
    expect(cp.tree).toBe(nativeTree(ws.dir, { repo: true, env: ws.env }));

    // S5.11: an unknown phase names the declared ones.
    const bad = await rejection(client.request(RunPhase, { name: 'deploy' }));
    expect(bad.code).toBe('INVALID_PARAMS');
    expect(bad.details).toMatchObject({ run: s.run, phase: 'test', requested: 'deploy', phases: ['gen', 'test'] });

    const fin = await client.request(RunFinish, {});
    expect(fin).toMatchObject({ run: s.run, status: 'completed' });
    expect(gitIn(ws, ['rev-parse', s.ref])).toBe(fin.final);
    expect(trailers(s.ref, 'Shadow-Kind')).toEqual(['final', 'checkpoint', 'phase-end', 'checkpoint', 'base']);
    expect(trailers(s.ref, 'Shadow-Run')).toEqual(Array(5).fill(s.run));
    expect(trailers(s.ref, 'Shadow-Phase')).toEqual(['test', 'test', 'gen', 'gen', '']);
    expect(trailers(s.ref, 'Shadow-Step')[3]).toBe('generate');

    expect((await client.request(Status, {})).run).toBeNull();
    const detail = (await client.request(RunGet, { run: s.run })).run;
    expect(detail).toMatchObject({ status: 'completed', resumable: false, steps: 1, checkpoints: 5, lastCheckpoint: fin.final, base: s.base });
    expect(detail.completedSteps[0]).toMatchObject({ name: 'generate', phase: 'gen', artifacts: ['out/gen.txt'] });
    // The user's own refs are untouched (S1.2).
    expect(gitIn(ws, ['for-each-ref', '--format=%(refname)', 'refs/heads', 'refs/tags'])).toBe('refs/heads/main');
  });

  it('S4.2: RUN_ACTIVE names the active run; a child may start under it; after the end a new run starts', async () => {
    ws = makeTestWorkspace({ git: false });
    client = await connectClient(ws);
    const a = await client.request(RunStart, { name: 'first' });
    const err = await rejection(client.request(RunStart, { name: 'second' }));
    expect(err.code).toBe('RUN_ACTIVE');
    expect(err.details).toMatchObject({ run: a.run, name: 'first', status: 'running' });
    expect(err.message).toContain(a.run);
    const child = await client.request(RunStart, { name: 'child', parent: a.run });
    expect((await client.request(RunGet, { run: a.run })).run.children).toEqual([child.run]);
    expect((await client.request(Status, {})).run?.id).toBe(a.run);
    await client.request(RunFinish, { run: child.run });
    await client.request(RunFinish, {});
    const b = await client.request(RunStart, { name: 'second' });
    expect(b.run).not.toBe(a.run);
    expect((await client.request(Status, {})).run?.id).toBe(b.run);
  });

  it('S5.10, S5.11: no active run, unknown run, finished run: distinct codes with context', async () => {
    ws = makeTestWorkspace({ git: false });
    client = await connectClient(ws);
    const none = await rejection(client.request(Cancel, {}));
    expect(none.code).toBe('NO_ACTIVE_RUN');
    expect(none.details.reason).toBe('no_active_run');
    expect((await rejection(client.request(RunStep, { name: 'x' }))).code).toBe('NO_ACTIVE_RUN');
    expect((await rejection(client.request(RunGet, { run: 'r20990101000000-abcd' }))).code).toBe('RUN_NOT_FOUND');
    const r = await client.request(RunStart, {});
    await client.request(RunFinish, {});
    const done = await rejection(client.request(RunPhase, { run: r.run, name: 'p' }));
    expect(done.code).toBe('RUN_NOT_RUNNING');
    expect(done.details).toMatchObject({ run: r.run, status: 'completed' });
    expect((await rejection(client.request(Cancel, { run: r.run }))).code).toBe('RUN_NOT_RUNNING');
    // Closing an unsafe section that is not open, registering outside the workspace: refused.
    await client.request(RunStart, {});
    expect((await rejection(client.request(RunUnsafe, { section: 'end' }))).code).toBe('INVALID_PARAMS');
    expect((await rejection(client.request(RunRegister, { tempPaths: ['../outside'] }))).code).toBe('PATH_INVALID');
    expect((await rejection(client.request(RunRegister, { tempPaths: ['.shadow'] }))).code).toBe('PATH_INVALID');
  });

  it('S4.4: statuses, reasons and checkpoints survive a restart; a run alive at a crash ends interrupted, resumable', async () => {
    ws = makeTestWorkspace({ git: true });
    write('keep.txt', 'k\n');
    client = await connectClient(ws);
    const a = await client.request(RunStart, { name: 'a' });
    write('a-work.txt', 'partial\n');
    const ca = await client.request(Cancel, { reason: 'timeout' });
    expect(ca).toMatchObject({ status: 'cancelled', action: 'keep_checkpoint' });
    const before = (await client.request(RunGet, { run: a.run })).run;
    const b = await client.request(RunStart, { name: 'b', phases: ['one'] });
    await client.request(RunPhase, { name: 'one' });
    const pid = client.hello.pid;
    client.close();
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid), 'the daemon to die');

    client = await connectClient(ws);
    expect(client.hello.pid).not.toBe(pid);
    expect((await client.request(RunGet, { run: a.run })).run).toEqual(before);
    const rb = (await client.request(RunGet, { run: b.run })).run;
    expect(rb).toMatchObject({ status: 'interrupted', resumable: true, phase: 'one', base: b.base, reason: 'shutdown' });
    expect((await client.request(Status, {})).run).toBeNull();
    // A new run starts normally after the restart.
    await client.request(RunStart, { name: 'c' });
  });
});
