import { execFileSync } from 'node:child_process';
import { realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './shadowctl.js';
import type { TestWorkspace } from './testWorkspace.js';
import { stopDaemonIn } from './testWorkspace.js';

/** A linked worktree (`git worktree add`) of a test repository, served by its own daemon. */
export interface LinkedWorktree extends TestWorkspace {
  /** The worktree's id: its folder under `<common dir>/worktrees/`. */
  id: string;
}

/**
 * Adds a linked worktree of `main` on a new branch `name`, beside the main worktree's runtime
 * files (removed with them), sharing its environment; cleanup stops its daemon only.
 */
export function addLinkedWorktree(main: TestWorkspace, name: string): LinkedWorktree {
  const env = main.env;
  const path = join(main.runtimeDir, name);
  execFileSync('git', ['worktree', 'add', '-q', '-b', name, path], { cwd: main.dir, env: { ...process.env, ...env } });
  const dir = realpathSync(path);
  const gitDir = execFileSync('git', ['rev-parse', '--absolute-git-dir'], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
  const id = gitDir.split('/').at(-1) as string;
  const cli = (args: string[], o: { cwd?: string; timeoutMs?: number; input?: string } = {}) =>
    runCli(['-C', dir, ...args], { cwd: o.cwd ?? dir, env, timeoutMs: o.timeoutMs, input: o.input });
  return {
    id,
    dir,
    runtimeDir: main.runtimeDir,
    env,
    cli,
    async json(args) {
      const r = await cli([...args, '--json']);
      if (r.code !== 0) throw new Error(`shadowctl ${args.join(' ')} in worktree ${id} exited ${r.code}: ${r.stdout} ${r.stderr}`);
      return r.json();
    },
    async cleanup() {
      await stopDaemonIn(dir, env);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
