/**
 * Deterministic crash points for the fault-injection harness (scripts/faults.mjs,
 * docs/RELIABILITY.md): random-instant kills rarely land inside windows a few microseconds wide,
 * so the harness starts a daemon with `SHADOW_FAULT_KILL_AT=<name>` (or `<name>#<n>`: the n-th
 * time that point is reached) and the daemon SIGKILLs itself right there. Without the variable a
 * fault point is one comparison: the environment is read once, at load.
 */

/** The environment variable naming the fault point to die at. */
export const FAULT_ENV = 'SHADOW_FAULT_KILL_AT';

interface FaultSpec {
  name: string;
  nth: number;
}

/** Parses `name` or `name#n` (n ≥ 1); anything else disables fault points. */
export function parseFaultSpec(value: string | undefined): FaultSpec | null {
  const m = value ? /^([\w.-]+)(?:#(\d+))?$/.exec(value) : null;
  if (!m) return null;
  const nth = m[2] ? Number(m[2]) : 1;
  return nth >= 1 ? { name: m[1] as string, nth } : null;
}

const spec = parseFaultSpec(process.env[FAULT_ENV]);
let hits = 0;

/** Dies with SIGKILL here if `SHADOW_FAULT_KILL_AT` names this point (and this is its n-th hit); else a no-op. */
export function faultPoint(name: string): void {
  if (spec === null || spec.name !== name || ++hits < spec.nth) return;
  // SIGKILL, not exit(): no handler, no flush, no finally block runs — a real crash.
  process.kill(process.pid, 'SIGKILL');
}
