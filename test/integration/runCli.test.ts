/**
 * `shadowctl run` end to end against the real daemon (S4, S5.1–S5.4, S7 exit codes): completion,
 * a failing command rolled back with its exit code passed through, Ctrl+C back to the run's base
 * (the user's uncommitted work from before the run intact), SIGTERM interrupted and resumable,
 * and the deadline. Native git is the oracle for "the tree is back to the base".
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTree } from '../helpers/gitOracle.js';
import { isAlive, spawnCli } from '../helpers/spawnCli.js';
import type { RunningCli } from '../helpers/spawnCli.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { makeTestWorkspace } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let ws: TestWorkspace;
let running: RunningCli | null = null;

afterEach(async () => {
  if (running?.child.pid && isAlive(running.child.pid)) process.kill(-running.child.pid, 'SIGKILL');
  running = null;
  await ws?.cleanup();
});

/** A repository with committed files and uncommitted work of the user's own, made before any run. */
function setup(): string {
  ws = makeTestWorkspace({ git: true });
  writeFileSync(join(ws.dir, 'notes.txt'), 'my uncommitted notes\n');
  return nativeTree(ws.dir, { repo: true, env: ws.env });
}

/** Starts `shadowctl -C ws run ...` in its own process group, as a shell runs a foreground job. */
function startRun(args: string[]): RunningCli {
  running = spawnCli(['-C', ws.dir, 'run', '--json', ...args], { cwd: ws.dir, env: ws.env, detached: true });
  return running;
}

/** The pid the command wrote to `file` once it is running. */
async function commandPid(file: string): Promise<number> {
  return waitFor(() => (existsSync(join(ws.dir, file)) ? Number(readFileSync(join(ws.dir, file), 'utf8').trim()) || 0 : 0), `the command wrote ${file}`, 30_000);
}

describe('shadowctl run end to end (S4, S5.1, S7)', () => {
  it('S6.6/S7: exit 0 completes the run with SHADOW_RUN_ID set; the changes stay', async () => {
    setup();
    const r = await ws.cli(['run', '--name', 'gen', '--json', '--', 'sh', '-c', 'echo "$SHADOW_RUN_ID" > id.txt; echo made > made.txt']);
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ status: 'completed', exitCode: 0, cancel: null });
    expect(readFileSync(join(ws.dir, 'id.txt'), 'utf8').trim()).toBe(out.run);
    expect(readFileSync(join(ws.dir, 'made.txt'), 'utf8')).toBe('made\n');
    expect(r.stderr).toContain(`run ${out.run} completed`);
    const again = await ws.cli(['run', '--', 'true']); // after a run ends, a new one starts normally (S4.2)
    expect(again.code).toBe(0);
  });

  it('S5.2/S7: a failing command is rolled back to the base and its exit code passed through', async () => {
    const before = setup();
    const r = await ws.cli(['run', '--json', '--', 'sh', '-c', 'echo junk > junk.txt; echo changed >> notes.txt; exit 3']);
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ reason: 'error', trigger: 'command_failed', action: 'rollback', exitCode: 3 });
    expect(nativeTree(ws.dir, { repo: true, env: ws.env })).toBe(before);
    expect(readFileSync(join(ws.dir, 'notes.txt'), 'utf8')).toBe('my uncommitted notes\n');
  });

  it('S5.1/S5.3: Ctrl+C → user_cancel, remove_all: the tree is back to the base, exit 130', async () => {
    const before = setup();
    const p = startRun(['--', 'sh', '-c', 'echo partial > partial.txt; echo more >> notes.txt; echo $$ > pid.txt; exec sleep 30']);
    const pid = await commandPid('pid.txt');
    process.kill(-p.child.pid!, 'SIGINT'); // the terminal's Ctrl+C: SIGINT to the foreground group
    const r = await p.done;
    expect(r.code).toBe(130);
    expect(r.json()).toMatchObject({ status: 'cancelled', reason: 'user_cancel', trigger: 'ctrl_c', action: 'remove_all', exitCode: 130 });
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(ws.dir, 'partial.txt'))).toBe(false);
    expect(readFileSync(join(ws.dir, 'notes.txt'), 'utf8')).toBe('my uncommitted notes\n'); // not back to HEAD
    expect(nativeTree(ws.dir, { repo: true, env: ws.env })).toBe(before);
    // S5.4: the pre-abort snapshot brings the cancelled work back.
    expect((await ws.cli(['undo'])).code).toBe(0);
    expect(readFileSync(join(ws.dir, 'partial.txt'), 'utf8')).toBe('partial\n');
  });

  it('S5.1/S4.4: SIGTERM to shadowctl run → shutdown, keep_checkpoint: files kept, run resumable, exit 143', async () => {
    setup();
    const p = startRun(['--', 'sh', '-c', 'echo partial > partial.txt; echo $$ > pid.txt; exec sleep 30']);
    const pid = await commandPid('pid.txt');
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code).toBe(143);
    expect(r.json()).toMatchObject({ reason: 'shutdown', trigger: 'sigterm', action: 'keep_checkpoint', resumable: true, exitCode: 143 });
    expect(['interrupted', 'cancelled']).toContain(r.json().status);
    expect(isAlive(pid)).toBe(false);
    expect(readFileSync(join(ws.dir, 'partial.txt'), 'utf8')).toBe('partial\n');
  });

  it('S5.1: past --timeout the daemon stops the command, keeps a checkpoint, exit 124', async () => {
    setup();
    const r = await ws.cli(['run', '--timeout', '1s', '--json', '--', 'sleep', '30'], { timeoutMs: 30_000 });
    expect(r.code).toBe(124);
    expect(r.json()).toMatchObject({ reason: 'timeout', trigger: 'deadline', action: 'keep_checkpoint', resumable: true, exitCode: 124 });
  });
});
