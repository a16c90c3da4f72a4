/**
 * One daemon per workspace (S2.1): `<stateDir>/daemon.lock`, created exclusively, holds the
 * owner's pid. A lock left by a crashed daemon (dead pid, pid reused by another program,
 * garbage or empty content) is stale and cleared.
 */
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ShadowError } from '../shared/errors.js';
import { STATE_FILES } from '../shared/paths.js';
import { isAlive } from './processAlive.js';
import { writeTempFile } from './writeTempFile.js';

/** The held workspace lock. */
export interface WorkspaceLock {
  /** Removes the lock file if it still holds our pid. Idempotent. */
  release(): void;
  /** Path of the lock file. */
  path: string;
}

/** Content of the lock file. */
export interface LockInfo {
  /** Pid of the daemon holding the lock. */
  pid: number;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Real path of the workspace served. */
  workspace: string;
}

/** Lock files this process holds: a second acquire in one process is a second daemon too. */
const heldHere = new Set<string>();

/**
 * Takes the workspace lock in `stateDir` for this process, clearing a stale one once.
 * `isShadowd` decides whether a live pid is a daemon (tests override it). Throws DAEMON_RUNNING
 * when another daemon holds it.
 */
export function acquireWorkspaceLock(stateDir: string, workspace: string, isShadowd: (pid: number) => boolean = isShadowdProcess): WorkspaceLock {
  const path = join(stateDir, STATE_FILES.lock);
  const info: LockInfo = { pid: process.pid, startedAt: new Date().toISOString(), workspace };
  for (let attempt = 0; ; attempt++) {
    try {
      writeExclusive(path, `${JSON.stringify(info)}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ShadowError('STATE_WRITE_FAILED', `Cannot create the workspace lock ${path}: ${(err as Error).message}`, { lock: path, file: path, errno: (err as NodeJS.ErrnoException).code }, { cause: err });
      }
    }
    const owner = readLock(path);
    // Our own pid in a lock we do not hold is a previous daemon's that happened to get the same
    // pid (common in containers after a restart): stale, not ours.
    const held = owner && (owner.pid === process.pid ? heldHere.has(path) : isAlive(owner.pid) && isShadowd(owner.pid));
    if (owner && held) {
      throw new ShadowError('DAEMON_RUNNING', `Another shadowd (pid ${owner.pid}) already serves ${workspace}`, { pid: owner.pid, workspace, lock: path });
    }
    if (attempt >= 1) {
      // Someone recreated it between our unlink and our retry: another daemon won the race.
      throw new ShadowError('DAEMON_RUNNING', `Another shadowd is taking the lock of ${workspace} (${path})`, { pid: owner?.pid ?? null, workspace, lock: path });
    }
    removeIfUnchanged(path, owner);
  }

  heldHere.add(path);
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      if (readLock(path)?.pid === process.pid) removeQuietly(path);
    },
  };
}

/** Whether `pid` runs shadowd. On Linux its command line must name daemon/main, so a pid reused after a kill -9 does not count; elsewhere any live pid does. */
export function isShadowdProcess(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      // `node …/daemon/main.js`, or `node …/.bin/shadowd` when started through the bin link.
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes('daemon/main') || basename(arg) === 'shadowd');
    } catch {
      return false;
    }
  }
  return isAlive(pid);
}


/** The lock's content, or null when it is missing, empty or not what we write. */
function readLock(path: string): LockInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo> | null;
    if (parsed && Number.isSafeInteger(parsed.pid) && (parsed.pid as number) > 0) return parsed as LockInfo;
    return null;
  } catch {
    return null;
  }
}

/**
 * Creates `path` only if absent (EEXIST otherwise), complete: the content goes to a private
 * temp file hard-linked into place, so a racing daemon never reads a half-written lock and
 * judges it garbage.
 */
function writeExclusive(path: string, text: string): void {
  const tmp = writeTempFile(path, text);
  try {
    linkSync(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Filesystems without hard links: plain exclusive create (a racing reader may then see it
    // empty for an instant, the pre-link behaviour).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    const lockFd = openSync(path, 'wx', 0o600);
    try {
      writeSync(lockFd, text);
    } finally {
      closeSync(lockFd);
    }
  } finally {
    removeQuietly(tmp);
  }
}

/** Removes a stale lock unless it changed since we judged it (another daemon took it meanwhile). */
function removeIfUnchanged(path: string, judged: LockInfo | null): void {
  const now = readLock(path);
  if (JSON.stringify(now) !== JSON.stringify(judged)) return;
  removeQuietly(path);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
