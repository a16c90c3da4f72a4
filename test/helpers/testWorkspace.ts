import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CliResult } from './shadowctl.js';
import { runCli } from './shadowctl.js';
import { makeTempDir } from './tempDir.js';

/** A hermetic workspace for one integration test: its own dir, runtime dir (socket) and daemon. */
export interface TestWorkspace {
  /** Real path of the workspace. */
  dir: string;
  /** SHADOW_RUNTIME_DIR for this test: a short private dir, so sockets never collide. */
  runtimeDir: string;
  /** Environment for the CLI and daemon (runtime dir, HOME, git identity). */
  env: NodeJS.ProcessEnv;
  /** Runs shadowctl with `-C dir` and this environment. */
  cli(args: string[], opts?: { cwd?: string; timeoutMs?: number; input?: string }): Promise<CliResult>;
  /** Runs shadowctl and parses its --json output, failing the test on a non-zero exit. */
  json<T = any>(args: string[]): Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Stops the daemon (if any) and removes everything. */
  cleanup(): Promise<void>;
}

/** Creates a workspace; `git: true` makes it a repository with one commit. */
export function makeTestWorkspace(opts: { git?: boolean } = {}): TestWorkspace {
  const { dir, cleanup: rmDir } = makeTempDir('shadow-ws-');
  const runtimeDir = mkdtempSync('/tmp/srt-');
  const home = join(runtimeDir, 'home');
  const env: NodeJS.ProcessEnv = {
    SHADOW_RUNTIME_DIR: join(runtimeDir, 'run'),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    // The backup stores (issue #10.8) go under the test's own home, never the user's.
    XDG_DATA_HOME: join(home, '.local', 'share'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
  };
  if (opts.git) {
    execFileSync('git', ['init', '-q', '-b', 'main', dir], { env: { ...process.env, ...env } });
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', 'init'], { cwd: dir, env: { ...process.env, ...env } });
  }
  const cli = (args: string[], o: { cwd?: string; timeoutMs?: number; input?: string } = {}) =>
    runCli(['-C', dir, ...args], { cwd: o.cwd ?? dir, env, timeoutMs: o.timeoutMs, input: o.input });
  return {
    dir,
    runtimeDir,
    env,
    cli,
    async json(args) {
      const r = await cli([...args, '--json']);
      if (r.code !== 0) throw new Error(`shadowctl ${args.join(' ')} exited ${r.code}: ${r.stdout} ${r.stderr}`);
      return r.json();
    },
    async cleanup() {
      await stopDaemonIn(dir, env);
      rmDir();
      rmSync(runtimeDir, { recursive: true, force: true });
    },
  };
}

/** Runs native git in `dir` with the workspace's environment. */
export function gitIn(ws: TestWorkspace, args: string[], extraEnv: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, { cwd: ws.dir, env: { ...process.env, ...ws.env, ...extraEnv }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).trim();
}

/** Writes a workspace-relative file, creating its directories (and setting its mode if given). */
export function writeIn(ws: TestWorkspace, rel: string, content: string | Buffer, mode?: number): void {
  const full = join(ws.dir, rel);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
  if (mode !== undefined) chmodSync(full, mode);
}

/** Reads a workspace-relative file as utf8. */
export function readIn(ws: TestWorkspace, rel: string): string {
  return readFileSync(join(ws.dir, rel), 'utf8');
}

/** Writes files `data/d<i % 50>/f<i>.txt` for i in [from, from + count), each holding `${tag} ${i}`. */
export function fillData(ws: TestWorkspace, count: number, tag: string, from = 0): void {
  for (let i = from; i < from + count; i++) {
    const dir = join(ws.dir, 'data', `d${i % 50}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), `${tag} ${i}\n`);
  }
}

/** Stops the daemon of `dir` politely, then makes sure no process of the test outlives it. */
export async function stopDaemonIn(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const status = await runCli(['-C', dir, 'daemon', 'status', '--json'], { cwd: dir, env: { ...env, SHADOW_NO_AUTOSTART: '1' } }).catch(() => null);
  await runCli(['-C', dir, 'daemon', 'stop'], { cwd: dir, env }).catch(() => null);
  try {
    const pid = status?.code === 0 ? (status.json() as { daemon?: { pid?: number } }).daemon?.pid : undefined;
    if (pid) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
