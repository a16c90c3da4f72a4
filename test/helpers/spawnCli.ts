import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { CliResult } from './shadowctl.js';
import { CLI_ENTRY } from './shadowctl.js';

/** A shadowctl process left running, so a test can signal it (S5.1 Ctrl+C / SIGTERM). */
export interface RunningCli {
  /** The process; with `detached` it leads its own process group (pid = pgid). */
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  /** Error output so far. */
  stderr(): string;
  /** Resolves when it exits. */
  done: Promise<CliResult>;
}

/**
 * Starts `node dist/client/shadowctl.cjs ...args` without waiting. `detached: true` puts it in its
 * own process group, as a shell puts a foreground job, so `process.kill(-pid, 'SIGINT')` is what
 * a terminal's Ctrl+C does.
 */
export function spawnCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; detached?: boolean; timeoutMs?: number }): RunningCli {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  delete env.SHADOW_RUN_ID;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const stdout = () => Buffer.concat(out).toString('utf8');
  const stderr = () => Buffer.concat(err).toString('utf8');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`shadowctl ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${stdout()}\nstderr: ${stderr()}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const so = stdout();
      const se = stderr();
      resolve({
        code: code ?? 128 + (signal ? constants.signals[signal] : 0),
        stdout: so,
        stderr: se,
        json<T>(): T {
          try {
            return JSON.parse(so) as T;
          } catch {
            throw new Error(`shadowctl ${args.join(' ')}: stdout is not one JSON object (exit ${code})\nstdout: ${so}\nstderr: ${se}`);
          }
        },
      });
    });
  });
  return { child, stdout, stderr, done };
}

/** True while process `pid` exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
