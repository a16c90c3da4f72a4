/**
 * Where a workspace's backup store lives, outside the work tree (issue #10.8): a job that runs
 * `rm -rf .git` (or deletes `.shadow/`, or the whole project) takes the primary store with it,
 * and this copy is what a cancel, an undo or `shadowctl recover` then reads.
 * `$SHADOW_BACKUP_DIR`, else `$XDG_DATA_HOME/shadow`, else `~/.local/share/shadow`; one bare
 * repository per workspace, named `<readable name>-<hash of the real path>.git`.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';

/** File in a backup store naming its workspace and newest checkpoint (JSON, BackupMeta). */
export const BACKUP_META_FILE = 'shadow-workspace.json';
/** File in the state folder naming its backup store: a state folder without it was re-created (its store deleted). */
export const BACKUP_MARKER_FILE = 'backup-store';
/** Trees and commits of a backup store whose every object it holds, one oid a line (backupStore.ts). */
export const BACKUP_CLOSED_FILE = 'shadow-state/closed.txt';
/** Folder in a backup store holding copies of the state folder's run records. */
export const BACKUP_RUNS_DIR = 'shadow-state/runs';

/** What a backup store says about itself (its BACKUP_META_FILE). */
export interface BackupMeta {
  /** Format version of this file. */
  version: 1;
  /** Real path of the workspace the store backs up. */
  workspace: string;
  /** `git` or `plain`, as the workspace was when last synced. */
  kind: 'git' | 'plain';
  /** The newest checkpoint mirrored, or null before the first. */
  newest: { commit: string; ref: string; time: number } | null;
  /** When the store was last synced (ms since the epoch). */
  updatedAt: number;
}

/** The folder holding every backup store, from the environment. */
export function backupRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SHADOW_BACKUP_DIR && isAbsolute(env.SHADOW_BACKUP_DIR)) return env.SHADOW_BACKUP_DIR;
  const data = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(env.HOME || homedir(), '.local', 'share');
  return join(data, 'shadow');
}

/**
 * The backup store of the workspace whose real path is `workspace`: stable for that path (a
 * SHA-256 prefix), readable in a listing (the folder's name, reduced to safe characters).
 */
export function backupStorePath(workspace: string, env: NodeJS.ProcessEnv = process.env): string {
  const id = createHash('sha256').update(workspace).digest('hex').slice(0, 16);
  const name = basename(workspace).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40) || 'root';
  return join(backupRoot(env), `${name}-${id}.git`);
}
