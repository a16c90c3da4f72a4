/**
 * How `shadowctl run` ends (S7, S5.1): the exit code decided from the run's final state, the
 * `--json` result object and the one-line summary. Pure functions, unit-tested on their own.
 */
import { constants } from 'node:os';
import type { ResultOf } from '../../shared/defineMethod.js';
import type { RunGet } from '../../shared/methods/runGet.js';
import type { CancelOutcome } from './cancelReport.js';
import { EXIT } from './exitCodes.js';
import { shortOid } from './output.js';

/** A run in full, as RunGet returns it. */
export type RunDetail = ResultOf<typeof RunGet>['run'];

/** How the wrapped command ended. */
export interface CommandExit {
  /** Exit code, or null when killed by a signal or never started. */
  code: number | null;
  /** The signal that killed it, or null. */
  signal: string | null;
  /** Why it could not be started (errno such as ENOENT), or null. */
  spawnError: string | null;
}

/** The signals shadowctl run handles itself. */
export type HandledSignal = 'SIGINT' | 'SIGTERM';

/** What `run --json` prints: the run's final state and how it got there. */
export interface RunOutcome {
  /** Run id. */
  run: string;
  /** Final status (completed, cancelled, interrupted, failed), or the last one seen. */
  status: string;
  /** Why it ended early, null when completed. */
  reason: string | null;
  /** What set the cancel off, null when completed. */
  trigger: string | null;
  /** The cancel's action, null when completed. */
  action: string | null;
  /** Whether `run --resume` can continue it. */
  resumable: boolean;
  /** shadowctl's own exit code. */
  exitCode: number;
  /** How the command ended. */
  command: CommandExit;
  /** The cancel result, when shadowctl cancelled the run itself (Ctrl+C, SIGTERM, failure). */
  cancel: CancelOutcome | null;
  /** The final checkpoint of a completed run. */
  final: string | null;
  /** Requests that failed while ending the run (e.g. daemon gone), as `{code, message}`. */
  errors: { code: string; message: string }[];
}

/** The command's exit status as a shell reports it: its code, 128 + signal, 127/126 when it could not start. */
export function commandStatus(exit: CommandExit): number {
  if (exit.code !== null) return exit.code;
  if (exit.signal !== null) return 128 + ((constants.signals as Record<string, number>)[exit.signal] ?? 0);
  if (exit.spawnError === 'ENOENT') return 127;
  if (exit.spawnError === 'EACCES') return 126;
  return EXIT.failure;
}

/**
 * shadowctl's exit code (S7): our own Ctrl+C → 130 and SIGTERM → 143; else from the run's final
 * reason: timeout → 124, shutdown → 143, user_cancel by Ctrl+C → 130; else the command's own
 * status, but never 0 for a run that did not complete.
 */
export function runExitCode(signal: HandledSignal | null, run: Pick<RunDetail, 'status' | 'reason' | 'trigger'> | null, commandCode: number): number {
  if (signal === 'SIGINT') return EXIT.interrupted;
  if (signal === 'SIGTERM') return EXIT.terminated;
  if (run && run.status !== 'completed') {
    if (run.reason === 'timeout') return EXIT.timeout;
    if (run.reason === 'shutdown') return EXIT.terminated;
    if (run.reason === 'user_cancel' && run.trigger === 'ctrl_c') return EXIT.interrupted;
    if (commandCode === 0) return EXIT.failure;
  }
  return commandCode;
}

/** One line for stderr: run id, outcome, counts, and how to undo or resume. */
export function summaryLine(o: RunOutcome, prefix: string): string {
  const parts = [`shadowctl: run ${o.run} ${o.status}`];
  if (o.reason) parts.push(`: ${o.reason}${o.trigger ? ` (${o.trigger})` : ''}${o.action ? `, ${o.action}` : ''}`);
  parts.push(`; command ${describeExit(o.command)}`);
  const c = o.cancel;
  if (c && !c.dryRun) parts.push(`; ${c.removed.length} removed, ${c.restored.length} restored, ${c.preserved.length} preserved`);
  if (o.final) parts.push(`; final checkpoint ${shortOid(o.final)}`);
  if (c?.preAbort) parts.push(`; undo with: ${prefix} undo`);
  if (o.resumable) parts.push(`; resume with: ${c?.resume ?? `${prefix} resume --run ${o.run}`}`);
  parts.push(`; exit ${o.exitCode}`);
  return parts.join('');
}

/** "exited 0", "killed by SIGTERM", "not found (ENOENT)". */
function describeExit(e: CommandExit): string {
  if (e.code !== null) return `exited ${e.code}`;
  if (e.signal !== null) return `killed by ${e.signal}`;
  if (e.spawnError !== null) return `could not start (${e.spawnError})`;
  return 'not started';
}
