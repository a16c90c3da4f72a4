/**
 * Persistence of run records (S4.4): one JSON file per run in `<stateDir>/runs/`, each written
 * through a temp file and a rename, so a crash leaves either the old record or the new one.
 * A record that is not one (garbage, truncated, wrong shape) is renamed `<file>.corrupt` and
 * skipped: the daemon must start, other runs must be served, and the file is kept for a person.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ShadowError } from '../../shared/errors.js';
import { runDetail } from '../../shared/schemas.js';
import { RUNS_DIR, stateWriteFailed } from '../stateFolder.js';
import { writeTempFile } from '../writeTempFile.js';
import { isRunId } from './runId.js';
import type { RunRecord } from './runRecord.js';

export { RUNS_DIR };

/** Reads and writes run records of one state folder. */
export class RunStore {
  private readonly dir: string;

  /** `recreate` re-makes a state folder deleted under the daemon (StateFolder.ensure). */
  constructor(
    stateDir: string,
    private readonly recreate: () => void = () => undefined,
  ) {
    this.dir = join(stateDir, RUNS_DIR);
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      // E.g. a file named `runs`: the same coded failure at every start, not an internal error.
      throw new ShadowError('STATE_CORRUPT', `Cannot create the runs folder ${this.dir}: ${(err as Error).message}`, { file: this.dir, errno: (err as NodeJS.ErrnoException).code }, { cause: err });
    }
  }

  /**
   * Writes a run's record atomically. A runs folder deleted under the daemon is made again and
   * the write retried once; any other failure (ENOSPC, EACCES, EROFS) is STATE_WRITE_FAILED naming
   * the file and errno, and leaves the previous record, never a half-written one or a temp file.
   */
  save(run: RunRecord): void {
    const file = join(this.dir, `${run.id}.json`);
    const text = `${JSON.stringify(run, null, 2)}\n`;
    try {
      this.write(file, text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw stateWriteFailed(file, err, 'save the run record');
      this.recreate();
      try {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        this.write(file, text);
      } catch (again) {
        throw again instanceof ShadowError ? again : stateWriteFailed(file, again, 'save the run record');
      }
    }
  }

  private write(file: string, text: string): void {
    let tmp: string | null = null;
    try {
      tmp = writeTempFile(file, text);
      renameSync(tmp, file);
    } catch (err) {
      if (tmp) rmSync(tmp, { force: true });
      else rmSync(`${file}.${process.pid}.tmp`, { force: true });
      throw err;
    }
  }

  /** Deletes a run's record (retention, S1.7); no error when it is already gone. */
  delete(id: string): void {
    rmSync(join(this.dir, `${id}.json`), { force: true });
  }

  /**
   * Every valid record, oldest first. Invalid ones are set aside (renamed `.corrupt`, or null
   * when even that failed), reported through `onBad` and skipped.
   */
  loadAll(onBad: (file: string, err: unknown, aside: string | null) => void): RunRecord[] {
    const runs: RunRecord[] = [];
    const schema = runDetail(z);
    for (const name of readdirSync(this.dir).sort()) {
      const id = name.slice(0, -5);
      if (!name.endsWith('.json') || !isRunId(id)) continue;
      const file = join(this.dir, name);
      try {
        const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
        if (!parsed.success) throw new Error(`not a run record: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
        if (parsed.data.id !== id) throw new Error(`record of run ${parsed.data.id} in the file of run ${id}`);
        runs.push(parsed.data);
      } catch (err) {
        onBad(file, err, setAside(file));
      }
    }
    return runs;
  }
}

/** Renames a bad record out of the way (`.corrupt`, never over an earlier one); null if it cannot. */
function setAside(file: string): string | null {
  const aside = existsSync(`${file}.corrupt`) ? `${file}.corrupt-${Date.now()}` : `${file}.corrupt`;
  try {
    renameSync(file, aside);
    return aside;
  } catch {
    return null;
  }
}
