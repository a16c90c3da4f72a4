/**
 * Saving run records when the disk may refuse them (#10.13): a failed save (ENOSPC, EACCES) is a
 * coded STATE_WRITE_FAILED for the caller, the in-memory record stays the truth, and a timer saves
 * it again, backing off, until the disk takes it. No run is left with a stale status on disk
 * once space is back; after a restart, an active record on disk ends `interrupted` anyway.
 */
import type { Logger } from 'pino';
import type { ShadowError } from '../../shared/errors.js';
import { toShadowError } from '../../shared/errors.js';
import type { RunRecord } from './runRecord.js';
import type { RunStore } from './runStore.js';

/** First and longest wait before saving again a record whose save failed. */
const SAVE_RETRY_MS = [1000, 30_000] as const;

/** Saves run records through a RunStore, retrying the ones that failed. */
export class RecordSaver {
  private readonly unsaved = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private delay: number = SAVE_RETRY_MS[0];
  private closed = false;

  constructor(
    private readonly store: RunStore,
    private readonly logger: Logger,
    /** The current record of a run (null when it was dropped meanwhile). */
    private readonly lookup: (id: string) => RunRecord | null,
  ) {}

  /** Saves `run`; on failure returns the coded error and keeps retrying in the background. */
  trySave(run: RunRecord): ShadowError | null {
    try {
      this.store.save(run);
      this.unsaved.delete(run.id);
      return null;
    } catch (err) {
      const failure = toShadowError(err, { run: run.id, status: run.status });
      this.unsaved.add(run.id);
      this.logger.error({ run: run.id, status: run.status, code: failure.code, details: failure.details }, 'run record not saved; retrying later');
      this.arm();
      return failure;
    }
  }

  /** Saves again the records whose save failed; true when none is left. */
  retry(): boolean {
    for (const id of [...this.unsaved]) {
      const run = this.lookup(id);
      if (!run) {
        this.unsaved.delete(id);
        continue;
      }
      try {
        this.store.save(run);
        this.unsaved.delete(id);
        this.logger.info({ run: id, status: run.status }, 'run record saved after an earlier failure');
      } catch {
        return false;
      }
    }
    return true;
  }

  /** Stops the timer after a last try. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.retry();
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.retry()) this.delay = SAVE_RETRY_MS[0];
      else {
        this.delay = Math.min(this.delay * 2, SAVE_RETRY_MS[1]);
        this.arm();
      }
    }, this.delay);
    this.timer.unref();
  }
}
