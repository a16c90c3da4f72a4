/** Types of scripts/faultsCore.mjs (plain JS, shared by scripts/faults.mjs and test/integration/faults.test.ts). */

/** How a kill is made: after a random delay, or at a fault point of daemon/faultPoint.ts. */
export type KillMode = 'timer' | 'point';

/** One planned kill. */
export interface PlannedKill {
  mode: KillMode;
  /** The fault point a `point` kill is armed with; null for a timer kill. */
  point: string | null;
}

/** One kill as it happened. */
export interface KillRecord {
  round: number;
  mode: KillMode;
  /** `<delay> ms` or the SHADOW_FAULT_KILL_AT value. */
  at: string;
  /** Whether the request was still unanswered when the daemon died. */
  inFlight: boolean;
  /** Whether a restore journal was left for the next daemon. */
  journal: boolean;
  /** `.lock` files left under refs/shadow/ (and packed-refs.lock). */
  locks: string[];
  /** Which allowed tree state the working tree was found in, or null (a failure). */
  outcome: string | null;
  ok: boolean;
}

/** A failed recovery. */
export interface KillFailure {
  round: number;
  mode: KillMode;
  at: string;
  problems: string[];
  workspace: string;
}

/** Counts of one phase. */
export interface PhaseReport {
  list: KillRecord[];
  kills: number;
  timer: number;
  point: number;
  inFlight: number;
  reached: number;
  ok: number;
  outcomes: Record<string, number>;
  journals: number;
  locks: number;
  restartMs: number[];
  failures: KillFailure[];
}

/** What runFaults found. */
export interface FaultReport {
  seed: number;
  kills: number;
  files: number;
  failures: number;
  ms: number;
  phases: Record<string, PhaseReport>;
}

/** Options of runFaults. */
export interface FaultOptions {
  kills?: number;
  seed?: number;
  files?: number;
  phases?: string[];
  log?: (line: string) => void;
  keep?: boolean;
  dist?: string;
}

/** The phases, in the order they run. */
export const PHASE_NAMES: string[];
/** A small seeded PRNG (mulberry32). */
export function mulberry32(seed: number): () => number;
/** Which kills a seed makes, per phase. */
export function planKills(seed: number, counts: Record<string, number>): Record<string, PlannedKill[]>;
/** `kills` spread over the phases. */
export function spreadKills(kills: number, phases?: string[]): Record<string, number>;
/** Runs the fault injection; never throws for a failed check. */
export function runFaults(opts?: FaultOptions): Promise<FaultReport>;
/** The report as a table. */
export function formatReport(report: FaultReport): string;
