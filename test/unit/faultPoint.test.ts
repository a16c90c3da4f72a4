/**
 * The fault points of the fault-injection harness (issue #5, S2.5): parsing of
 * SHADOW_FAULT_KILL_AT, and a real SIGKILL at the n-th hit of the named point, nowhere else.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseFaultSpec } from '../../daemon/faultPoint.js';

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
});
