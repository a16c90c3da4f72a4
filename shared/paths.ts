/**
 * Where things live. Pure functions of their inputs (the callers do the I/O), shared by the
 * daemon and the client so both compute the same socket path.
 */
import { join } from 'node:path';
// Pure-JS SHA-256, not node:crypto: loading node:crypto costs shadowctl ≈ 3.5 ms of start-up, and
// every command needs the socket name (docs/BENCHMARKS.md). Same digest, so the same socket.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** Unix socket paths longer than this are truncated by the kernel or node-ipc (macOS allows 104). */
export const MAX_SOCKET_PATH_BYTES = 103;

/** Name of the optional configuration file in the workspace root. */
export const CONFIG_FILE = 'shadow.config.json';

/** Name of the state folder in a plain (non-git) workspace. */
export const PLAIN_STATE_DIR = '.shadow';

/** Name of the state folder inside a repository's git dir. */
export const GIT_STATE_DIR = 'shadow';

/** Files and folders inside the state folder. */
export const STATE_FILES = {
  /** Holds the daemon's pid; keeps a second daemon off the workspace. */
  lock: 'daemon.lock',
  /** The persisted stat cache. */
  statCache: 'statcache.json',
  /** Rotated pino logs. */
  logs: 'logs',
  /** Sync cookies: the only watched part of the state folder. */
  cookies: 'cookies',
  /** stderr of a daemon started in the background by shadowctl. */
  daemonErr: 'daemon.err',
  /** The private git store of a plain workspace. */
  plainGitDir: 'git',
  /** Names of the packs Shadow wrote into the object store, one a line (only those are merged). */
  ownPacks: 'packs.txt',
} as const;

/** The private runtime directory holding sockets (mode 0700), chosen from the environment. */
export function runtimeDir(env: NodeJS.ProcessEnv, uid: number, tmp: string): string {
  if (env.SHADOW_RUNTIME_DIR) return env.SHADOW_RUNTIME_DIR;
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && Buffer.byteLength(xdg) < 60) return join(xdg, 'shadow');
  return join(tmp, `shadow-${uid}`);
}

/**
 * The socket of the daemon serving `workspaceRealPath`: a hash of the path, so the socket path
 * stays short however long the workspace path is.
 */
export function socketPath(dir: string, workspaceRealPath: string): string {
  const id = bytesToHex(sha256(utf8ToBytes(workspaceRealPath))).slice(0, 20);
  return join(dir, `${id}.sock`);
}
