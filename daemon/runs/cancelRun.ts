/**
 * The cancel pipeline (S5), in order: resolve the run → choose the action → `cancelling` → wait
 * for a safe point → cancel running children → terminate processes → act on the tree (journaled
 * restore after a pre-abort commit, review marker, or final checkpoint) → clean up → report →
 * cancellation log → final status. A dry run computes the same plan and changes nothing (S5.12).
 */
import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import { isShadowError, ShadowError, toShadowError } from '../../shared/errors.js';
import { stateWriteFailed } from '../stateFolder.js';
import type { Cancel } from '../../shared/methods/index.js';
import type { CancelAction } from '../../shared/runModel.js';
import { diffFlatTrees } from '../store/diffFlatTrees.js';
import { journaledRestore, planRestoreTo } from '../store/journaledRestore.js';
import { storeVanished } from '../store/storeRepair.js';
import { cancelReportText, reportPath, writeCancelReport } from './cancelReport.js';
import type { RestoreResult } from '../store/applyRestore.js';
import type { CleanupResult } from './cleanupResources.js';
import { cleanupRun } from './cleanupRun.js';
import { changedPaths, reviewMarkerText, writeReviewMarker } from './reviewMarker.js';
import type { RunManager } from './runManager.js';
import type { RunRecord } from './runRecord.js';
import { finalStatusFor, isActive, phasePosition, resumeCommand } from './runRecord.js';
import { faultPoint } from '../faultPoint.js';
import { isAlive } from '../processAlive.js';
import { terminateProcesses } from './terminateProcesses.js';

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
  return tracked(m, run.id, execute(m, run, req, action, () => forced), () => (forced = true));
}

/** Registers a cancel in progress so that later requests join it (and may force it); removes it when done. */
async function tracked(m: RunManager, id: string, promise: Promise<CancelResult>, onForce: () => void = () => undefined): Promise<CancelResult> {
  m.inflight.set(id, {
    promise,
    force: () => {
      onForce();
      m.notifyUnsafe();
    },
  });
  try {
    return await promise;
  } finally {
    m.inflight.delete(id);
  }
}

/** The plan of a cancel, with nothing changed (S5.12). */
async function dryRun(m: RunManager, run: RunRecord, req: CancelRequest, action: CancelAction): Promise<CancelResult> {
  const { engine, ignore } = m.opts;
  const children = descendants(m, run);
  const processes = [...children, run].flatMap((r) => r.pids).filter(isAlive);
  const target = targetOf(run, action, m.opts.config.keepPartialWork);
  const [tree, cleanup] = await engine.exclusive(async (): Promise<[TreeOutcome, CleanupResult]> => {
    const plan = await planTree();
    return [plan, await cleanupRun(m, run, plan.restoredTo, true)];
  });
  return result(run, req, action, tree, cleanup, { status: run.status, report: null, cancelled: [...children.map((c) => c.id), run.id], processes, inconsistent: req.force && m.openUnsafe(run) > 0, dryRun: true });

  async function planTree(): Promise<TreeOutcome> {
    if (target) {
      const { plan } = await planRestoreTo(engine, ignore, target);
      const why = Object.fromEntries(plan.preserved.map((p) => [p.path, p.reason]));
      return { removed: plan.remove, restored: plan.write.map((w) => w.path), preservedReasons: why, preAbort: null, restoredTo: target };
    }
    return { removed: [], restored: [], preservedReasons: await keptPaths(m, run, action), preAbort: null, restoredTo: null };
  }
}

/**
 * The checkpoint an action brings the tree to, or null when it leaves the tree alone. With
 * `keepPartialWork: false`, keep_checkpoint rolls the work since the last checkpoint back after
 * saving it in its final checkpoint (S5.6): kept in the store, gone from the tree.
 */
function targetOf(run: RunRecord, action: CancelAction, keepPartialWork: boolean): string | null {
  if (action === 'remove_all') return run.base;
  if (action === 'rollback' || (action === 'keep_checkpoint' && !keepPartialWork)) return run.lastCheckpoint ?? run.base;
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
  const { config, logger, emit, engine } = m.opts;
  const started = Date.now();
  // A job that deleted the store (`rm -rf .git`) took the run records with it: put back first (issue #10.8).
  if (storeVanished(m.opts.layout)) await engine.exclusive(() => undefined);
  Object.assign(run, { status: 'cancelling', reason: req.reason, trigger: req.trigger, action, message: req.message ?? run.message });
  // A record the disk refuses (ENOSPC) must not stop the cancel: memory is the truth, the save is retried.
  const unsaved: ShadowError[] = [];
  const noteSave = (e: ShadowError | null): void => void (e && unsaved.push(e));
  noteSave(m.trySave(run));
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
      // A child already being cancelled (its deadline, a request naming it) is forced and joined.
      const joined = m.inflight.get(child.id);
      if (joined) joined.force();
      const childReq: CancelRequest = { ...req, run: child.id, trigger: 'parent', force: true, dryRun: false, message: `parent run ${run.id} cancelled (${req.reason})` };
      // A child that fails to cancel (it ends `failed`, saying why) must not stop the parent's cancel.
      const r = await (joined ? joined.promise : tracked(m, child.id, execute(m, child, childReq, 'keep_checkpoint', () => true, true))).catch(() => null);
      cancelled.push(...(r?.cancelled ?? [child.id]));
      processes.push(...(r?.processes ?? []));
    }
    const terminated = await terminateProcesses(run.pids, req.graceMs ?? config.gracefulShutdownTimeout);
    processes.push(...terminated.terminated);
    faultPoint('cancel.terminated');
    if (terminated.killed.length) logger.warn({ run: run.id, killed: terminated.killed }, 'processes needed SIGKILL');

    // Cleanup follows the restore in the same exclusive section: it sees the restored tree, and
    // keeps whatever the restore brought back or the run's base holds (S5.6).
    const [tree, cleanup] = await engine.exclusive(async (): Promise<[TreeOutcome, CleanupResult]> => {
      const t = await treeAction(m, run, req, action, asChild);
      return [t, await cleanupRun(m, run, t.restoredTo)];
    });
    cancelled.push(run.id);
    concludeCancel(m, run, { reason: req.reason, trigger: req.trigger, action, tree, cleanup, cancelled, processes }).forEach(noteSave);
    const out = result(run, req, action, tree, cleanup, { status: run.status, report: run.report, cancelled, processes, inconsistent: run.inconsistent, dryRun: false });
    logger.info({ run: run.id, reason: req.reason, trigger: req.trigger, action, ms: Date.now() - started, removed: tree.removed.length, restored: tree.restored.length, cancelled }, 'run cancelled');
    emit('cancel', { run: run.id, stage: 'done', result: out });
    if (unsaved.length) throw cancelNotRecorded(run, unsaved, out);
    return out;
  } catch (err) {
    if (err instanceof ShadowError && err.details.cancelDone) throw err;
    // Never leave a run `cancelling` for good: it failed to cancel, and says why.
    const e = toShadowError(err, { run: run.id, reason: req.reason, action, phase: run.phase });
    Object.assign(run, { status: 'failed', endedAt: Date.now(), resumable: true, message: `cancel failed: ${e.message}` });
    noteSave(m.trySave(run));
    logger.error({ run: run.id, err: e.message, code: e.code }, 'cancel failed');
    emit('cancel', { run: run.id, stage: 'failed', error: e.toWire() });
    throw e;
  }
}

/**
 * The cancel was done (processes ended, tree restored, status final in memory) but its record,
 * report or both could not be written: STATE_WRITE_FAILED, naming the files, with the result.
 */
function cancelNotRecorded(run: RunRecord, failures: ShadowError[], out: CancelResult): ShadowError {
  const files = failures.map((f) => f.details.file);
  const first = failures[0] as ShadowError;
  return new ShadowError(
    'STATE_WRITE_FAILED',
    `Run ${run.id} was cancelled (status ${run.status}; files restored: ${out.restored.length}, removed: ${out.removed.length}) but ${first.message}; the daemon saves the record again until it can`,
    { ...first.details, run: run.id, status: run.status, cancelDone: true, files, result: out },
    { cause: first },
  );
}

/** What a cancel did, for its conclusion. */
interface CancelOutcome {
  reason: string;
  trigger: string;
  action: string;
  tree: TreeOutcome;
  /** What cleanup deleted and kept (run after the tree action). */
  cleanup: CleanupResult;
  cancelled: string[];
  processes: number[];
}

/**
 * Ends a cancel after its cleanup (S5.6): final status, report (S5.7), cancellation log line
 * (S5.8), saved record. The status is final in memory whatever the disk says; returns the writes
 * that failed (STATE_WRITE_FAILED), which the caller reports.
 */
function concludeCancel(m: RunManager, run: RunRecord, o: CancelOutcome): ShadowError[] {
  const failures: ShadowError[] = [];
  const { logger, layout } = m.opts;
  const { cleanup } = o;
  for (const f of cleanup.kept) logger.warn({ run: run.id, path: f.path, reason: f.reason }, 'cleanup kept a registered path');
  Object.assign(run, { status: finalStatusFor(o.reason), endedAt: Date.now(), resumable: true, unsafe: 0, preAbort: o.tree.preAbort ?? run.preAbort });
  const resume = resumeCommand(run.id);
  const preserved = Object.keys(o.tree.preservedReasons).sort();
  const time = new Date();
  const facts = { ...o.tree, ...o, preserved, time, message: run.message, tempPaths: cleanup.tempPaths, lockFiles: cleanup.lockFiles, kept: cleanup.kept, inconsistent: run.inconsistent, resume };
  try {
    run.report = writeCancelReport(layout.stateDir, run.id, cancelReportText(run, facts));
  } catch (err) {
    run.report = null;
    failures.push(isShadowError(err) ? err : stateWriteFailed(reportPath(layout.stateDir, run.id), err, 'write the cancel report'));
  }
  const { index, total } = phasePosition(run);
  // Not awaited: the line queues behind the thread pool, and a read waits for every earlier append.
  void m.cancellations.append({
    time: time.toISOString(),
    run: run.id,
    name: run.name,
    reason: o.reason,
    trigger: o.trigger,
    action: o.action,
    state: { status: run.status, phase: run.phase, phaseIndex: index, phases: total, steps: run.steps },
    cleanup: { removed: o.tree.removed.length, restored: o.tree.restored.length, preserved: preserved.length, processes: o.processes.length, tempPaths: cleanup.tempPaths.length, lockFiles: cleanup.lockFiles.length },
    inconsistent: run.inconsistent,
    resume,
    message: run.message,
  });
  const saved = m.trySave(run);
  if (saved) failures.push(saved);
  return failures;
}

/**
 * Concludes a cancel whose daemon died during its journaled restore, once the next daemon has
 * completed that restore (S2.5): the run gets its final status, report and log line. `preAbort`
 * stays the state before the cancel; `replayPreAbort` is the tree as the restart found it (edits
 * made after the crash included), taken before the replay touched anything.
 */
export async function concludeRecoveredCancel(m: RunManager, run: RunRecord, restore: RestoreResult, target: string, preAbort: string, replayPreAbort?: string): Promise<void> {
  const why = Object.fromEntries(restore.preserved.map((p) => [p.path, p.reason]));
  const replay = replayPreAbort ? ` (the tree as the restart found it is ${replayPreAbort}; undo restores the state before the cancel, keeping edits made after the crash)` : '';
  run.message = `${run.message ? `${run.message}; ` : ''}completed after a daemon crash${replay}`;
  const tree = { removed: restore.removed, restored: restore.restored, preservedReasons: why, preAbort, restoredTo: target };
  // Not queued behind the start-up scan (the daemon answers nothing until init is done): at start-up
  // nothing else moves files, and the watcher reports what cleanup deletes to the scan.
  const cleanup = await cleanupRun(m, run, target);
  // Failures are logged and retried by the manager: at start-up there is no client to tell.
  concludeCancel(m, run, { reason: run.reason ?? 'user_cancel', trigger: run.trigger ?? 'request', action: run.action ?? 'remove_all', tree, cleanup, cancelled: [run.id], processes: [] });
}

/** The tree part of a cancel (S5.3, S5.4). Inside `exclusive`. */
async function treeAction(m: RunManager, run: RunRecord, req: CancelRequest, action: CancelAction, asChild: boolean): Promise<TreeOutcome> {
  const { engine, ignore, layout, config } = m.opts;
  // Computed before the final checkpoint below moves lastCheckpoint.
  const target = asChild ? null : targetOf(run, action, config.keepPartialWork);
  faultPoint('cancel.before-tree');
  if (action === 'keep_checkpoint' || action === 'keep_for_review') {
    // A final checkpoint records where the run stopped, so it can resume (and nothing is lost).
    const c = await engine.commitWorkingTree(run.ref, `final checkpoint of run ${run.id} (${req.reason})`, { kind: 'final', run: run.id, phase: run.phase, reason: req.reason });
    run.lastCheckpoint = c.commit;
    run.checkpoints++;
  }
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
  // The keep actions touch no file.
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
  cleanup: CleanupResult,
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
    cleanup: { tempPaths: cleanup.tempPaths, lockFiles: cleanup.lockFiles, kept: Object.fromEntries(cleanup.kept.map((k) => [k.path, k.reason])) },
    resume: run.status === 'completed' ? null : resumeCommand(run.id),
    ...rest,
  };
}
