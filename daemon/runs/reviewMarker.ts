/**
 * The keep_for_review marker (S5.3): `.needs-review` in the workspace root lists every path the
 * run changed (against its base) and why it stopped. The file is a built-in ignore, so it is
 * never snapshotted nor deleted by a restore.
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { REVIEW_FILE } from '../../shared/runModel.js';
import type { FlatTreeDiff } from '../store/diffFlatTrees.js';
import { writeTempFile } from '../writeTempFile.js';
import type { RunRecord } from './runRecord.js';

/** Every changed path of a diff, sorted, each with its git-style status letter. */
export function changedPaths(diff: FlatTreeDiff): { path: string; status: 'A' | 'M' | 'D' | 'T' }[] {
  const out: { path: string; status: 'A' | 'M' | 'D' | 'T' }[] = [];
  for (const path of diff.added) out.push({ path, status: 'A' });
  for (const path of diff.modified) out.push({ path, status: 'M' });
  for (const path of diff.deleted) out.push({ path, status: 'D' });
  for (const path of diff.modeChanged) out.push({ path, status: 'T' });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The marker's text: a header (run, reason, message, base), then one `<status> <path>` line per change. */
export function reviewMarkerText(run: RunRecord, reason: string, message: string | null, diff: FlatTreeDiff, now: Date): string {
  const lines = [
    `# Needs review: run ${run.id} (${run.name}) was stopped`,
    `reason: ${reason}`,
    ...(message ? [`message: ${message.replace(/\r?\n/g, ' ')}`] : []),
    `time: ${now.toISOString()}`,
    `base: ${run.base}`,
    `changed: ${changedPaths(diff).length} path(s) since the run's base`,
    '',
    ...changedPaths(diff).map((c) => `${c.status} ${c.path}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes the marker atomically in the workspace root; returns its path. */
export function writeReviewMarker(root: string, text: string): string {
  const file = join(root, REVIEW_FILE);
  renameSync(writeTempFile(file, text, 0o644), file);
  return file;
}
