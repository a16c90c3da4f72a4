/** Human output of a cancel result (S5.7, S7), shared by `cancel`, `error` and `run`. */
import type { ResultOf } from '../../shared/defineMethod.js';
import type { Cancel } from '../../shared/methods/cancel.js';
import { quotePath } from '../../shared/pathBytes.js';
import type { CommandContext } from './command.js';
import { shortOid } from './output.js';

/** A Cancel result as the daemon returns it. */
export type CancelOutcome = ResultOf<typeof Cancel>;

/** `shadowctl [-C DIR]`, repeating -C when the user gave it (hints must act on the same workspace). */
export function shadowctlPrefix(ctx: Pick<CommandContext, 'workspace' | 'workspaceExplicit'>): string {
  return ctx.workspaceExplicit ? `shadowctl -C ${shellQuote(ctx.workspace)}` : 'shadowctl';
}

/** A few lines: what was done, counts, the undo hint, the report and the resume command. */
export function cancelLines(r: CancelOutcome, ctx: Pick<CommandContext, 'workspace' | 'workspaceExplicit' | 'style'>): string[] {
  if (r.dryRun) return planLines(r, ctx);
  const counts = [`${r.removed.length} removed`, `${r.restored.length} restored`, `${r.preserved.length} preserved`];
  if (r.processes.length) counts.push(`${r.processes.length} process${r.processes.length === 1 ? '' : 'es'} terminated`);
  const others = r.cancelled.filter((id) => id !== r.run);
  if (others.length) counts.push(`also cancelled ${others.join(', ')}`);
  const lines = [`Run ${ctx.style.bold(r.run)} ${r.status}: reason ${r.reason} (${r.trigger}), action ${r.action}.`, `${counts.join(', ')}.`];
  if (r.restoredTo) lines.push(`Tree back to ${shortOid(r.restoredTo)}.`);
  if (r.preAbort) lines.push(`Pre-abort snapshot ${shortOid(r.preAbort)}; undo with: ${shadowctlPrefix(ctx)} undo`);
  if (r.report) lines.push(`Report: ${r.report}`);
  if (r.resume) lines.push(`Resume with: ${r.resume}`);
  return lines;
}

/** Warnings for stderr: every preserved path with why, and a forced cancel. */
export function cancelWarnings(r: CancelOutcome): string[] {
  const warnings = r.preserved.map((p) => `preserved ${quotePath(p)}${r.preservedReasons[p] ? ` (${r.preservedReasons[p]})` : ''}`);
  for (const [p, why] of Object.entries(r.cleanup?.kept ?? {})) warnings.push(`cleanup kept ${quotePath(p)} (${why})`);
  if (r.inconsistent) warnings.push(`run ${r.run} was cancelled inside an unsafe section without waiting for its end: marked inconsistent`);
  return warnings;
}

/** The exact plan of a dry run (S5.12), one line per path, process and run. */
function planLines(r: CancelOutcome, ctx: Pick<CommandContext, 'style'>): string[] {
  const target = r.restoredTo ? `, back to ${shortOid(r.restoredTo)}` : '';
  const lines = [`Dry run: cancelling run ${ctx.style.bold(r.run)} (reason ${r.reason}, action ${r.action}${target}) would:`];
  for (const p of r.removed) lines.push(`  remove     ${quotePath(p)}`);
  for (const p of r.restored) lines.push(`  restore    ${quotePath(p)}`);
  for (const p of r.preserved) lines.push(`  preserve   ${quotePath(p)}${r.preservedReasons[p] ? ` (${r.preservedReasons[p]})` : ''}`);
  for (const [p, why] of Object.entries(r.cleanup?.kept ?? {})) lines.push(`  keep       ${quotePath(p)} (${why})`);
  for (const p of [...(r.cleanup?.tempPaths ?? []), ...(r.cleanup?.lockFiles ?? [])]) lines.push(`  delete     ${quotePath(p)} (registered by the run)`);
  for (const pid of r.processes) lines.push(`  terminate  pid ${pid}`);
  for (const id of r.cancelled) if (id !== r.run) lines.push(`  cancel     run ${id}`);
  if (lines.length === 1) lines.push('  touch no file and no process');
  lines.push('Nothing was changed.');
  return lines;
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
