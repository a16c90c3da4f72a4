/**
 * Persistence of run records (S4.4): one JSON file per run in `<stateDir>/runs/`, each written
 * through a temp file and a rename, so a crash leaves either the old record or the new one.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeTempFile } from '../writeTempFile.js';
import { isRunId } from './runId.js';
import type { RunRecord } from './runRecord.js';

/** Name of the runs folder in the state folder. */
export const RUNS_DIR = 'runs';

/** Reads and writes run records of one state folder. */
export class RunStore {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, RUNS_DIR);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Writes a run's record atomically. */
  save(run: RunRecord): void {
    const file = join(this.dir, `${run.id}.json`);
    renameSync(writeTempFile(file, `${JSON.stringify(run, null, 2)}\n`), file);
  }

  /** Deletes a run's record (retention, S1.7); no error when it is already gone. */
  delete(id: string): void {
    rmSync(join(this.dir, `${id}.json`), { force: true });
  }

  /** Every readable record, oldest first; unreadable ones are reported through `onBad` and skipped. */
  loadAll(onBad: (file: string, err: unknown) => void): RunRecord[] {
    const runs: RunRecord[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      if (!name.endsWith('.json') || !isRunId(name.slice(0, -5))) continue;
      try {
        runs.push(JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as RunRecord);
      } catch (err) {
        onBad(name, err);
      }
    }
    return runs;
  }
}
