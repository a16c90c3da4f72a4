/**
 * Fault injection (issue #5; S2.5 crash safety, S1.6 store sound beside git): ten SIGKILLs of
 * the built daemon across checkpoint, ref update, restore and cancel, through the same harness
 * as `node scripts/faults.mjs --kills 60` (scripts/faultsCore.mjs, docs/RELIABILITY.md). After
 * each kill a fresh daemon must start, `git fsck --full --strict` be clean, every checkpoint
 * recorded before the kill be readable and reachable, the next checkpoint go through, and the
 * working tree equal a recorded state (target, pre-abort or untouched), never a mixture.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, planKills, runFaults, spreadKills } from '../../scripts/faultsCore.mjs';

/**
 * Seed 7's plan: timer kills in every phase, and fault-point kills at object.temp-written,
 * ref.locked (the stale refs/shadow/*.lock that blocked every later checkpoint: the regression),
 * ref.renamed, restore.journal-written and restore.temp-written.
 */
const SEED = 7;
/** The phases seed 7's plan was drawn over (the replay phase has its own test below). */
const PHASES = ['checkpoint', 'ref', 'restore', 'cancel'];

describe('fault injection (S2.5, S1.6)', () => {
  it('S2.5 S1.6 10 SIGKILLs during checkpoint, ref update, restore and cancel: every recovery is clean', async () => {
    const plan = Object.values(planKills(SEED, spreadKills(10, PHASES))).flat();
    expect(plan.map((k) => k.point)).toEqual(expect.arrayContaining(['ref.locked', 'restore.journal-written', 'restore.temp-written']));

    const report = await runFaults({ kills: 10, seed: SEED, files: 500, phases: PHASES, log: (line) => console.log(line) });
    console.log(formatReport(report));
    expect(report.kills).toBe(10);
    expect(Object.values(report.phases).flatMap((p) => p.failures)).toEqual([]);
    const kills = Object.values(report.phases).flatMap((p) => p.list);
    // The regression: a lock left by the killed daemon no longer blocks the next checkpoint.
    const locked = kills.find((k) => k.at === 'ref.locked');
    expect(locked?.locks).toEqual(['refs/shadow/manual.lock']);
    expect(locked?.ok).toBe(true);
    // A restore killed after its journal was written is completed by the next daemon.
    expect(kills.filter((k) => k.journal && k.outcome === 'target').length).toBeGreaterThan(0);
  }, 240_000);

  it('#10.3 S1.1a 4 SIGKILLs of a cancel (before its verifying rescan, mid-restore, between temp file and rename), user writes before the restart, maybe a killed replay: nothing written after the crash is lost', async () => {
    // Seed 4's plan: one timer kill, then fault points restore.before-verify, restore.apply-step, restore.temp-written.
    const plan = (planKills(4, { replay: 4 }).replay ?? []).map((k) => k.point);
    expect(plan).toEqual([null, 'restore.before-verify', 'restore.apply-step', 'restore.temp-written']);
    const report = await runFaults({ kills: 4, seed: 4, files: 200, phases: ['replay'], log: (line) => console.log(line) });
    console.log(formatReport(report));
    expect(report.kills).toBe(4);
    // Each check: the tree is the target with every later write as written (or untouched when no
    // journal was left), and a pre-abort commit holds the tree each replay found.
    const replay = report.phases.replay;
    expect(replay?.failures).toEqual([]);
    expect((replay?.list ?? []).filter((k) => k.journal && k.outcome === 'target').length).toBeGreaterThan(0);
  }, 300_000);
});
