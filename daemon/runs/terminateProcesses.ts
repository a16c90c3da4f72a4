/**
 * Ends the processes a run registered (S4.5, S5.6): SIGTERM to each process group (falling
 * back to the pid when it leads none) and to each descendant, a wait until every one is gone,
 * then SIGKILL for the rest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isAlive } from '../processAlive.js';

/** Outcome per pid: ended by SIGTERM, killed, or already gone. */
export interface TerminationResult {
  /** Pids that were alive when termination began. */
  terminated: number[];
  /** Pids that needed SIGKILL. */
  killed: number[];
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

/** Sends `signal` to `pid` alone, if it is still there. */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * The live descendants of `roots`, from /proc's parent links (empty without procfs). A
 * descendant that leads its own session detached on purpose (a daemon, e.g. another
 * workspace's shadowd started by the job) is left alone, with everything under it.
 */
function descendantsOf(roots: number[]): number[] {
  if (roots.length === 0) return []; // no run process: spare the /proc scan
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // After the last ')': state ppid pgrp session ...
    const [state, ppid, , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    if (state === 'Z' || Number(session) === pid) continue;
    const siblings = children.get(Number(ppid)) ?? [];
    siblings.push(pid);
    children.set(Number(ppid), siblings);
  }
  const found = new Set<number>();
  const queue = [...roots];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      if (found.has(child) || child === process.pid || roots.includes(child)) continue;
      found.add(child);
      queue.push(child);
    }
  }
  return [...found];
}

/** Terminates `pids` and their descendants: SIGTERM, wait up to `graceMs` for all to be gone, then SIGKILL. */
export async function terminateProcesses(pids: number[], graceMs: number): Promise<TerminationResult> {
  const alive = [...new Set(pids)].filter((pid) => pid > 1 && pid !== process.pid && isAlive(pid));
  // A registered pid need not lead a group: on a terminal `shadowctl run` keeps its command in
  // the terminal's foreground group (client/cli/runSupervisor.ts), and a job may move its own
  // children to other groups. So descendants are signalled one by one too, found before any
  // signal: once their parent dies they are re-parented out of reach.
  let tree = descendantsOf(alive);
  for (const pid of alive) signalGroup(pid, 'SIGTERM');
  for (const pid of tree) signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = alive.filter(isAlive);
  let leftTree = tree.filter(isAlive);
  for (let wait = 5; left.length + leftTree.length > 0 && Date.now() < deadline; wait = Math.min(wait * 2, 50)) {
    await new Promise((r) => setTimeout(r, wait));
    left = left.filter(isAlive);
    leftTree = leftTree.filter(isAlive);
  }
  // Children forked during the grace period are found again from whatever is still alive.
  tree = [...new Set([...leftTree, ...descendantsOf([...left, ...leftTree])])];
  for (const pid of left) signalGroup(pid, 'SIGKILL');
  for (const pid of tree) signalPid(pid, 'SIGKILL');
  return { terminated: alive, killed: left };
}
