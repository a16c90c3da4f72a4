/**
 * The pure parts of runs and cancellation: ids, the abort file's syntax (S5.1), final statuses
 * (S4.4), the review marker (S5.3), the termination of processes (S4.5) and the journal (S2.5).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAbortFile } from '../../daemon/runs/abortFile.js';
import { changedPaths, reviewMarkerText } from '../../daemon/runs/reviewMarker.js';
import { isRunId, newRunId } from '../../daemon/runs/runId.js';
import type { RunRecord } from '../../daemon/runs/runRecord.js';
import { finalStatusFor, phasePosition } from '../../daemon/runs/runRecord.js';
import { isAlive } from '../../daemon/processAlive.js';
import { terminateProcesses } from '../../daemon/runs/terminateProcesses.js';
import { readJournal, setJournalAside } from '../../daemon/store/journaledRestore.js';
import { makeTempDir } from '../helpers/tempDir.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('run ids', () => {
  it('are r + UTC yyyymmddHHMMSS + 4 hex, and sort by start time', () => {
    const id = newRunId(new Date(Date.UTC(2025, 0, 31, 14, 2, 11)));
    expect(id).toMatch(/^r20250131140211-[0-9a-f]{4}$/);
    expect(isRunId(id)).toBe(true);
    expect(isRunId('../etc/passwd')).toBe(false);
    expect(newRunId(new Date(Date.UTC(2025, 0, 31, 14, 2, 12))) > id).toBe(true);
  });
});

describe('abort file (S5.1)', () => {
  it('a first line naming a reason sets it; the content is the message; else user_cancel', () => {
    expect(parseAbortFile('timeout\nstuck for 10 minutes\n')).toEqual({ reason: 'timeout', message: 'timeout\nstuck for 10 minutes' });
    expect(parseAbortFile('reason: quality_failure\n')).toEqual({ reason: 'quality_failure', message: 'reason: quality_failure' });
    expect(parseAbortFile('please stop\n')).toEqual({ reason: 'user_cancel', message: 'please stop' });
    expect(parseAbortFile('')).toEqual({ reason: 'user_cancel', message: null });
    expect(parseAbortFile('TIMEOUT')).toMatchObject({ reason: 'timeout' });
    expect(parseAbortFile('not_a_reason')).toMatchObject({ reason: 'user_cancel' });
  });
});

describe('statuses (S4.4)', () => {
  it('error → failed, shutdown → interrupted, anything else → cancelled', () => {
    expect(finalStatusFor('error')).toBe('failed');
    expect(finalStatusFor('shutdown')).toBe('interrupted');
    for (const r of ['user_cancel', 'quality_failure', 'timeout', 'dependency_missing']) expect(finalStatusFor(r)).toBe('cancelled');
  });
});

describe('review marker (S5.3)', () => {
  it('lists every changed path with its status letter, and the reason', () => {
    const run = { id: 'r20250131140211-abcd', name: 'agent', base: 'b'.repeat(40), phase: 'build', phases: ['fetch', 'build'] } as RunRecord;
    const diff = { added: ['new.ts'], modified: ['a.ts'], deleted: ['gone.ts'], modeChanged: ['run.sh'] };
    expect(changedPaths(diff).map((c) => `${c.status} ${c.path}`)).toEqual(['M a.ts', 'D gone.ts', 'A new.ts', 'T run.sh']);
    const text = reviewMarkerText(run, 'quality_failure', 'coverage 61% < 80%', diff, new Date(0));
    expect(text).toContain('reason: quality_failure');
    expect(text).toContain('message: coverage 61% < 80%');
    expect(text.trimEnd().split('\n').slice(-4)).toEqual(['M a.ts', 'D gone.ts', 'A new.ts', 'T run.sh']);
    expect(phasePosition(run)).toEqual({ index: 2, total: 2 });
  });
});

describe('terminateProcesses (S4.5)', () => {
  it('SIGTERMs a process group, then SIGKILLs what ignores it; gone processes are skipped', async () => {
    const polite = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    const stubborn = spawn('sh', ['-c', 'trap "" TERM; echo ready; sleep 1000 & wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    cleanups.push(() => {
      polite.kill('SIGKILL');
      stubborn.kill('SIGKILL');
    });
    // A SIGTERM that lands before the shell has run its `trap` ends it (a loaded machine showed it).
    await new Promise<void>((resolve, reject) => {
      stubborn.stdout?.once('data', () => resolve());
      stubborn.once('exit', () => reject(new Error('the stubborn shell exited before its trap')));
    });
    const pids = [polite.pid as number, stubborn.pid as number, 999_999_999];
    const r = await terminateProcesses(pids, 300);
    expect(r.terminated).toEqual([polite.pid, stubborn.pid]);
    expect(r.killed).toEqual([stubborn.pid]);
    await new Promise((resolve) => stubborn.once('exit', resolve));
    expect(isAlive(stubborn.pid as number)).toBe(false);
  });
});

describe('journal (S2.5)', () => {
  it('reads a pending journal, and sets an unusable one aside', () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    expect(readJournal(dir)).toBeNull();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'journal.json'), JSON.stringify({ op: 'cancel', run: 'r1', target: 'a'.repeat(40), preAbort: 'b'.repeat(40), paths: null, startedAt: 'x' }));
    expect(readJournal(dir)).toMatchObject({ op: 'cancel', run: 'r1', target: 'a'.repeat(40) });
    writeFileSync(join(dir, 'journal.json'), '{"target":"nope"}');
    expect(() => readJournal(dir)).toThrow(expect.objectContaining({ code: 'STATE_CORRUPT' }));
    expect(setJournalAside(dir)).toMatch(/journal\.failed-\d+\.json$/);
    expect(readJournal(dir)).toBeNull();
  });
});
