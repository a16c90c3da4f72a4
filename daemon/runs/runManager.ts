/**
 * The runs of one workspace (S4): their records (persisted on every change), which one is
 * active, the triggers that cancel them without a request — deadline timers, the abort file,
 * daemon shutdown — and the waits of a cancel for a safe point. Moving a run along lives in
 * runProgress.ts and the cancel pipeline in cancelRun.ts.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ShadowConfig } from '../../shared/config.js';
import { ShadowError } from '../../shared/errors.js';
import type { EventName } from '../../shared/events.js';
import { STATE_FILES } from '../../shared/paths.js';
import { ABORT_FILE } from '../../shared/runModel.js';
import type { IgnoreRules } from '../store/ignoreRules.js';
import type { RestoreResult } from '../store/applyRestore.js';
import type { RestoreJournalEntry } from '../store/journaledRestore.js';
import type { SnapshotEngine } from '../store/snapshotEngine.js';
import { StateFolder } from '../stateFolder.js';
import type { WorkspaceLayout } from '../workspaceLayout.js';
import { abortFilePresent, readAbortFile, removeAbortFile } from './abortFile.js';
import type { CancelRequest, CancelResult } from './cancelRun.js';
import { cancelRun, concludeRecoveredCancel } from './cancelRun.js';
import { CancellationLog } from './cancellationLog.js';
import type { RunRecord } from './runRecord.js';
import { isActive, toSummary } from './runRecord.js';
import { RecordSaver } from './recordSaver.js';
import { RunStore } from './runStore.js';

/** How often the abort file is looked for while a run is active (the watcher usually sees it first). */
const ABORT_POLL_MS = 250;
/** setTimeout's longest delay; longer deadlines are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A journaled restore completed at start-up (S2.5). */
export type RecoveredRestore = RestoreJournalEntry & { result: RestoreResult; replayPreAbort?: string };

/** What a RunManager works with. */
export interface RunManagerOptions {
  engine: SnapshotEngine;
  ignore: IgnoreRules;
  config: ShadowConfig;
  layout: WorkspaceLayout;
  logger: Logger;
  /** Pushes an event to subscribers. */
  emit(event: EventName, data: unknown): void;
  /** The state folder's keeper (re-creates it when deleted); one of its own when absent. */
  state?: StateFolder;
}


/** Runs of a workspace and their triggers. */
export class RunManager {
  /** The options, for the pipeline and progress functions. */
  readonly opts: RunManagerOptions;
  /** The cancellation log (S5.8). */
  readonly cancellations: CancellationLog;
  /** Runs whose phases were declared at start (a phase outside them is refused). */
  readonly declaredPhases = new Set<string>();
  /** Cancels in progress, by run id: a second request joins (and may force) the first. */
  readonly inflight = new Map<string, { promise: Promise<CancelResult>; force: () => void }>();
  /** Run records found corrupt at start (S4.4): set aside, skipped, reported by `status`. */
  readonly corruptRecords: { file: string; aside: string | null; reason: string }[] = [];
  private readonly runs = new Map<string, RunRecord>();
  /** The state folder, re-created when it vanishes (#10.13). */
  readonly state: StateFolder;
  private readonly store: RunStore;
  /** Saves records, retrying those the disk refused (memory is the truth meanwhile). */
  private readonly saver: RecordSaver;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly unsafeWaiters = new Set<() => void>();
  private abortPoll: NodeJS.Timeout | null = null;
  private handlingAbort = false;
  private closed = false;

  constructor(opts: RunManagerOptions) {
    this.opts = opts;
    this.state = opts.state ?? new StateFolder(opts.layout);
    this.store = new RunStore(opts.layout.stateDir, () => this.state.ensureLogged(opts.logger));
    this.cancellations = new CancellationLog(join(opts.layout.stateDir, STATE_FILES.logs), opts.config.maxLogSize, opts.config.maxLogFiles, (err) =>
      opts.logger.error({ err: String(err) }, 'cancellation log error'),
    );
    this.state.onRecreated(() => this.cancellations.reopen());
    this.saver = new RecordSaver(this.store, opts.logger, (id) => this.runs.get(id) ?? null);
  }

  /**
   * Loads every run (S4.4). A run still running or cancelling belonged to a daemon that died: it
   * ends `interrupted`, resumable — except a cancel whose journaled restore the start-up just
   * completed (`recovered`), which is concluded as the cancel would have been.
   */
  async init(recovered: RecoveredRestore | null = null): Promise<void> {
    const onBad = (file: string, err: unknown, aside: string | null): void => {
      this.corruptRecords.push({ file, aside, reason: (err as Error)?.message ?? String(err) });
      this.opts.logger.error({ file, aside, err: String(err) }, 'corrupt run record set aside and skipped');
    };
    for (const run of this.store.loadAll(onBad)) {
      this.runs.set(run.id, run);
      if (!isActive(run)) continue;
      const was = run.status;
      run.unsafe = 0;
      if (was === 'cancelling' && recovered?.op === 'cancel' && recovered.run === run.id) {
        await concludeRecoveredCancel(this, run, recovered.result, recovered.target, recovered.preAbort, recovered.replayPreAbort);
        this.opts.logger.warn({ run: run.id, status: run.status }, 'cancel completed after a daemon crash');
        continue;
      }
      run.status = 'interrupted';
      run.reason ??= 'shutdown';
      run.trigger ??= 'daemon_shutdown';
      run.message = `${run.message ? `${run.message}; ` : ''}the daemon stopped while the run was ${was}`;
      run.endedAt = Date.now();
      run.unsafe = 0;
      run.resumable = true;
      // Unsaved (ENOSPC), it is still interrupted here and saved by the retry; never left cancelling.
      this.trySave(run);
      this.opts.logger.warn({ run: run.id, was, status: run.status }, 'run ended by a daemon restart');
    }
  }

  /** Every run, oldest first. */
  list(): RunRecord[] {
    return [...this.runs.values()].sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1));
  }

  /** The active (running or cancelling) top-level run, or null. */
  activeTopLevel(): RunRecord | null {
    for (const run of this.runs.values()) if (run.parent === null && isActive(run)) return run;
    return null;
  }

  /** The summary `status` shows. */
  statusRun(): ReturnType<typeof toSummary> | null {
    const run = this.activeTopLevel();
    return run ? toSummary(run) : null;
  }

  /** A run by id; RUN_NOT_FOUND names the known ones when it does not exist. */
  find(id: string): RunRecord {
    const run = this.runs.get(id);
    if (!run) throw new ShadowError('RUN_NOT_FOUND', `No run ${id} in ${this.opts.layout.workspace}`, { run: id, workspace: this.opts.layout.workspace });
    return run;
  }

  /**
   * The run a progress method acts on: the named one or the active top-level one, which must be
   * running (`allowCancelling` also accepts one waiting for its safe point).
   */
  resolveRunning(id: string | undefined, what: string, allowCancelling = false): RunRecord {
    const run = id ? this.find(id) : this.activeTopLevel();
    if (!run) throw new ShadowError('NO_ACTIVE_RUN', `No active run to ${what}: start one with \`shadowctl start\``, { reason: 'no_active_run', operation: what });
    if (run.status !== 'running' && !(allowCancelling && run.status === 'cancelling')) {
      throw new ShadowError('RUN_NOT_RUNNING', `Run ${run.id} (${run.name}) is ${run.status}${run.phase ? ` in phase ${run.phase}` : ''}: cannot ${what}`, {
        run: run.id,
        name: run.name,
        status: run.status,
        phase: run.phase,
        operation: what,
      });
    }
    return run;
  }

  /** Adds a new run. */
  add(run: RunRecord): void {
    this.runs.set(run.id, run);
    this.save(run);
    this.armDeadline(run);
    this.syncAbortPoll();
  }

  /** Drops a finished run and its record (retention, S1.7); refs and report are the caller's. */
  forget(id: string): void {
    const run = this.runs.get(id);
    if (run && isActive(run)) throw new ShadowError('INTERNAL', `Refusing to forget active run ${id}`, { run: id });
    this.runs.delete(id);
    this.store.delete(id);
  }

  /** Makes a resumed run active again (S6.3): persisted, its deadline re-armed, the abort file watched. */
  reactivate(run: RunRecord): void {
    this.runs.set(run.id, run);
    this.save(run);
    this.armDeadline(run);
    this.syncAbortPoll();
  }

  /** Persists a run and tells subscribers; STATE_WRITE_FAILED when the record could not be written (retried later). */
  save(run: RunRecord): void {
    const err = this.trySave(run);
    if (err) throw err;
  }

  /**
   * Like `save`, but returns the failure instead of throwing it: the in-memory record is the
   * truth, subscribers hear of it, and a timer saves it again until the disk takes it.
   */
  trySave(run: RunRecord): ShadowError | null {
    const failure = this.saver.trySave(run);
    this.opts.emit('run', toSummary(run));
    if (!isActive(run)) {
      const t = this.timers.get(run.id);
      if (t) clearTimeout(t);
      this.timers.delete(run.id);
      this.syncAbortPoll();
    }
    return failure;
  }

  /** Active runs whose parent is `id`. */
  activeChildren(id: string): RunRecord[] {
    return [...this.runs.values()].filter((r) => r.parent === id && isActive(r));
  }

  /** Unsafe sections open in a run and its active descendants. */
  openUnsafe(run: RunRecord): number {
    return run.unsafe + this.activeChildren(run.id).reduce((n, c) => n + this.openUnsafe(c), 0);
  }

  /** Wakes cancels waiting for a safe point (an unsafe section ended, or a cancel was forced). */
  notifyUnsafe(): void {
    for (const wake of [...this.unsafeWaiters]) wake();
  }

  /**
   * Waits until `run` (with its children) has no unsafe section open, or `timeoutMs` passes, or
   * `forced()` turns true. Resolves true when a safe point was reached.
   */
  waitForSafePoint(run: RunRecord, timeoutMs: number, forced: () => boolean): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const check = (): void => {
        const safe = this.openUnsafe(run) === 0;
        if (!safe && !forced() && !this.closed) return;
        this.unsafeWaiters.delete(check);
        if (timer) clearTimeout(timer);
        resolve(safe);
      };
      timer = setTimeout(() => {
        this.unsafeWaiters.delete(check);
        resolve(this.openUnsafe(run) === 0);
      }, timeoutMs);
      this.unsafeWaiters.add(check);
      check();
    });
  }

  /** Cancels a run (S5); see cancelRun.ts. */
  cancel(req: CancelRequest): Promise<CancelResult> {
    return cancelRun(this, req);
  }

  /** The watcher reported a root entry: the abort file may have appeared (S5.1). */
  onRootEntry(name: string): void {
    if (name === ABORT_FILE) this.checkAbortFile();
  }

  /**
   * Daemon shutdown (S2.4): every active run is interrupted with a final checkpoint, resumable,
   * without waiting for safe points, and processes get half the shutdown budget to exit.
   */
  async shutdown(): Promise<void> {
    // Active runs without an active parent: each cancel takes its children along.
    const tops = [...this.runs.values()].filter((r) => {
      const parent = r.parent ? this.runs.get(r.parent) : undefined;
      return isActive(r) && !(parent && isActive(parent));
    });
    const graceMs = Math.floor(this.opts.config.gracefulShutdownTimeout / 2);
    await Promise.all(
      tops.map((run) =>
        this.cancel({ run: run.id, reason: 'shutdown', trigger: 'daemon_shutdown', force: true, dryRun: false, graceMs }).catch((err: unknown) =>
          this.opts.logger.error({ run: run.id, err: String(err) }, 'could not interrupt the run at shutdown'),
        ),
      ),
    );
    await this.close();
  }

  /** Stops timers and polling and closes the cancellation log. */
  async close(): Promise<void> {
    this.closed = true;
    // A last try: a record left unsaved says `running` or `cancelling` on disk, which the next start ends as interrupted.
    this.saver.close();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.abortPoll) clearInterval(this.abortPoll);
    this.abortPoll = null;
    this.notifyUnsafe();
    await this.cancellations.close();
  }

  /** Arms the deadline of a run (S5.1): past it, a cancel with reason timeout. */
  private armDeadline(run: RunRecord): void {
    if (run.deadline === null || this.closed) return;
    const delay = run.deadline - Date.now();
    const timer = setTimeout(
      () => {
        this.timers.delete(run.id);
        if (run.status !== 'running') return;
        if (Date.now() < (run.deadline ?? 0)) return this.armDeadline(run);
        const ms = run.deadline === null ? 0 : run.deadline - run.startedAt;
        this.cancel({ run: run.id, reason: 'timeout', trigger: 'deadline', force: false, dryRun: false, message: `deadline of ${ms} ms passed` }).catch((err: unknown) =>
          this.opts.logger.error({ run: run.id, err: String(err) }, 'deadline cancel failed'),
        );
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    timer.unref();
    this.timers.set(run.id, timer);
  }

  /** Polls for the abort file while a run is active: the watcher's event is a hint, not a promise. */
  private syncAbortPoll(): void {
    const wanted = !this.closed && this.activeTopLevel() !== null;
    if (wanted && !this.abortPoll) {
      this.abortPoll = setInterval(() => this.checkAbortFile(), ABORT_POLL_MS);
      this.abortPoll.unref();
    } else if (!wanted && this.abortPoll) {
      clearInterval(this.abortPoll);
      this.abortPoll = null;
    }
  }

  private checkAbortFile(): void {
    if (this.handlingAbort || this.closed) return;
    const root = this.opts.layout.workspace;
    const run = this.activeTopLevel();
    // With no run active the file is stale: the next run's start clears it (S4.2).
    if (!run || run.status !== 'running' || !abortFilePresent(root)) return;
    const request = readAbortFile(root);
    if (!request) return;
    this.handlingAbort = true;
    this.opts.logger.info({ run: run.id, reason: request.reason }, 'abort file found');
    this.cancel({ run: run.id, reason: request.reason, trigger: 'abort_file', force: false, dryRun: false, ...(request.message ? { message: request.message } : {}) })
      .catch((err: unknown) => this.opts.logger.error({ run: run.id, err: String(err) }, 'abort-file cancel failed'))
      .finally(() => {
        removeAbortFile(root);
        this.handlingAbort = false;
      });
  }
}
