/**
 * Deterministic crash points for the fault-injection harness (scripts/faults.mjs,
 * docs/RELIABILITY.md): random-instant kills rarely land inside windows a few microseconds wide,
 * so the harness starts a daemon with `SHADOW_FAULT_KILL_AT=<name>` (or `<name>#<n>`: the n-th
 * time that point is reached) and the daemon SIGKILLs itself right there. Without the variable a
 * fault point is one comparison: the environment is read once, at load.
 *
 * The same points can pause instead (`SHADOW_FAULT_PAUSE_AT=<name>[#n]`): the daemon creates the
 * file named by `SHADOW_FAULT_PAUSE_FILE` and blocks, synchronously, until that file is removed.
 * A test thus lands its own writes exactly inside a window (between a pre-abort commit and the
 * restore, say), with no event-loop turn of the daemon in between.
 */
import { existsSync, writeFileSync } from 'node:fs';

/** The environment variable naming the fault point to die at. */
export const FAULT_ENV = 'SHADOW_FAULT_KILL_AT';
/** The environment variable naming the fault point to pause at. */
export const PAUSE_ENV = 'SHADOW_FAULT_PAUSE_AT';
/** The file a paused daemon creates, and waits to see removed. */
export const PAUSE_FILE_ENV = 'SHADOW_FAULT_PAUSE_FILE';
/** A pause never lasts longer than this (a test that forgot to release must not hang a daemon for good). */
const PAUSE_MAX_MS = 60_000;

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
const pauseFile = process.env[PAUSE_FILE_ENV];
const pause = pauseFile ? parseFaultSpec(process.env[PAUSE_ENV]) : null;
let hits = 0;
let pauseHits = 0;

/**
 * Dies with SIGKILL here if `SHADOW_FAULT_KILL_AT` names this point (and this is its n-th hit);
 * pauses here if `SHADOW_FAULT_PAUSE_AT` does; else a no-op.
 */
export function faultPoint(name: string): void {
  if (pause !== null && pause.name === name && ++pauseHits === pause.nth) pauseHere(name, pauseFile as string);
  if (spec === null || spec.name !== name || ++hits < spec.nth) return;
  // SIGKILL, not exit(): no handler, no flush, no finally block runs — a real crash.
  process.kill(process.pid, 'SIGKILL');
}

/** Creates `file` and blocks the whole process (no event-loop turn) until it is removed. */
function pauseHere(name: string, file: string): void {
  writeFileSync(file, `${process.pid} ${name}\n`);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + PAUSE_MAX_MS;
  while (existsSync(file) && Date.now() < deadline) Atomics.wait(nap, 0, 0, 2);
}
