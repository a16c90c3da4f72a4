/**
 * Process liveness for the CLI. The same probe as daemon/processAlive.ts, kept apart because the
 * CLI never imports daemon modules (start-up cost, layering).
 */
import { readFileSync } from 'node:fs';

/**
 * Whether a process is still running. A zombie has exited (only its parent has not reaped it
 * yet), so it counts as gone: its parent may be a test runner, an editor that auto-started the
 * daemon, or an init that reaps late (a daemon that exited stayed "alive" for seconds, and for
 * good while its parent lived: `daemon stop` then timed out). EPERM: it exists, owned by another user.
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
