/**
 * `shadowd recover ...`: a one-shot mode of the daemon binary reading backup stores without a
 * daemon (issue #10.8): the workspace may be gone, and reading git objects needs daemon code
 * that shadowctl must not load. `shadowctl recover` spawns it and prints its JSON answer.
 *   shadowd recover --list
 *   shadowd recover --log --from WORKSPACE|STORE [-n N]
 *   shadowd recover --from WORKSPACE|STORE [--checkpoint C] --into DIR
 * Prints one JSON object on stdout: the result, or `{ "error": {code, message, details} }`.
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ShadowError, toShadowError } from '../../shared/errors.js';
import type { BackupMeta } from '../store/backupLocation.js';
import { backupRoot } from '../store/backupLocation.js';
import { readBackupMeta } from '../store/backupFiles.js';
import { CheckpointReader } from '../store/checkpointReader.js';
import { RefStore } from '../store/refStore.js';
import { validateTreePath } from '../store/validateTreePath.js';

/** One backup store in a listing. */
export interface BackupListing extends BackupMeta {
  /** The store's path. */
  store: string;
  /** Whether the workspace still exists. */
  workspaceExists: boolean;
}

/** Every backup store under the backup root, newest first. */
export function listBackups(env: NodeJS.ProcessEnv): BackupListing[] {
  const root = backupRoot(env);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ShadowError('BACKUP_FAILED', `Cannot list the backup stores in ${root}: ${(err as Error).message}`, { root, errno: (err as NodeJS.ErrnoException).code }, { cause: err });
  }
  const out: BackupListing[] = [];
  for (const name of names) {
    if (!name.endsWith('.git')) continue;
    const meta = readBackupMeta(join(root, name));
    if (meta) out.push({ ...meta, store: join(root, name), workspaceExists: existsSync(meta.workspace) });
  }
  return out.sort((a, b) => b.updatedAt - a.updatedAt);
}

/** The backup store `from` names: a store's path, its folder name, or the workspace it backs up. */
export function findBackup(from: string, env: NodeJS.ProcessEnv, cwd: string): BackupListing {
  const all = listBackups(env);
  const abs = resolve(cwd, from);
  const found = all.find((b) => b.store === abs || b.store === abs.replace(/\/$/, '')) ?? all.find((b) => b.workspace === abs) ?? all.find((b) => b.store.endsWith(`/${from}`));
  if (!found) throw new ShadowError('BACKUP_NOT_FOUND', `No backup store for ${from} in ${backupRoot(env)} (see shadowctl recover --list)`, { from, root: backupRoot(env) });
  return found;
}

/** Writes every file of checkpoint `spec` (default: the newest) of `backup` into the new or empty directory `into`. */
export async function recoverInto(backup: BackupListing, spec: string | undefined, into: string): Promise<object> {
  const refs = new RefStore(backup.store);
  const reader = new CheckpointReader(backup.store, refs);
  const newest = spec === undefined ? await reader.newestHead() : null;
  if (spec === undefined && !newest) throw new ShadowError('CHECKPOINT_NOT_FOUND', `The backup store ${backup.store} holds no checkpoint`, { store: backup.store });
  const commit = newest ? newest.commit : (await reader.resolve(spec as string)).commit;
  const c = await reader.readCommit(commit);
  const files = await reader.readFlatTree(c.tree);
  if (existsSync(into) && readdirSync(into).length > 0) {
    throw new ShadowError('RECOVER_TARGET_INVALID', `${into} exists and is not empty: recover writes only into a new or empty directory`, { into });
  }
  try {
    mkdirSync(into, { recursive: true });
    for (const [path, entry] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      validateTreePath(path);
      const full = join(into, path);
      mkdirSync(dirname(full), { recursive: true });
      const bytes = await reader.readBlob(entry.oid);
      if (entry.mode === '120000') symlinkSync(Buffer.from(bytes).toString('utf8'), full);
      else writeFileSync(full, bytes, { mode: entry.mode === '100755' ? 0o755 : 0o644, flag: 'wx' });
    }
  } catch (err) {
    if (err instanceof ShadowError) throw err;
    throw new ShadowError('BACKUP_FAILED', `Cannot write the recovered files into ${into}: ${(err as Error).message}`, { into, errno: (err as NodeJS.ErrnoException).code }, { cause: err });
  }
  return { store: backup.store, workspace: backup.workspace, checkpoint: { commit, tree: c.tree, time: c.time, subject: c.subject, ref: newest?.ref ?? null }, into, files: files.size };
}

/** The checkpoints of a backup store, newest first. */
export async function backupLog(backup: BackupListing, n: number): Promise<object> {
  const reader = new CheckpointReader(backup.store, new RefStore(backup.store));
  const entries = (await reader.log(n)).map((e) => ({ commit: e.commit, ref: e.ref, time: e.time, subject: e.subject, kind: e.meta.kind ?? null, run: e.meta.run ?? null }));
  return { store: backup.store, workspace: backup.workspace, entries };
}

/** Runs the one-shot mode; returns the process exit code (0, or 1 with an `error` object printed). */
export async function recoverMain(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  let out: object;
  let code = 0;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { list: { type: 'boolean' }, log: { type: 'boolean' }, from: { type: 'string' }, checkpoint: { type: 'string' }, into: { type: 'string' }, n: { type: 'string', short: 'n' } },
      strict: true,
    });
    if (values.list || (!values.from && !values.into)) {
      out = { backups: listBackups(env) };
    } else {
      if (!values.from) throw new ShadowError('USAGE', 'recover: --from WORKSPACE|STORE is required (see --list)', { option: 'from' });
      const backup = findBackup(values.from, env, cwd);
      if (values.log) out = await backupLog(backup, Number(values.n ?? 20) || 20);
      else if (!values.into) throw new ShadowError('USAGE', 'recover: --into DIR is required to restore (or --log to list checkpoints)', { option: 'into' });
      else out = await recoverInto(backup, values.checkpoint, resolve(cwd, values.into));
    }
  } catch (err) {
    const e = err instanceof ShadowError ? err : (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? new ShadowError('USAGE', `recover: ${(err as Error).message}`) : toShadowError(err);
    out = { error: e.toWire() };
    code = 1;
  }
  // Synchronous: the caller exits right after, and a pipe write may otherwise still be queued.
  writeSync(1, `${JSON.stringify(out)}\n`);
  return code;
}
