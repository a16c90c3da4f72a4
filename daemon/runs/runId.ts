/** Run ids: `r` + UTC yyyymmddHHMMSS + `-` + 4 hex, sortable by start time and readable in refs. */
import { randomBytes } from 'node:crypto';

/** A new run id for a run starting at `now`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `r${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Whether `id` has the shape of a run id (guards file names built from it). */
export function isRunId(id: string): boolean {
  return /^r\d{14}-[0-9a-f]{4}$/.test(id);
}
