/**
 * The cancel report (S5.7): one markdown file per cancelled run, `<stateDir>/reports/<run>.md`,
 * saying when and why, how far the run got, what happened to each file and how to resume.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { quotePath } from '../../shared/pathBytes.js';
import { writeTempFile } from '../writeTempFile.js';
import type { RunRecord } from './runRecord.js';
import { phasePosition } from './runRecord.js';

/** Name of the reports folder in the state folder. */
export const REPORTS_DIR = 'reports';

/** What the report tells beyond the run record itself. */
export interface ReportFacts {
  time: Date;
  reason: string;
  trigger: string;
  action: string;
  message: string | null;
  removed: string[];
  restored: string[];
  preserved: string[];
  preservedReasons: Record<string, string>;
  preAbort: string | null;
  restoredTo: string | null;
  cancelled: string[];
  processes: number[];
  tempPaths: string[];
  lockFiles: string[];
  /** Registered paths cleanup kept, with why (S5.6). */
  kept: { path: string; reason: string }[];
  inconsistent: boolean;
  resume: string | null;
}

/** A markdown list of paths, or "none". */
function pathList(paths: string[], why?: Record<string, string>): string[] {
  if (paths.length === 0) return ['- none'];
  return paths.map((p) => (why?.[p] ? `- \`${quotePath(p)}\` (${why[p]})` : `- \`${quotePath(p)}\``));
}

/** The report's markdown. */
export function cancelReportText(run: RunRecord, f: ReportFacts): string {
  const { index, total } = phasePosition(run);
  const phase = run.phase === null ? 'none' : `${run.phase} (${index}/${total})`;
  const lines = [
    `# Cancel report: ${run.name} (${run.id})`,
    '',
    '| | |',
    '|---|---|',
    `| Time | ${f.time.toISOString()} |`,
    `| Reason | ${f.reason} |`,
    `| Trigger | ${f.trigger} |`,
    `| Action | ${f.action} |`,
    `| Status | ${run.status} |`,
    `| Phase | ${phase} |`,
    `| Phases | ${run.phases.length ? run.phases.join(', ') : 'none declared'} |`,
    `| Completed steps | ${run.steps} |`,
    `| Current step | ${run.currentStep ?? 'none'} |`,
    `| Base checkpoint | ${run.base} |`,
    `| Last checkpoint | ${run.lastCheckpoint ?? 'none (base)'} |`,
    `| Pre-abort snapshot | ${f.preAbort ?? 'none (no file touched)'} |`,
    `| Restored to | ${f.restoredTo ?? 'not moved'} |`,
    `| Inconsistent | ${f.inconsistent ? 'yes: cancelled inside an unsafe section after the safe-point timeout' : 'no'} |`,
    ...(f.message ? [`| Message | ${f.message.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|')} |`] : []),
    '',
    '## Completed steps',
    ...(run.completedSteps.length
      ? run.completedSteps.map((s, i) => `${i + 1}. ${s.name}${s.phase ? ` (phase ${s.phase})` : ''}${s.artifacts.length ? `: ${s.artifacts.map((a) => `\`${a}\``).join(', ')}` : ''}`)
      : ['none']),
    '',
    `## Files removed (${f.removed.length})`,
    ...pathList(f.removed),
    '',
    `## Files restored (${f.restored.length})`,
    ...pathList(f.restored),
    '',
    `## Files preserved (${f.preserved.length})`,
    ...pathList(f.preserved, f.preservedReasons),
    '',
    '## Cleanup',
    `- runs cancelled: ${f.cancelled.join(', ')}`,
    `- processes terminated: ${f.processes.length ? f.processes.join(', ') : 'none'}`,
    `- temp paths deleted: ${f.tempPaths.length ? f.tempPaths.join(', ') : 'none'}`,
    `- lock files released: ${f.lockFiles.length ? f.lockFiles.join(', ') : 'none'}`,
    ...f.kept.map((k) => `- kept \`${k.path}\` (${k.reason})`),
    '',
    '## Resume',
    f.resume ? `\`\`\`sh\n${f.resume}\n\`\`\`` : 'This run cannot be resumed.',
    ...(f.preAbort ? ['', 'Undo the cancel (bring back the files as they were just before it):', '```sh\nshadowctl undo\n```'] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** Where a run's report is written. */
export function reportPath(stateDir: string, runId: string): string {
  return join(stateDir, REPORTS_DIR, `${runId}.md`);
}

/** Writes the report atomically; returns its path. */
export function writeCancelReport(stateDir: string, runId: string, text: string): string {
  const dir = join(stateDir, REPORTS_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = reportPath(stateDir, runId);
  renameSync(writeTempFile(file, text), file);
  return file;
}
