import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The shipped CLI, the bundle the `shadowctl` bin runs (tests run after globalSetup's build). */
export const CLI_ENTRY = fileURLToPath(new URL('../../dist/client/shadowctl.cjs', import.meta.url));

/** Options of runCli. */
export interface RunCliOptions {
  /** Working directory of the CLI process. */
  cwd: string;
  /** Variables added to (or, when undefined, removed from) the inherited environment. */
  env?: NodeJS.ProcessEnv;
  /** Text written to the CLI's stdin (stdin is closed either way). */
  input?: string;
  /** Kill the CLI and fail after this long; default 30 000 ms. */
  timeoutMs?: number;
}

/** What one CLI invocation produced. */
export interface CliResult {
  /** Exit code (128 + n when killed by signal n). */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
  /** stdout parsed as the one JSON object `--json` promises; throws with the output if it is not. */
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Runs `node dist/client/shadowctl.cjs ...args` (spawned directly, never through a shell) and
 * collects its output. NO_COLOR is set so human output is plain unless a test overrides it.
 */
export function runCli(args: string[], opts: RunCliOptions): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS; // vitest's loader flags must not leak into the CLI
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // the CLI may exit without reading its input
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`shadowctl ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${Buffer.concat(out)}\nstderr: ${Buffer.concat(err)}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code: code ?? 128 + (signal ? constants.signals[signal] : 0),
        stdout,
        stderr,
        json<T>(): T {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`shadowctl ${args.join(' ')}: stdout is not one JSON object (exit ${code})\nstdout: ${stdout}\nstderr: ${stderr}`);
          }
        },
      });
    });
  });
}
