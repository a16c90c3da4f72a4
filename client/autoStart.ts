/**
 * Starting a daemon in the background on first use (S2.1, S3.5), and the socket plumbing the
 * client shares with it. Plain node:net and node:child_process: nothing heavy is loaded here.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../shared/errors.js';
import { ERROR_CODES, ShadowError } from '../shared/errors.js';
import { runtimeDir, socketPath } from '../shared/paths.js';

/** Options of startDaemon. */
export interface StartDaemonOptions {
  /** The socket to poll; default: computed from env and workspace like the daemon does. */
  socketPath?: string;
  /** Give up after this long (default 15 000 ms). */
  timeoutMs?: number;
  /** Daemon entry script (tests use a fixture); default dist/daemon/main.js. */
  entry?: string;
}

/** Lines of the daemon's stderr quoted in a DAEMON_START_FAILED message. */
const STDERR_LINES = 20;

/** The uid used to name the runtime directory. */
export function currentUid(): number {
  return process.getuid?.() ?? 0;
}

/** The runtime directory for `env`, as the daemon computes it. */
export function clientRuntimeDir(env: NodeJS.ProcessEnv): string {
  return runtimeDir(env, currentUid(), tmpdir());
}

/**
 * Refuses a runtime directory another user could have planted (S3.1): a socket in it could be
 * a fake daemon. Returns false when it does not exist yet.
 */
export function checkRuntimeDir(dir: string): boolean {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return false;
  }
  const uid = currentUid();
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new ShadowError('RUNTIME_DIR_UNSAFE', `Runtime directory ${dir} must be a directory owned by uid ${uid} with mode 0700`, {
      dir,
      uid: st.uid,
      mode: (st.mode & 0o7777).toString(8),
    });
  }
  return true;
}

/** Creates the runtime directory (0700) if needed and checks it. */
export function ensureRuntimeDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkRuntimeDir(dir);
}

/** Connects to a Unix socket; rejects with the errno error (ENOENT, ECONNREFUSED, ...). */
export function connectSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const onError = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** True when a connect error means "no daemon listens there (yet)". */
export function isNotListening(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EAGAIN';
}

/**
 * Starts `shadowd -C workspace` detached and waits until its socket accepts a connection.
 * A daemon that exits first fails with DAEMON_START_FAILED and its stderr, unless it exited
 * because another daemon (started by a concurrent client) holds the workspace: then that one is
 * awaited instead.
 */
export async function startDaemon(workspace: string, env: NodeJS.ProcessEnv, opts: StartDaemonOptions = {}): Promise<void> {
  const dir = clientRuntimeDir(env);
  ensureRuntimeDir(dir);
  const sock = opts.socketPath ?? socketPath(dir, workspace);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const entry = opts.entry ?? fileURLToPath(new URL('../daemon/main.js', import.meta.url));
  const errPath = sock.replace(/\.sock$/, '') + '.err';

  // Loaded here, not at the top: only a start needs it, and every shadowctl run loads this file.
  const { spawn } = await import('node:child_process');
  const errFd = openSync(errPath, 'w', 0o600);
  // An object, not a `let`: the callbacks below set it and TS would narrow a `let` to null.
  const child: { exit: { code: number | null; signal: string | null; error?: Error } | null } = { exit: null };
  try {
    const proc = spawn(process.execPath, [entry, '-C', workspace], {
      detached: true,
      stdio: ['ignore', 'ignore', errFd],
      env,
      cwd: '/',
    });
    proc.on('exit', (code, signal) => (child.exit = { code, signal }));
    proc.on('error', (error) => (child.exit = { code: null, signal: null, error }));
    proc.unref();
  } finally {
    closeSync(errFd);
  }

  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  let watching = true;
  for (;;) {
    try {
      const probe = await connectSocket(sock);
      probe.destroy();
      return;
    } catch (err) {
      if (!isNotListening(err)) {
        throw new ShadowError('DAEMON_UNREACHABLE', `Cannot connect to ${sock}: ${(err as Error).message}`, {
          workspace,
          socket: sock,
          errno: (err as NodeJS.ErrnoException).code,
        });
      }
    }
    if (watching && child.exit) {
      const { code, signal, error } = child.exit;
      const stderr = readTail(errPath);
      // Lost a start race: another client's daemon owns the workspace; wait for it instead.
      if (!error && /DAEMON_RUNNING/.test(stderr)) {
        watching = false;
      } else {
        const why = error ? error.message : signal ? `signal ${signal}` : `code ${code}`;
        // The daemon ends its fatal message with its error code ("... [CONFIG_INVALID]"): keep
        // that code, so a bad config is a failure to fix, not an unreachable daemon.
        const tagged = /\[([A-Z_]+)\]\s*$/.exec(stderr)?.[1];
        if (tagged && tagged !== 'INTERNAL' && Object.hasOwn(ERROR_CODES, tagged)) {
          throw new ShadowError(tagged as ErrorCode, stderr.replace(/^shadowd: /, '').replace(/\s*\[[A-Z_]+\]\s*$/, ''), { workspace, code, stderr, errFile: errPath });
        }
        throw new ShadowError('DAEMON_START_FAILED', `shadowd exited (${why}): ${stderr || '(no stderr)'}`, {
          workspace,
          code,
          signal,
          stderr,
          errFile: errPath,
        });
      }
    }
    if (Date.now() >= deadline) {
      throw new ShadowError('DAEMON_START_FAILED', `shadowd did not answer on ${sock} within ${timeoutMs} ms (stderr in ${errPath})`, {
        workspace,
        socket: sock,
        timeoutMs,
        stderr: readTail(errPath),
      });
    }
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 50);
  }
}

/** The last lines of a file, or '' if unreadable. */
function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-STDERR_LINES).join('\n').slice(-4000);
  } catch {
    return '';
  }
}
