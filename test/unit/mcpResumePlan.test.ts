/** The MCP resume plan (S6.3) computed from a run's detail: phases done and left, next, progress. */
import { describe, expect, it } from 'vitest';
import type { RunDetail } from '../../client/mcp/resumePlan.js';
import { resumePlan } from '../../client/mcp/resumePlan.js';

const BASE = 'b'.repeat(40);
const LAST = 'c'.repeat(40);

/** A run detail with the fields the plan reads; the rest are filler. */
function run(over: Partial<RunDetail>): RunDetail {
  return {
    id: 'r20250131140211-abcd', name: 'job', status: 'cancelled', phase: null, phases: [], checkpoints: 1, steps: 0, parent: null,
    startedAt: 0, deadline: null, unsafe: 0, base: BASE, lastCheckpoint: null, ref: 'refs/shadow/runs/r20250131140211-abcd',
    completedSteps: [], currentStep: null, errors: 0, children: [], pids: [], lockFiles: [], tempPaths: [], command: null,
    endedAt: 1, reason: 'timeout', trigger: 'deadline', action: 'keep_checkpoint', message: null, inconsistent: false,
    preAbort: null, report: null, resumable: true, ...over,
  };
}

describe('resumePlan (S6.3)', () => {
  it('S6.3: before the first phase nothing is done and the next phase is the first', () => {
    const p = resumePlan(run({ phases: ['a', 'b'] }));
    expect(p).toMatchObject({ completed: [], remaining: ['a', 'b'], next: 'a', checkpoint: BASE, progress: { phases: { completed: 0, total: 2 }, percent: 0 } });
  });

  it('S6.3: the interrupted phase is remaining, earlier phases completed; resumes from the last checkpoint', () => {
    const step = { name: 's1', phase: 'a', artifacts: [], at: 1, checkpoint: null };
    const p = resumePlan(run({ phases: ['a', 'b', 'c', 'd'], phase: 'b', lastCheckpoint: LAST, completedSteps: [step] }));
    expect(p).toMatchObject({ completed: ['a'], remaining: ['b', 'c', 'd'], next: 'b', checkpoint: LAST, completedSteps: ['s1'] });
    expect(p.progress).toEqual({ phases: { completed: 1, total: 4 }, steps: { completed: 1, total: null }, percent: 25 });
  });

  it('S6.3: a completed run has nothing left (100%, also without phases)', () => {
    expect(resumePlan(run({ status: 'completed', phases: ['a', 'b'], phase: 'b' }))).toMatchObject({ completed: ['a', 'b'], remaining: [], next: null, progress: { percent: 100 } });
    expect(resumePlan(run({ status: 'completed' })).progress.percent).toBe(100);
    expect(resumePlan(run({})).progress.percent).toBe(0);
  });
});
