/**
 * The fault points of the fault-injection harness (issue #5, S2.5): parsing of
 * SHADOW_FAULT_KILL_AT, and a real SIGKILL at the n-th hit of the named point, nowhere else.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseFaultSpec } from '../../daemon/faultPoint.js';
import { waitFor } from '../helpers/waitFor.js';

const BUILT = fileURLToPath(new URL('../../dist/daemon/faultPoint.js', import.meta.url));

/** Runs a node process that reaches `a`, `b`, `a`, `a` and prints each point before reaching it. */
function run(spec: string | undefined): { out: string; signal: NodeJS.Signals | null } {
  const script = `const { faultPoint } = await import(${JSON.stringify(BUILT)}); for (const p of ['a', 'b', 'a', 'a']) { process.stdout.write(p); faultPoint(p); }`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  if (spec === undefined) delete env.SHADOW_FAULT_KILL_AT;
  else env.SHADOW_FAULT_KILL_AT = spec;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  return { out: r.stdout, signal: r.signal };
}

describe('faultPoint (S2.5 fault injection)', () => {
  it('S2.5 parses name and name#n; anything else disables fault points', () => {
    expect(parseFaultSpec('ref.locked')).toEqual({ name: 'ref.locked', nth: 1 });
    expect(parseFaultSpec('restore.apply-step#42')).toEqual({ name: 'restore.apply-step', nth: 42 });
    for (const bad of [undefined, '', '#3', 'a#0', 'a#x', 'a b']) expect(parseFaultSpec(bad)).toBeNull();
  });

  it('S2.5 dies by SIGKILL at the n-th hit of the named point only', () => {
    expect(run(undefined)).toEqual({ out: 'abaa', signal: null });
    expect(run('a')).toEqual({ out: 'a', signal: 'SIGKILL' });
    expect(run('a#2')).toEqual({ out: 'aba', signal: 'SIGKILL' });
    expect(run('b')).toEqual({ out: 'ab', signal: 'SIGKILL' });
    expect(run('c')).toEqual({ out: 'abaa', signal: null });
  });

  it('#10.4 SHADOW_FAULT_PAUSE_AT blocks the process at the n-th hit until the pause file is removed (S1.1a)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shadow-pause-'));
    try {
      const file = join(dir, 'paused');
      const script = `const { faultPoint } = await import(${JSON.stringify(BUILT)}); for (const p of ['a', 'b', 'a', 'a']) { process.stdout.write(p); faultPoint(p); }`;
      const env: NodeJS.ProcessEnv = { ...process.env, SHADOW_FAULT_PAUSE_AT: 'a#2', SHADOW_FAULT_PAUSE_FILE: file };
      delete env.NODE_OPTIONS;
      delete env.SHADOW_FAULT_KILL_AT;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      await waitFor(() => existsSync(file), 'the pause file', 20_000);
      await waitFor(() => out === 'aba', 'the output before the pause', 20_000);
      // Still paused: the file stays, nothing more is printed until it goes.
      expect(child.exitCode).toBeNull();
      unlinkSync(file);
      expect(await exited).toBe(0);
      expect(out).toBe('abaa');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
