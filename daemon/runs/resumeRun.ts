/**
 * Resuming a run (S6.2–S6.4): validate first (the run's record, the target checkpoint, every
 * recorded artifact in its tree) so that a failure moves nothing; then a journaled restore to
 * the target, which snapshots the current tree as a pre-abort commit first (findable with
 * `git log --all`, undone with `shadowctl undo`); then the run is `running` again. Discard drops
 * the run's record, report and ref (packed too) instead.
 */
import { rmSync } from 'node:fs';
import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import { ShadowError } from '../../shared/errors.js';
import type { Resume, ResumeList } from '../../shared/methods/resume.js';
import type { DecodedCommit } from '../store/commitCodec.js';
import type { FlatTree } from '../store/flatTree.js';
import { journaledRestore } from '../store/journaledRestore.js';
import type { SnapshotEngine } from '../store/snapshotEngine.js';
import { removeAbortFile } from './abortFile.js';
import type { ResumeStart } from './resumePlan.js';
import { checkMetadata, isResumable, listEntry, planOf, resumableRuns, resumeStart } from './resumePlan.js';
import type { RunManager } from './runManager.js';
import type { RunRecord } from './runRecord.js';

/** How far back along a run's ref a phase-end checkpoint is looked for. */
const MAX_WALK = 100_000;

/** run.resumable: resumable runs, newest first (S6.1). */
export function listResumable(m: RunManager): ResultOf<typeof ResumeList> {
  return { runs: resumableRuns(m.list()).map(listEntry) };
}

/** Resumes (or discards) a run; see the file comment. */
export function resumeRun(m: RunManager, p: ParsedParamsOf<typeof Resume>): Promise<ResultOf<typeof Resume>> {
  const { engine, ignore, layout, logger } = m.opts;
  return engine.exclusive(async () => {
    const run = pickRun(m, p.run);
    if (p.mode === 'discard') return discard(m, run);
    const active = m.activeTopLevel();
    if (active) {
      throw new ShadowError('RUN_ACTIVE', `Run ${active.id} (${active.name}) is ${active.status}${active.phase ? ` in phase ${active.phase}` : ''}: finish or cancel it before resuming ${run.id}`, {
        run: active.id,
        name: active.name,
        status: active.status,
        phase: active.phase,
        resuming: run.id,
      });
    }
    checkMetadata(run);
    if (p.mode === 'from_phase' && p.phase === undefined) throw new ShadowError('INVALID_PARAMS', 'run.resume: mode from_phase needs `phase`', { run: run.id, mode: p.mode });
    const start = resumeStart(run, p.mode, p.phase);
    const target = await targetOf(engine, run, p.mode, start);
    await validateTarget(engine, run, target, start);
    if (removeAbortFile(layout.workspace)) logger.info({ run: run.id }, 'stale abort file cleared at resume');
    const r = await journaledRestore(engine, ignore, {
      commit: target,
      preAbort: { subject: `before resume of run ${run.id} (${p.mode})`, meta: { kind: 'pre-abort', run: run.id, phase: run.phase, reason: `resume ${p.mode}` } },
      op: 'restore',
      run: run.id,
    });
    const now = Date.now();
    const timeout = run.deadline === null ? null : run.deadline - run.startedAt;
    Object.assign(run, {
      status: 'running',
      phase: p.mode === 'restart' ? null : start.next,
      lastCheckpoint: p.mode === 'restart' ? null : target,
      completedSteps: start.keptSteps,
      steps: start.keptSteps.length,
      currentStep: null,
      errors: 0,
      unsafe: 0,
      pids: [],
      // The deadline is re-armed with the run's original time limit, counted from now.
      deadline: timeout === null ? null : now + timeout,
      endedAt: null,
      reason: null,
      trigger: null,
      action: null,
      message: `resumed (${p.mode}) at ${new Date(now).toISOString()}`,
      inconsistent: false,
      preAbort: r.preAbort,
      resumable: false,
    } satisfies Partial<RunRecord>);
    m.reactivate(run);
    logger.info({ run: run.id, mode: p.mode, target, preAbort: r.preAbort, next: start.next, removed: r.removed.length, restored: r.restored.length }, 'run resumed');
    return { run: run.id, mode: p.mode, status: run.status, plan: planOf(run, start), restoredTo: target, preAbort: r.preAbort, deletedRefs: [] };
  });
}

/** The named run, else the newest resumable one; it must be resumable. */
function pickRun(m: RunManager, id: string | undefined): RunRecord {
  const run = id ? m.find(id) : resumableRuns(m.list())[0];
  if (!run) throw new ShadowError('RUN_NOT_FOUND', `No resumable run in ${m.opts.layout.workspace}`, { workspace: m.opts.layout.workspace, reason: 'no_resumable_run' });
  if (!isResumable(run)) {
    throw new ShadowError('RESUME_INVALID', `Run ${run.id} (${run.name}) is ${run.status}${run.parent ? ` (a child of ${run.parent})` : ''}: only a cancelled, failed or interrupted top-level run can be resumed`, {
      run: run.id,
      missing: 'resumable',
      status: run.status,
      resumable: run.resumable,
      parent: run.parent,
    });
  }
  return run;
}

/** The checkpoint a resume brings the tree to: last checkpoint, base, or the end of the phase before. */
async function targetOf(engine: SnapshotEngine, run: RunRecord, mode: string, start: ResumeStart): Promise<string> {
  if (mode === 'continue') return run.lastCheckpoint ?? run.base;
  if (mode === 'restart' || start.phaseEndOf === null) return run.base;
  const found = await findPhaseEnd(engine, run, start.phaseEndOf);
  if (!found) {
    throw new ShadowError('RESUME_INVALID', `Run ${run.id} has no phase-end checkpoint of phase ${start.phaseEndOf} on ${run.ref}: cannot start from phase ${start.next ?? ''}`, {
      run: run.id,
      missing: 'checkpoint',
      phase: start.phaseEndOf,
      ref: run.ref,
    });
  }
  return found;
}

/** The newest phase-end commit of `phase` on the run's ref (Shadow-Phase trailer), or null. */
async function findPhaseEnd(engine: SnapshotEngine, run: RunRecord, phase: string): Promise<string | null> {
  let oid = engine.refs.read(run.ref);
  for (let i = 0; oid && i < MAX_WALK; i++) {
    const c = await engine.reader.readCommit(oid).catch((err: unknown) => {
      throw invalidCheckpoint(run, oid!, err);
    });
    if (c.meta.kind === 'phase-end' && c.meta.phase === phase && c.meta.run === run.id) return oid;
    oid = c.parents[0] ?? null;
  }
  return null;
}

/** S6.2: the target reads, and every artifact of the steps kept is in its tree. */
async function validateTarget(engine: SnapshotEngine, run: RunRecord, target: string, start: ResumeStart): Promise<void> {
  let tree: FlatTree;
  let commit: DecodedCommit;
  try {
    commit = await engine.reader.readCommit(target);
    tree = await engine.reader.readFlatTree(commit.tree);
  } catch (err) {
    throw invalidCheckpoint(run, target, err);
  }
  // A checkpoint of this run says so in its trailers; one that does not is not the run's.
  const trailers = [commit.meta.kind ? null : 'Shadow-Kind', commit.meta.run === run.id ? null : 'Shadow-Run'].filter((t) => t !== null);
  if (trailers.length) {
    throw new ShadowError('RESUME_INVALID', `Run ${run.id} cannot be resumed: checkpoint ${target.slice(0, 12)} lacks its metadata (trailers ${trailers.join(', ')} missing or naming another run)`, {
      run: run.id,
      missing: 'metadata',
      fields: trailers,
      checkpoint: target,
    });
  }
  for (const step of start.keptSteps) {
    for (const artifact of step.artifacts) {
      if (tree.has(artifact) || [...tree.keys()].some((p) => p.startsWith(`${artifact}/`))) continue;
      throw new ShadowError('RESUME_INVALID', `Run ${run.id} cannot be resumed: artifact ${artifact} of step ${step.name}${step.phase ? ` (phase ${step.phase})` : ''} is not in checkpoint ${target.slice(0, 12)}`, {
        run: run.id,
        missing: 'artifact',
        artifact,
        step: step.name,
        phase: step.phase,
        checkpoint: target,
      });
    }
  }
}

/** RESUME_INVALID for a checkpoint that is missing or unreadable. */
function invalidCheckpoint(run: RunRecord, oid: string, err: unknown): ShadowError {
  const why = err instanceof Error ? err.message : String(err);
  return new ShadowError('RESUME_INVALID', `Run ${run.id} cannot be resumed: checkpoint ${oid} is missing or unreadable (${why})`, { run: run.id, missing: 'checkpoint', checkpoint: oid, cause: why }, { cause: err });
}

/** Discard (S6.4): the run's ref (loose and packed), report and record go; the tree is not touched. */
function discard(m: RunManager, run: RunRecord): ResultOf<typeof Resume> {
  const deletedRefs = m.opts.engine.refs.delete([run.ref]);
  if (run.report) rmSync(run.report, { force: true });
  m.forget(run.id);
  m.opts.logger.info({ run: run.id, deletedRefs }, 'run discarded');
  return { run: run.id, mode: 'discard', status: 'discarded', plan: null, restoredTo: null, preAbort: null, deletedRefs };
}
