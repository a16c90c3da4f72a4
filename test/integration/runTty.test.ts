/**
 * `shadowctl run` on a real terminal (S5.1, issue #3 acceptance 1): the command stays in the
 * terminal's foreground process group, so it reads what is typed, and a Ctrl+C typed into the
 * terminal reaches it directly. test/fixtures/ptyRun.py plays terminal emulator and job-control
 * shell: shadowctl runs as a foreground job on a fresh pty, and this test types into the pty.
 * runCli.test.ts covers the non-TTY path. Native git is the oracle for "back to the base".
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTree } from '../helpers/gitOracle.js';
import { CLI_ENTRY } from '../helpers/shadowctl.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { makeTestWorkspace } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

const PTY_RUN = fileURLToPath(new URL('../fixtures/ptyRun.py', import.meta.url));

/** `shadowctl run` started on a pty by ptyRun.py. */
interface PtyRun {
  /** The python helper (our side of the terminal). */
  helper: ChildProcess;
  /** What the terminal showed so far: output of shadowctl and the command, echoed input. */
  screen(): string;
  /** Types bytes into the terminal. */
  type(text: string): void;
  /** The terminal's session id (the helper's shell); known once the job started. */
  session: Promise<number>;
  /** shadowctl's exit code, relayed by the helper. */
  done: Promise<number>;
}

let ws: TestWorkspace | undefined;
let pty: PtyRun | null = null;
let sessionId = 0;

afterEach(async () => {
  // Everything spawned on the terminal lives in its session; the helper outside it.
  for (const pid of sessionMembers(sessionId)) kill(pid);
  if (pty?.helper.pid && pty.helper.exitCode === null) kill(pty.helper.pid);
  pty = null;
  sessionId = 0;
  await ws?.cleanup();
  ws = undefined;
});

/** SIGKILLs `pid`, tolerating that it is gone. */
function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Live (non-zombie) processes of session `sid`: whatever the run left on the terminal. */
function sessionMembers(sid: number): number[] {
  if (!sid) return [];
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // After the last ')': state ppid pgrp session ...
    const [state, , , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state !== 'Z' && Number(session) === sid) members.push(Number(name));
  }
  return members;
}

/** A repository with uncommitted work of the user's own and a config; its native tree (the run's base). */
function setup(config: Record<string, unknown> = {}): string {
  ws = makeTestWorkspace({ git: true });
  writeFileSync(join(ws.dir, 'shadow.config.json'), JSON.stringify({ autoSnapshot: { enabled: false }, ...config }));
  writeFileSync(join(ws.dir, 'notes.txt'), 'my uncommitted notes\n');
  return nativeTree(ws.dir, { repo: true, env: ws.env });
}

/** Starts `shadowctl -C ws run --json -- command...` as the foreground job of a new terminal. */
function startOnPty(command: string[]): PtyRun {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'dumb', ...ws!.env };
  delete env.NODE_OPTIONS; // vitest's loader flags must not leak into the CLI
  delete env.SHADOW_RUN_ID;
  const args = [PTY_RUN, process.execPath, CLI_ENTRY, '-C', ws!.dir, 'run', '--json', '--', ...command];
  const helper = spawn('python3', args, { cwd: ws!.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  helper.stdout!.on('data', (b: Buffer) => out.push(b));
  helper.stderr!.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const screen = () => Buffer.concat(out).toString('utf8');
  const session = waitFor(() => Number(/^ptyRun session (\d+) job \d+$/m.exec(err)?.[1] ?? 0), 'the job on the pty', 15_000).then((sid) => (sessionId = sid));
  const done = new Promise<number>((resolve) => helper.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  pty = { helper, screen, type: (text) => helper.stdin!.write(text), session, done };
  return pty;
}

/** The `--json` object shadowctl printed on the terminal (indented there), among the command's output. */
function runJson(screen: string): Record<string, unknown> {
  const lines = screen.replace(/\r/g, '').split('\n');
  const start = lines.lastIndexOf('{');
  const end = lines.indexOf('}', start);
  if (start < 0 || end < 0) throw new Error(`no JSON outcome on the terminal:\n${screen}`);
  return JSON.parse(lines.slice(start, end + 1).join('\n')) as Record<string, unknown>;
}

/** Waits until the terminal shows `text`, failing with the screen so far. */
async function waitForScreen(p: PtyRun, text: string): Promise<void> {
  await waitFor(() => p.screen().includes(text) || p.helper.exitCode !== null, `"${text}" on the terminal`, 30_000);
  if (!p.screen().includes(text)) throw new Error(`the run ended before printing "${text}":\n${p.screen()}`);
}

describe('shadowctl run on a terminal (S5.1, issue #3)', () => {
  it('S5.1: the command reads a line typed into the terminal; the run completes, exit 0', async () => {
    setup();
    const p = startOnPty(['sh', '-c', 'echo ready; read x; echo "got $x" > answer.txt']);
    await waitForScreen(p, 'ready');
    p.type('hello\r');
    expect(await p.done).toBe(0);
    expect(runJson(p.screen())).toMatchObject({ status: 'completed', exitCode: 0, cancel: null });
    expect(readFileSync(join(ws!.dir, 'answer.txt'), 'utf8')).toBe('got hello\n');
    expect(sessionMembers(await p.session)).toEqual([]);
  });

  it('S5.1/S5.3: Ctrl+C typed into the terminal → user_cancel, tree back to the base, nothing left running, exit 130', async () => {
    const before = setup();
    const p = startOnPty(['sh', '-c', 'echo partial > new.txt; echo more >> notes.txt; echo started; sleep 30']);
    await waitForScreen(p, 'started');
    const sid = await p.session;
    p.type('\x03'); // the line discipline sends SIGINT to the foreground group: shadowctl and the command
    expect(await p.done).toBe(130);
    expect(runJson(p.screen())).toMatchObject({ status: 'cancelled', reason: 'user_cancel', trigger: 'ctrl_c', action: 'remove_all', exitCode: 130 });
    expect(sessionMembers(sid)).toEqual([]); // sh and its sleep are gone
    expect(nativeTree(ws!.dir, { repo: true, env: ws!.env })).toBe(before);
    expect(readFileSync(join(ws!.dir, 'notes.txt'), 'utf8')).toBe('my uncommitted notes\n'); // the base, not HEAD
  });

  // The command and everything it started ignore Ctrl+C (and, in the second case, SIGTERM too):
  // the daemon's termination (S4.5: SIGTERM, then SIGKILL after gracefulShutdownTimeout) must
  // still end all of it, though on a terminal the command leads no process group of its own.
  it.each([
    ['SIGINT', 'trap "" INT'],
    ['SIGINT and SIGTERM', 'trap "" INT TERM'],
  ])('S5.1/S4.5: a command ignoring %s is still ended by the daemon after Ctrl+C, exit 130', async (_what, trap) => {
    const before = setup({ gracefulShutdownTimeout: '1s' });
    const p = startOnPty(['sh', '-c', `${trap}; echo partial > new.txt; echo started; sleep 30`]);
    await waitForScreen(p, 'started');
    const sid = await p.session;
    const typedAt = Date.now();
    p.type('\x03');
    expect(await p.done).toBe(130);
    expect(Date.now() - typedAt).toBeLessThan(20_000); // well before the command's own 30 s end
    expect(runJson(p.screen())).toMatchObject({ status: 'cancelled', reason: 'user_cancel', trigger: 'ctrl_c', action: 'remove_all', exitCode: 130 });
    expect(sessionMembers(sid)).toEqual([]); // the sleep the shell started too, not only the shell
    expect(nativeTree(ws!.dir, { repo: true, env: ws!.env })).toBe(before);
  });
});
