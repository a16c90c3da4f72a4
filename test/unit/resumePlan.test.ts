/** The pure rules of resuming (S6.1–S6.3): resumability, progress, where each mode starts, metadata checks. */
import { describe, expect, it } from 'vitest';
import { checkMetadata, isResumable, listEntry, resumableRuns, resumeStart } from '../../daemon/runs/resumePlan.js';
import type { RunRecord } from '../../daemon/runs/runRecord.js';
import { isShadowError } from '../../shared/errors.js';

const OID = 'a'.repeat(40);

/** A run stopped in phase b of a, b, c with one step per phase so far. */
function stopped(over: Partial<RunRecord> = {}): RunRecord {
  const id = over.id ?? 'r20260101000000-0001';
  return {
    id, name: 'pipe', status: 'interrupted', phase: 'b', phases: ['a', 'b', 'c'], checkpoints: 4, steps: 2, parent: null, startedAt: 1000, deadline: null, unsafe: 0,
    base: OID, lastCheckpoint: 'b'.repeat(40), ref: `refs/shadow/runs/${id}`,
    completedSteps: [
      { name: 'sa', phase: 'a', artifacts: ['a.txt'], at: 1, checkpoint: OID },
      { name: 'sb', phase: 'b', artifacts: ['b.txt'], at: 2, checkpoint: OID },
    ],
    currentStep: null, errors: 0, children: [], pids: [], lockFiles: [], tempPaths: [], command: null, endedAt: 2000, reason: 'shutdown', trigger: 'request',
    action: 'keep_checkpoint', message: null, inconsistent: false, preAbort: null, report: null, resumable: true,
    ...over,
  };
}

/** The error code `fn` throws. */
function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return isShadowError(err) ? err.code : 'not a ShadowError';
  }
}

describe('resume plan (S6)', () => {
  it('S6.1: only ended, resumable, top-level runs are listed, newest first, with progress', () => {
    const runs = [stopped({ id: 'r1', startedAt: 1 }), stopped({ id: 'r2', startedAt: 3 }), stopped({ id: 'r3', startedAt: 5, status: 'completed', resumable: false }), stopped({ id: 'r4', status: 'running' }), stopped({ id: 'r5', parent: 'r1', startedAt: 9 })];
    expect(resumableRuns(runs).map((r) => r.id)).toEqual(['r2', 'r1']);
    expect(isResumable(stopped({ status: 'cancelling' }))).toBe(false);
    expect(listEntry(stopped()).progress).toEqual({ phases: { completed: 1, total: 3 }, steps: { completed: 2, total: null }, percent: 33 });
  });

  it('S6.3/S6.4: continue keeps every step; restart none; from_phase the steps of the phases before', () => {
    expect(resumeStart(stopped(), 'continue', undefined)).toMatchObject({ next: 'b', completed: ['a'], remaining: ['b', 'c'], phaseEndOf: null });
    expect(resumeStart(stopped(), 'continue', undefined).keptSteps.map((s) => s.name)).toEqual(['sa', 'sb']);
    expect(resumeStart(stopped(), 'restart', undefined)).toMatchObject({ next: 'a', completed: [], keptSteps: [], phaseEndOf: null });
    const fromC = resumeStart(stopped(), 'from_phase', 'c');
    expect(fromC).toMatchObject({ next: 'c', completed: ['a', 'b'], remaining: ['c'], phaseEndOf: 'b' });
    expect(resumeStart(stopped(), 'from_phase', 'b').keptSteps.map((s) => s.name)).toEqual(['sa']);
    expect(resumeStart(stopped(), 'from_phase', 'a')).toMatchObject({ phaseEndOf: null, keptSteps: [] });
    expect(codeOf(() => resumeStart(stopped(), 'from_phase', 'z'))).toBe('INVALID_PARAMS');
  });

  it('S6.2: an incomplete record is RESUME_INVALID', () => {
    expect(codeOf(() => checkMetadata(stopped()))).toBeNull();
    expect(codeOf(() => checkMetadata(stopped({ base: '' })))).toBe('RESUME_INVALID');
    expect(codeOf(() => checkMetadata(stopped({ ref: 'refs/shadow/manual' })))).toBe('RESUME_INVALID');
    expect(codeOf(() => checkMetadata({ ...stopped(), completedSteps: undefined } as unknown as RunRecord))).toBe('RESUME_INVALID');
  });
});
