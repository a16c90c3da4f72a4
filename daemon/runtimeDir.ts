/**
 * The private directory holding the daemons' sockets (S3.1). node-ipc cannot chmod its socket
 * (it is 0755 under umask 022), so only this directory's 0700 keeps other users out.
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { ShadowError } from '../shared/errors.js';
import { MAX_SOCKET_PATH_BYTES } from '../shared/paths.js';

/**
 * Creates `dir` (and its parents) with mode 0700 and checks it is safe: a real directory, not a
 * symlink, owned by us. A mode too open on our own directory is tightened to 0700; anything
 * else is RUNTIME_DIR_UNSAFE.
 */
export function ensureRuntimeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    // EEXIST: `dir` is a file, or a symlink to nothing: the checks below name the problem.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ShadowError('RUNTIME_DIR_UNSAFE', `Cannot create the runtime directory ${dir}: ${(err as Error).message}`, { dir, errno: (err as NodeJS.ErrnoException).code }, { cause: err });
    }
  }
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  const mode = st.mode & 0o777;
  const facts = { dir, owner: st.uid, mode: `0${mode.toString(8)}` };
  if (st.isSymbolicLink()) {
    throw new ShadowError('RUNTIME_DIR_UNSAFE', `Runtime directory ${dir} is a symlink (owner uid ${st.uid}); refusing to put sockets behind it`, facts);
  }
  if (!st.isDirectory()) {
    throw new ShadowError('RUNTIME_DIR_UNSAFE', `Runtime directory ${dir} is not a directory (owner uid ${st.uid}, mode ${facts.mode})`, facts);
  }
  if (uid !== undefined && st.uid !== uid) {
    throw new ShadowError('RUNTIME_DIR_UNSAFE', `Runtime directory ${dir} is owned by uid ${st.uid}, not by us (uid ${uid}); mode ${facts.mode}`, { ...facts, expectedOwner: uid });
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Throws RUNTIME_DIR_UNSAFE when `path` is too long for a Unix socket (the kernel would truncate it). */
export function assertSocketPathLength(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new ShadowError(
      'RUNTIME_DIR_UNSAFE',
      `Socket path ${path} is ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of Unix sockets; set SHADOW_RUNTIME_DIR to a shorter directory`,
      { path, bytes, max: MAX_SOCKET_PATH_BYTES },
    );
  }
}
