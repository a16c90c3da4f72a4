/**
 * The cancel pipeline (S5), in order: resolve the run → choose the action → `cancelling` → wait
 * for a safe point → cancel running children → terminate processes → act on the tree (journaled
 * restore after a pre-abort commit, review marker, or final checkpoint) → clean up → report →
 * cancellation log → final status. A dry run computes the same plan and changes nothing (S5.12).
 */
import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import { ShadowError, toShadowError } from '../../shared/errors.js';
import type { Cancel } from '../../shared/methods/index.js';
import type { CancelAction } from '../../shared/runModel.js';
import { diffFlatTrees } from '../store/diffFlatTrees.js';
import { journaledRestore, planRestoreTo } from '../store/journaledRestore.js';
import { cancelReportText, writeCancelReport } from './cancelReport.js';
import { cleanupResources } from './cleanupResources.js';
import { changedPaths, reviewMarkerText, writeReviewMarker } from './reviewMarker.js';
import type { RunManager } from './runManager.js';
import type { RunRecord } from './runRecord.js';
import { finalStatusFor, isActive, phasePosition, resumeCommand } from './runRecord.js';
import { isAlive, terminateProcesses } from './terminateProcesses.js';

/** A cancel as the handler passes it, plus the process grace period (shorter at shutdown). */
export type CancelRequest = ParsedParamsOf<typeof Cancel> & { graceMs?: number };
/** The answer to a cancel. */
export type CancelResult = ResultOf<typeof Cancel>;

/** What the tree action did (or, for a dry run, would do). */
interface TreeOutcome {
  removed: string[];
  restored: string[];
  preservedReasons: Record<string, string>;
  preAbort: string | null;
  restoredTo: string | null;
}

/** Runs `run` and its active descendants, children first. */
function descendants(m: RunManager, run: RunRecord): RunRecord[] {
  return m.activeChildren(run.id).flatMap((c) => [...descendants(m, c), c]);
}

/** Cancels a run; joins a cancel already in progress for it (a second request may force it). */
export async function cancelRun(m: RunManager, req: CancelRequest): Promise<CancelResult> {
  const run = req.run ? m.find(req.run) : m.activeTopLevel();
  if (!run) throw new ShadowError('NO_ACTIVE_RUN', 'No active run to cancel', { reason: 'no_active_run' });
  const running = m.inflight.get(run.id);
  if (running && !req.dryRun) {
    if (req.force) running.force();
    return running.promise;
  }
  if (!isActive(run)) {
    throw new ShadowError('RUN_NOT_RUNNING', `Run ${run.id} (${run.name}) is already ${run.status}${run.reason ? ` (reason ${run.reason})` : ''}: nothing to cancel`, {
      run: run.id,
      status: run.status,
      reason: run.reason,
      phase: run.phase,
    });
  }
  const action = req.action ?? m.opts.config.policies[req.reason];
  if (req.dryRun) return dryRun(m, run, req, action);
  let forced = req.force;
  const promise = execute(m, run, req, action, () => forced);
  m.inflight.set(run.id, {
    promise,
    force: () => {
      forced = true;
      m.notifyUnsafe();
    },
  });
  try {
    return await promise;
  } finally {
    m.inflight.delete(run.id);
  }
}

/** The plan of a cancel, with nothing changed (S5.12). */
async function dryRun(m: RunManager, run: RunRecord, req: CancelRequest, action: CancelAction): Promise<CancelResult> {
  const { engine, ignore } = m.opts;
  const children = descendants(m, run);
  const processes = [...children, run].flatMap((r) => r.pids).filter(isAlive);
  const target = targetOf(run, action);
  const tree = await engine.exclusive(async (): Promise<TreeOutcome> => {
    if (target) {
      const { plan } = await planRestoreTo(engine, ignore, target);
      const why = Object.fromEntries(plan.preserved.map((p) => [p.path, p.reason]));
      return { removed: plan.remove, restored: plan.write.map((w) => w.path), preservedReasons: why, preAbort: null, restoredTo: target };
    }
    return { removed: [], restored: [], preservedReasons: await keptPaths(m, run, action), preAbort: null, restoredTo: null };
  });
  return result(run, req, action, tree, { status: run.status, report: null, cancelled: [...children.map((c) => c.id), run.id], processes, inconsistent: req.force && m.openUnsafe(run) > 0, dryRun: true });
}

/** The checkpoint a destructive action brings the tree to, or null for the keep actions. */
function targetOf(run: RunRecord, action: CancelAction): string | null {
  if (action === 'remove_all') return run.base;
  if (action === 'rollback') return run.lastCheckpoint ?? run.base;
  return null;
}

/** Paths the run changed since its base (what a keep action leaves in place), with why. Inside `exclusive`. */
async function keptPaths(m: RunManager, run: RunRecord, action: CancelAction): Promise<Record<string, string>> {
  const { engine } = m.opts;
  await engine.refresh();
  const base = await engine.reader.readFlatTree((await engine.reader.readCommit(run.base)).tree);
  const diff = diffFlatTrees(base, engine.index.flat());
  const why = action === 'keep_for_review' ? 'kept for review' : 'kept (keep_checkpoint)';
  return Object.fromEntries(changedPaths(diff).filter((c) => c.status !== 'D').map((c) => [c.path, why]));
}

/** The whole pipeline for one run; `asChild` when its parent is being cancelled (the parent acts on the tree). */
async function execute(m: RunManager, run: RunRecord, req: CancelRequest, action: CancelAction, forced: () => boolean, asChild = false): Promise<CancelResult> {
  const { config, logger, emit, engine, layout } = m.opts;
  const started = Date.now();
  Object.assign(run, { status: 'cancelling', reason: req.reason, trigger: req.trigger, action, message: req.message ?? run.message });
  m.save(run);
  emit('cancel', { run: run.id, stage: 'cancelling', reason: req.reason, trigger: req.trigger, action });
  try {
    // Safe point (S5.5): an unsafe section is let finish, up to safePointTimeout; forcing marks the run.
    if (m.openUnsafe(run) > 0) {
      const safe = forced() ? false : await m.waitForSafePoint(run, config.safePointTimeout, forced);
      if (!safe) {
        run.inconsistent = true;
        logger.warn({ run: run.id, unsafe: m.openUnsafe(run), forced: forced(), safePointTimeout: config.safePointTimeout }, 'cancel forced inside an unsafe section: run marked inconsistent');
      }
    }
    const cancelled: string[] = [];
    const processes: number[] = [];
    for (const child of m.activeChildren(run.id)) {
      const childReq: CancelRequest = { ...req, run: child.id, trigger: 'parent', force: true, dryRun: false, message: `parent run ${run.id} cancelled (${req.reason})` };
      const r = await execute(m, child, childReq, 'keep_checkpoint', () => true, true);
      cancelled.push(...r.cancelled);
      processes.push(...r.processes);
    }
    const terminated = await terminateProcesses(run.pids, req.graceMs ?? config.gracefulShutdownTimeout);
    processes.push(...terminated.terminated);
    if (terminated.killed.length) logger.warn({ run: run.id, killed: terminated.killed }, 'processes needed SIGKILL');

    const tree = await engine.exclusive(() => treeAction(m, run, req, action, asChild));
    const cleanup = cleanupResources(layout.workspace, run.lockFiles, run.tempPaths, config.autoCleanTemp);
    for (const f of cleanup.failed) logger.warn({ run: run.id, path: f.path, reason: f.reason }, 'cleanup left a path');

    Object.assign(run, { status: finalStatusFor(req.reason), endedAt: Date.now(), resumable: true, unsafe: 0, preAbort: tree.preAbort ?? run.preAbort });
    cancelled.push(run.id);
    const resume = resumeCommand(run.id);
    const facts = { ...tree, preserved: Object.keys(tree.preservedReasons).sort(), time: new Date(), reason: req.reason, trigger: req.trigger, action, message: run.message, cancelled, processes, tempPaths: cleanup.tempPaths, lockFiles: cleanup.lockFiles, inconsistent: run.inconsistent, resume };
    run.report = writeCancelReport(layout.stateDir, run.id, cancelReportText(run, facts));
    const { index, total } = phasePosition(run);
    void m.cancellations.append({
      time: facts.time.toISOString(),
      run: run.id,
      name: run.name,
      reason: req.reason,
      trigger: req.trigger,
      action,
      state: { status: run.status, phase: run.phase, phaseIndex: index, phases: total, steps: run.steps },
      cleanup: { removed: tree.removed.length, restored: tree.restored.length, preserved: facts.preserved.length, processes: processes.length, tempPaths: cleanup.tempPaths.length, lockFiles: cleanup.lockFiles.length },
      inconsistent: run.inconsistent,
      resume,
      message: run.message,
    });
    m.save(run);
    const out = result(run, req, action, tree, { status: run.status, report: run.report, cancelled, processes, inconsistent: run.inconsistent, dryRun: false });
    logger.info({ run: run.id, reason: req.reason, trigger: req.trigger, action, ms: Date.now() - started, removed: tree.removed.length, restored: tree.restored.length, cancelled }, 'run cancelled');
    emit('cancel', { run: run.id, stage: 'done', result: out });
    return out;
  } catch (err) {
    // Never leave a run `cancelling` for good: it failed to cancel, and says why.
    const e = toShadowError(err, { run: run.id, reason: req.reason, action, phase: run.phase });
    Object.assign(run, { status: 'failed', endedAt: Date.now(), resumable: true, message: `cancel failed: ${e.message}` });
    m.save(run);
    logger.error({ run: run.id, err: e.message, code: e.code }, 'cancel failed');
    emit('cancel', { run: run.id, stage: 'failed', error: e.toWire() });
    throw e;
  }
}

/** The tree part of a cancel (S5.3, S5.4). Inside `exclusive`. */
async function treeAction(m: RunManager, run: RunRecord, req: CancelRequest, action: CancelAction, asChild: boolean): Promise<TreeOutcome> {
  const { engine, ignore, layout } = m.opts;
  const target = asChild ? null : targetOf(run, action);
  if (target) {
    const r = await journaledRestore(engine, ignore, {
      commit: target,
      preAbort: { subject: `before cancel of run ${run.id} (${req.reason}, ${action})`, meta: { kind: 'pre-abort', run: run.id, phase: run.phase, reason: req.reason } },
      op: 'cancel',
      run: run.id,
      // Persisted before any file moves: after a crash the record already names the undo point.
      onPreAbort: (commit) => {
        run.preAbort = commit;
        m.save(run);
      },
    });
    const why = Object.fromEntries(r.preserved.map((p) => [p.path, p.reason]));
    return { removed: r.removed, restored: r.restored, preservedReasons: why, preAbort: r.preAbort, restoredTo: target };
  }
  // Both keep actions touch no file; a final checkpoint records where the run stopped, so it can resume.
  const c = await engine.commitWorkingTree(run.ref, `final checkpoint of run ${run.id} (${req.reason})`, { kind: 'final', run: run.id, phase: run.phase, reason: req.reason });
  run.lastCheckpoint = c.commit;
  run.checkpoints++;
  const kept = await keptPaths(m, run, action);
  if (action === 'keep_for_review' && !asChild) {
    const base = await engine.reader.readFlatTree((await engine.reader.readCommit(run.base)).tree);
    writeReviewMarker(layout.workspace, reviewMarkerText(run, req.reason, run.message, diffFlatTrees(base, engine.index.flat()), new Date()));
  }
  return { removed: [], restored: [], preservedReasons: kept, preAbort: null, restoredTo: null };
}

/** Builds the answer. */
function result(
  run: RunRecord,
  req: CancelRequest,
  action: CancelAction,
  tree: TreeOutcome,
  rest: Pick<CancelResult, 'status' | 'report' | 'cancelled' | 'processes' | 'inconsistent' | 'dryRun'>,
): CancelResult {
  const preserved = Object.keys(tree.preservedReasons).sort();
  return {
    run: run.id,
    reason: req.reason,
    trigger: req.trigger,
    action,
    removed: tree.removed,
    restored: tree.restored,
    preserved,
    preservedReasons: tree.preservedReasons,
    preAbort: tree.preAbort,
    restoredTo: tree.restoredTo,
    resume: run.status === 'completed' ? null : resumeCommand(run.id),
    ...rest,
  };
}
