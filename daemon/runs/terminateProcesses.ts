/**
 * Ends the processes a run registered (S4.5, S5.6): SIGTERM to each process group (falling
 * back to the pid when it leads none), a wait until every one is gone, then SIGKILL for the rest.
 */
import { readFileSync } from 'node:fs';

/** Outcome per pid: ended by SIGTERM, killed, or already gone. */
export interface TerminationResult {
  /** Pids that were alive when termination began. */
  terminated: number[];
  /** Pids that needed SIGKILL. */
  killed: number[];
}

/**
 * Whether a process is still running. A zombie has exited (only its parent has not reaped it
 * yet), so it counts as gone: its parent may be a test runner or a shell that reaps late.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces or ')': the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: kill(0) succeeded, so it is there
  }
}

/** Sends `signal` to the process group of `pid`, or to `pid` alone when it leads no group. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
    return;
  } catch {
    // Not a group leader (or the group is gone): signal the process itself.
  }
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Terminates `pids`: SIGTERM, wait up to `graceMs` for all to be gone, then SIGKILL. */
export async function terminateProcesses(pids: number[], graceMs: number): Promise<TerminationResult> {
  const alive = [...new Set(pids)].filter((pid) => pid > 1 && pid !== process.pid && isAlive(pid));
  for (const pid of alive) signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = alive.filter(isAlive);
  for (let wait = 5; left.length > 0 && Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
    await new Promise((r) => setTimeout(r, wait));
    left = left.filter(isAlive);
  }
  for (const pid of left) signalGroup(pid, 'SIGKILL');
  return { terminated: alive, killed: left };
}
