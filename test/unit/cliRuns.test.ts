/**
 * The run commands of shadowctl (S7, S4, S5, S6.6) against a stand-in daemon speaking the wire
 * protocol: argument handling, JSON shapes, exit codes, and `run`'s supervision of its command
 * (completion, failure, Ctrl+C, SIGTERM, timeout). The stand-in records every request so the tests
 * assert the cancel reasons and triggers shadowctl sent.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResultOf } from '../../shared/defineMethod.js';
import type { Cancel, CancellationLog, Log, RunGet, RunStart, Status, Undo } from '../../shared/methods/index.js';
import { parseDuration } from '../../client/cli/parseDuration.js';
import { commandStatus, runExitCode } from '../../client/cli/runOutcome.js';
import { runCli } from '../helpers/shadowctl.js';
import { isAlive, spawnCli } from '../helpers/spawnCli.js';
import type { StandInDaemon, StandInHandler } from '../helpers/standInDaemon.js';
import { StandInError, startStandInDaemon } from '../helpers/standInDaemon.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

const BASE = 'ba5e'.padEnd(40, '0');
const PRE_ABORT = 'ab'.repeat(20);
const POLICY: Record<string, string> = { user_cancel: 'remove_all', error: 'rollback', timeout: 'keep_checkpoint', shutdown: 'keep_checkpoint' };

let ws: string;
let runtime: string;
let cleanups: (() => void | Promise<void>)[];

beforeEach(() => {
  cleanups = [];
  const t = makeTempDir('shadow-cliruns-');
  ws = t.dir;
  cleanups.push(t.cleanup);
  runtime = mkdtempSync(join(tmpdir(), 'sh-rt-'));
  cleanups.push(() => rmSync(runtime, { recursive: true, force: true }));
});

afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
});

const ENV = () => ({ SHADOW_RUNTIME_DIR: runtime, SHADOW_NO_AUTOSTART: '1', SHADOW_RUN_ID: undefined });

function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return runCli(args, { cwd: opts.cwd ?? ws, env: { ...ENV(), ...opts.env } });
}

/** A stand-in daemon with one run's life cycle: start, register, finish, cancel, get. */
async function runDaemon(opts: { onRegister?: (pid: number, run: FakeRun) => void; holdCancel?: Promise<void>; extra?: Record<string, StandInHandler> } = {}) {
  const run: FakeRun = { id: '', status: 'none', reason: null, trigger: null, action: null, pids: [] };
  const cancelOutcome = (p: Record<string, unknown>): ResultOf<typeof Cancel> => {
    const reason = String(p.reason ?? 'user_cancel');
    const action = String(p.action ?? POLICY[reason]);
    return {
      run: run.id, status: action === 'keep_checkpoint' ? 'interrupted' : 'cancelled', reason, trigger: String(p.trigger ?? 'request'), action,
      removed: ['new.txt'], restored: ['a.txt', 'b.txt'], preserved: ['big.bin'], preservedReasons: { 'big.bin': 'too large' },
      cleanup: { tempPaths: [], lockFiles: [], kept: {} }, preAbort: PRE_ABORT, restoredTo: BASE, report: join(ws, 'report.md'), cancelled: [run.id, 'r-child'], processes: run.pids,
      inconsistent: false, dryRun: p.dryRun === true, resume: action === 'keep_checkpoint' ? `shadowctl run --resume --run ${run.id}` : null,
    };
  };
  const handlers: Record<string, StandInHandler> = {
    'run.start': (p): ResultOf<typeof RunStart> => {
      if (run.status === 'running') throw new StandInError('RUN_ACTIVE', `run ${run.id} is active`, { run: run.id });
      Object.assign(run, { id: 'r-test1', status: 'running', reason: null, trigger: null, action: null, pids: [] });
      return { run: run.id, base: BASE, ref: `refs/shadow/runs/${run.id}`, name: String(p.name ?? 'job'), phases: (p.phases as string[] | undefined) ?? [] };
    },
    'run.register': (p) => {
      if (run.status !== 'running') throw new StandInError('RUN_NOT_RUNNING', 'not running');
      run.pids.push(Number(p.pid));
      opts.onRegister?.(Number(p.pid), run);
      return { run: run.id };
    },
    'run.finish': () => {
      if (run.status !== 'running') throw new StandInError('RUN_NOT_RUNNING', 'not running');
      run.status = 'completed';
      return { run: run.id, status: 'completed', final: 'f1'.repeat(20) };
    },
    'run.get': (): ResultOf<typeof RunGet> => ({ run: runDetail(run) }),
    cancel: async (p) => {
      if (run.status !== 'running') throw new StandInError('NO_ACTIVE_RUN', 'No active run to cancel');
      const out = cancelOutcome(p);
      if (p.dryRun) return out;
      run.status = 'cancelling';
      await opts.holdCancel;
      Object.assign(run, { status: out.status, reason: out.reason, trigger: out.trigger, action: out.action });
      return out;
    },
    ...opts.extra,
  };
  const d = await startStandInDaemon(runtime, ws, handlers);
  cleanups.push(() => d.close());
  return { daemon: d, run, cancelOutcome };
}

/** The stand-in's state of its one run. */
interface FakeRun {
  id: string;
  status: string;
  reason: string | null;
  trigger: string | null;
  action: string | null;
  pids: number[];
}

function runDetail(r: FakeRun): ResultOf<typeof RunGet>['run'] {
  return {
    id: r.id, name: 'job', status: r.status as 'running', phase: null, phases: [], checkpoints: 1, steps: 0, parent: null, startedAt: 0, deadline: null, unsafe: 0,
    base: BASE, lastCheckpoint: null, ref: `refs/shadow/runs/${r.id}`, completedSteps: [], currentStep: null, errors: 0, children: [], pids: r.pids, lockFiles: [], tempPaths: [],
    command: null, endedAt: null, reason: r.reason, trigger: r.trigger, action: r.action, message: null, inconsistent: false, preAbort: null, report: null,
    resumable: r.action === 'keep_checkpoint',
  };
}

/** The methods called, without the handshake. */
function methods(d: StandInDaemon): string[] {
  return d.requests.map((r) => r.method).filter((m) => m !== 'hello');
}

describe('durations and exit codes (S7)', () => {
  it('S7: --timeout takes seconds or 500ms / 10s / 10m / 1h', () => {
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('1.5')).toBe(1_500);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    for (const bad of ['', 'soon', '10d', '-1', '1 h', 's']) expect(parseDuration(bad)).toBeNull();
  });

  it('S7: run exit code from the run final state: 124 timeout, 130 Ctrl+C, 143 SIGTERM/shutdown, else the command', () => {
    const ended = (reason: string, trigger: string) => ({ status: 'cancelled' as const, reason, trigger });
    expect(runExitCode('SIGINT', ended('user_cancel', 'ctrl_c'), 130)).toBe(130);
    expect(runExitCode('SIGTERM', ended('shutdown', 'sigterm'), 143)).toBe(143);
    expect(runExitCode(null, ended('timeout', 'deadline'), 143)).toBe(124);
    expect(runExitCode(null, ended('shutdown', 'daemon_shutdown'), 143)).toBe(143);
    expect(runExitCode(null, ended('error', 'command_failed'), 7)).toBe(7);
    expect(runExitCode(null, ended('user_cancel', 'request'), 0)).toBe(1); // cancelled elsewhere: never 0
    expect(runExitCode(null, { status: 'completed', reason: null, trigger: null }, 0)).toBe(0);
    expect(commandStatus({ code: null, signal: 'SIGKILL', spawnError: null })).toBe(137);
    expect(commandStatus({ code: null, signal: null, spawnError: 'ENOENT' })).toBe(127);
  });
});

describe('run command arguments (S7 usage errors, exit 2)', () => {
  const cases: [string, string[]][] = [
    ['bad --timeout', ['start', '--timeout', 'soon']],
    ['zero --timeout', ['run', '--timeout', '0', '--', 'true']],
    ['--timeout over 31 days', ['start', '--timeout', '745h']],
    ['empty phase name', ['start', '--phases', 'a,,b']],
    ['run without a command', ['run', '--name', 'x']],
    ['run --resume with start options (S6.6)', ['run', '--resume', '--name', 'x', '--', 'true']],
    ['resume with two modes (S6.4)', ['resume', '--yes', '--restart']],
    ['resume --list with a mode', ['resume', '--list', '--discard']],
    ['run --run without --resume', ['run', '--run', 'r1', '--', 'true']],
    ['unknown cancel reason', ['cancel', '--reason', 'bored']],
    ['unknown cancel action', ['cancel', '--action', 'burn']],
    ['unsafe maybe', ['unsafe', 'maybe']],
    ['phase without a name', ['phase']],
    ['artifact outside the workspace', ['step', 'build', '--artifact', '../outside.txt']],
    ['--ref with --cancellations', ['log', '--cancellations', '--ref', 'auto']],
  ];

  it.each(cases)('S7: %s → exit 2 before any daemon is contacted', async (_what, args) => {
    const r = await cli(['--json', ...args]); // before any `--`, after which words belong to the command
    expect(r.code).toBe(2);
    expect(['USAGE', 'PATH_INVALID']).toContain(r.json().error.code);
  });

  it('S6.6: run --resume keeps the run\'s settings: start options are a usage error', async () => {
    const r = await cli(['run', '--resume', '--timeout', '1m', '--', 'true']);
    expect(r.stderr).toContain("run --resume keeps the run's settings: drop --timeout");
    expect(r.stderr).toContain('usage: shadowctl run [--name N] [--phases a,b,c] [--timeout T] [--parent RUN] [--resume [--run RUN]] [-C DIR] [--json] -- CMD');
  });

  it.each(['run', 'start', 'phase', 'step', 'unsafe', 'error', 'finish', 'cancel', 'undo', 'resume'])('S7: %s --help exits 0 and is listed in the overall help', async (name) => {
    const r = await cli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: shadowctl ${name}`));
    expect((await cli(['--help'])).stdout).toContain(`  ${name}`);
  });
});

describe('start, phase, step, unsafe, error, finish, checkpoint (S4.3)', () => {
  it('S4.2: start sends name, phases, timeout in ms and parent; --json is { run, base, ref, name, phases }', async () => {
    const { daemon } = await runDaemon();
    const r = await cli(['start', '--name', 'migrate', '--phases', 'schema, data,verify', '--timeout', '10m', '--parent', 'r-0', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({ run: 'r-test1', base: BASE, ref: 'refs/shadow/runs/r-test1', name: 'migrate', phases: ['schema', 'data', 'verify'] });
    expect(daemon.paramsOf('run.start')).toEqual([{ name: 'migrate', phases: ['schema', 'data', 'verify'], timeoutMs: 600_000, parent: 'r-0' }]);
    const again = await cli(['start', '--json']);
    expect(again.code).toBe(1);
    expect(again.json().error).toMatchObject({ code: 'RUN_ACTIVE', details: { run: 'r-test1' } });
  });

  it('S4.3: --run wins, else $SHADOW_RUN_ID, else no run param (the active run); artifacts become workspace-relative', async () => {
    const { daemon } = await runDaemon({
      extra: {
        'run.phase': (p) => ({ run: p.run ?? 'r-active', phase: p.name, index: 2, total: 3, checkpoint: BASE }),
        'run.step': (p) => ({ run: p.run ?? 'r-active', step: p.name, artifacts: p.artifacts ?? [], steps: 1 }),
        'run.unsafe': (p) => ({ run: p.run ?? 'r-active', depth: p.section === 'begin' ? 1 : 0 }),
        'run.error': (p) => ({ run: p.run ?? 'r-active', errors: 1, threshold: 3, cancelled: null }),
        'run.finish': (p) => ({ run: p.run ?? 'r-active', status: 'completed', final: BASE }),
        checkpoint: (p) => ({ commit: BASE, tree: BASE, ref: 'refs/shadow/runs/r-env', run: p.run ?? null, files: 1, hashed: 1, rescanned: false, uncaptured: [] }),
      },
    });
    mkdirSync(join(ws, '.git'));
    mkdirSync(join(ws, 'src'));
    expect((await cli(['phase', 'data'])).stdout).toContain('phase data (2/3)');
    expect((await cli(['phase', 'data', '--run', 'r-opt'], { env: { SHADOW_RUN_ID: 'r-env' } })).code).toBe(0);
    expect((await cli(['phase', 'data'], { env: { SHADOW_RUN_ID: 'r-env' } })).code).toBe(0);
    expect(daemon.paramsOf('run.phase')).toEqual([{ name: 'data' }, { run: 'r-opt', name: 'data' }, { run: 'r-env', name: 'data' }]);

    const step = await cli(['step', 'compile', '--artifact', 'out.js', '-a', '../README.md', '--artifact', 'out.js', '--json'], { cwd: join(ws, 'src') });
    expect(step.code).toBe(0);
    expect(daemon.paramsOf('run.step')).toEqual([{ name: 'compile', artifacts: ['src/out.js', 'README.md'] }]);

    expect((await cli(['unsafe', 'begin', '--json'], { env: { SHADOW_RUN_ID: 'r-env' } })).json()).toEqual({ run: 'r-env', depth: 1 });
    expect((await cli(['error', 'tests', 'failed', '--json'])).json()).toMatchObject({ errors: 1, threshold: 3, cancelled: null });
    expect(daemon.paramsOf('run.error')).toEqual([{ message: 'tests failed' }]);
    expect((await cli(['finish'])).stdout).toContain('completed');

    expect((await cli(['checkpoint', '-m', 'x'], { env: { SHADOW_RUN_ID: 'r-env' } })).code).toBe(0);
    expect((await cli(['checkpoint'])).code).toBe(0);
    expect(daemon.paramsOf('checkpoint')).toEqual([{ run: 'r-env', message: 'x' }, {}]);
  });

  it('S7: status shows the active run on one line; --json carries it as is', async () => {
    const run = { id: 'r-test1', name: 'migrate', status: 'running' as const, phase: 'data', phases: ['schema', 'data'], checkpoints: 3, steps: 1, parent: null, startedAt: 0, deadline: null, unsafe: 1 };
    const status: ResultOf<typeof Status> = {
      daemon: { pid: 4242, workspace: ws, socket: 's', version: '0.1.0', stateDir: join(ws, '.shadow'), uptimeMs: 1000 },
      run,
      watcher: { mode: 'events', pending: 0, reason: null },
      lastCheckpoint: null,
      files: 0,
    };
    await runDaemon({ extra: { status: () => status } });
    const h = await cli(['status']);
    expect(h.stdout).toContain("Run         r-test1 'migrate' running, phase data (2/2), 3 checkpoints, 1 step, in an unsafe section");
    expect((await cli(['status', '--json'])).json().run).toEqual(run);
  });

  it('S5.1: error reaching the threshold prints the cancel it caused', async () => {
    const { cancelOutcome, run } = await runDaemon({
      extra: { 'run.error': () => ({ run: 'r-test1', errors: 3, threshold: 3, cancelled: cancelOutcome({ reason: 'error', trigger: 'error_threshold' }) }) },
    });
    run.id = 'r-test1';
    const r = await cli(['error', 'boom']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('reached the threshold');
    expect(r.stdout).toContain('action rollback');
  });
});

describe('cancel, undo, log (S5, S7)', () => {
  it('S7: cancel --json has every S7 field; options are forwarded; human output gives counts, undo, report', async () => {
    const { daemon } = await runDaemon();
    await cli(['start']);
    const r = await cli(['cancel', '--reason', 'error', '--action', 'keep_for_review', '--force', '--run', 'r-test1', '-m', 'bad data', '--json']);
    expect(r.code).toBe(0);
    const j = r.json();
    for (const k of ['run', 'status', 'reason', 'trigger', 'action', 'removed', 'restored', 'preserved', 'preAbort', 'report', 'cancelled', 'inconsistent']) expect(j).toHaveProperty(k);
    expect(daemon.paramsOf('cancel')).toEqual([{ run: 'r-test1', reason: 'error', action: 'keep_for_review', force: true, message: 'bad data' }]);

    await cli(['start']);
    const h = await cli(['cancel']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('reason user_cancel (request), action remove_all');
    expect(h.stdout).toContain('1 removed, 2 restored, 1 preserved');
    expect(h.stdout).toContain(`Pre-abort snapshot ${PRE_ABORT.slice(0, 7)}; undo with: shadowctl undo`);
    expect(h.stdout).toContain(`Report: ${join(ws, 'report.md')}`);
    expect(h.stderr).toContain('preserved big.bin (too large)');
  });

  it('S5.12: cancel --dry-run prints the exact plan and says nothing changed', async () => {
    const { daemon } = await runDaemon();
    await cli(['start']);
    const r = await cli(['cancel', '--dry-run']);
    expect(r.code).toBe(0);
    expect(daemon.paramsOf('cancel')).toEqual([{ dryRun: true }]);
    expect(r.stdout).toMatch(/remove +new\.txt/);
    expect(r.stdout).toMatch(/restore +a\.txt/);
    expect(r.stdout).toMatch(/preserve +big\.bin \(too large\)/);
    expect(r.stdout).toMatch(/cancel +run r-child/);
    expect(r.stdout).toContain('Nothing was changed.');
  });

  it('S5.10: cancel with nothing active exits 3 with { run: null, reason: "no_active_run", message }', async () => {
    await runDaemon();
    const j = await cli(['cancel', '--json']);
    expect(j.code).toBe(3);
    expect(j.json()).toEqual({ run: null, reason: 'no_active_run', message: expect.stringContaining('no run is active') });
    const h = await cli(['cancel']);
    expect(h.code).toBe(3);
    expect(h.stdout).toContain('Nothing to cancel');
  });

  it('S7: a named run that does not exist exits 3 (RUN_NOT_FOUND)', async () => {
    await runDaemon({ extra: { 'run.finish': (p) => { throw new StandInError('RUN_NOT_FOUND', `no run ${String(p.run)}`); } } });
    const r = await cli(['finish', '--run', 'r-nope', '--json']);
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('RUN_NOT_FOUND');
  });

  it('S5.4: undo prints counts and how to undo the undo', async () => {
    const undo: ResultOf<typeof Undo> = { restoredTo: PRE_ABORT, preRestore: BASE, restored: ['a', 'b'], removed: ['c'], preserved: [] };
    await runDaemon({ extra: { undo: () => undo } });
    const r = await cli(['undo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 written, 1 removed, 0 preserved');
    expect(r.stdout).toContain(`shadowctl restore ${BASE}`);
    expect((await cli(['undo', '--json'])).json()).toEqual(undo);
  });

  it('S5.8: log --cancellations queries the cancellation log with --run and -n; log --run filters checkpoints by run trailer', async () => {
    const entry: ResultOf<typeof CancellationLog>['entries'][number] = {
      time: '2025-01-31T14:02:11.000Z', run: 'r-1', name: 'job', reason: 'user_cancel', trigger: 'ctrl_c', action: 'remove_all',
      state: { status: 'running', phase: null, phaseIndex: 0, phases: 0, steps: 0 },
      cleanup: { removed: 1, restored: 2, preserved: 0, processes: 1, tempPaths: 0, lockFiles: 0 }, inconsistent: false, resume: null, message: null,
    };
    const logEntry = (commit: string, run: string | null): ResultOf<typeof Log>['entries'][number] => ({ commit, tree: BASE, parents: [], time: 1_700_000_000, subject: 's', kind: 'checkpoint', run, reason: null, ref: 'refs/shadow/auto' });
    const { daemon } = await runDaemon({
      extra: {
        'log.cancellations': () => ({ entries: [entry] }),
        log: () => ({ entries: [logEntry('1'.repeat(40), 'r-1'), logEntry('2'.repeat(40), null), logEntry('3'.repeat(40), 'r-2'), logEntry('4'.repeat(40), 'r-1')] }),
      },
    });
    const c = await cli(['log', '--cancellations', '--run', 'r-1', '-n', '5']);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/r-1 {2}user_cancel\/ctrl_c {2}remove_all {2}1 removed, 2 restored, 0 preserved/);
    expect(daemon.paramsOf('log.cancellations')).toEqual([{ n: 5, run: 'r-1' }]);
    expect((await cli(['log', '--cancellations', '--json'])).json()).toEqual({ entries: [entry] });

    const l = await cli(['log', '--run', 'r-1', '-n', '1', '--json']);
    expect(l.json().entries.map((e: { commit: string }) => e.commit)).toEqual(['1'.repeat(40)]);
    expect(daemon.paramsOf('log').at(-1)).toEqual({ n: 100_000 });
  });
});

describe('shadowctl run (S4, S5.1, S6.6)', () => {
  it('S6.6: exit 0 → run.start with the command, run.register with the pid, run.finish; SHADOW_RUN_ID set; exit 0', async () => {
    const { daemon } = await runDaemon();
    const r = await cli(['run', '--name', 'job', '--timeout', '1h', '--json', '--', 'sh', '-c', 'echo "$SHADOW_RUN_ID" > id.txt; echo to-stdout']);
    expect(r.code).toBe(0);
    expect(readFileSync(join(ws, 'id.txt'), 'utf8')).toBe('r-test1\n');
    expect(methods(daemon)).toEqual(['run.start', 'run.register', 'run.finish', 'run.get']);
    expect(daemon.paramsOf('run.start')[0]).toEqual({ name: 'job', timeoutMs: 3_600_000, command: ['sh', '-c', 'echo "$SHADOW_RUN_ID" > id.txt; echo to-stdout'] });
    expect(r.json()).toMatchObject({ run: 'r-test1', status: 'completed', exitCode: 0, command: { code: 0, signal: null }, cancel: null });
    // --json: the command's stdout went to stderr, so stdout is exactly the one object.
    expect(r.stderr).toContain('to-stdout');
    expect(r.stderr).toMatch(/shadowctl: run r-test1 completed; command exited 0; final checkpoint f1f1f1f; exit 0/);
  });

  it('S5.2: a failing command cancels with reason error (command_failed) and passes its exit code through', async () => {
    const { daemon } = await runDaemon();
    const r = await cli(['run', '--', 'sh', '-c', 'exit 7']);
    expect(r.code).toBe(7);
    expect(daemon.paramsOf('cancel')).toEqual([{ run: 'r-test1', reason: 'error', trigger: 'command_failed', message: expect.stringContaining('exit status 7') }]);
    expect(r.stderr).toContain('run r-test1 cancelled: error (command_failed), rollback');
    expect(r.stderr).toContain('undo with: shadowctl undo');
  });

  it('S7: a command that does not exist exits 127 and rolls the run back', async () => {
    const { daemon } = await runDaemon();
    const r = await cli(['run', '--', 'no-such-command-shadow-test']);
    expect(r.code).toBe(127);
    expect(daemon.paramsOf('cancel')[0]).toMatchObject({ reason: 'error', trigger: 'command_failed' });
  });

  it('S4.2: RUN_ACTIVE at start: exit 1 and the command never runs', async () => {
    const { daemon } = await runDaemon();
    await cli(['start']);
    const r = await cli(['run', '--json', '--', 'sh', '-c', 'touch ran.txt']);
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe('RUN_ACTIVE');
    expect(methods(daemon)).toEqual(['run.start', 'run.start']);
  });

  it('S5.1: SIGTERM to shadowctl run → cancel shutdown/sigterm (keep_checkpoint), the command stopped, exit 143', async () => {
    const { daemon, run } = await runDaemon();
    const p = spawnCli(['run', '--', 'sleep', '30'], { cwd: ws, env: ENV() });
    await waitFor(() => run.pids.length > 0, 'the command registered');
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code).toBe(143);
    expect(daemon.paramsOf('cancel')).toEqual([{ run: 'r-test1', reason: 'shutdown', trigger: 'sigterm' }]);
    expect(isAlive(run.pids[0]!)).toBe(false);
    expect(r.stderr).toContain('resume with: shadowctl run --resume --run r-test1');
  });

  it('S5.1: Ctrl+C (SIGINT to the foreground process group) → cancel user_cancel/ctrl_c; a second Ctrl+C only says "cancelling…"; exit 130', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { daemon, run } = await runDaemon({ holdCancel: held });
    const p = spawnCli(['run', '--json', '--', 'sleep', '30'], { cwd: ws, env: ENV(), detached: true });
    cleanups.push(() => {
      if (isAlive(p.child.pid!)) process.kill(-p.child.pid!, 'SIGKILL');
    });
    await waitFor(() => run.pids.length > 0, 'the command registered');
    process.kill(-p.child.pid!, 'SIGINT'); // what the terminal does on Ctrl+C
    await waitFor(() => daemon.paramsOf('cancel').length === 1, 'cancel requested');
    await waitFor(() => !isAlive(run.pids[0]!), 'SIGINT forwarded to the command group');
    process.kill(-p.child.pid!, 'SIGINT');
    await waitFor(() => p.stderr().includes('cancelling run r-test1…'), 'second Ctrl+C acknowledged');
    expect(isAlive(p.child.pid!)).toBe(true);
    release();
    const r = await p.done;
    expect(r.code).toBe(130);
    expect(daemon.paramsOf('cancel')).toEqual([{ run: 'r-test1', reason: 'user_cancel', trigger: 'ctrl_c' }]);
    expect(r.json()).toMatchObject({ run: 'r-test1', status: 'cancelled', reason: 'user_cancel', action: 'remove_all', exitCode: 130, cancel: { trigger: 'ctrl_c' } });
  });

  it('S5.1: the daemon cancels at the deadline and stops the command → exit 124, no cancel from shadowctl', async () => {
    const { daemon } = await runDaemon({
      onRegister: (pid, run) => {
        // What shadowd does at the deadline: reason timeout, keep_checkpoint, terminate the group.
        Object.assign(run, { status: 'interrupted', reason: 'timeout', trigger: 'deadline', action: 'keep_checkpoint' });
        process.kill(-pid, 'SIGTERM');
      },
    });
    const r = await cli(['run', '--timeout', '1s', '--json', '--', 'sleep', '30']);
    expect(r.code).toBe(124);
    expect(daemon.paramsOf('cancel')).toEqual([]);
    expect(r.json()).toMatchObject({ status: 'interrupted', reason: 'timeout', resumable: true, exitCode: 124, command: { signal: 'SIGTERM' } });
    expect(daemon.paramsOf('run.start')[0]).toMatchObject({ timeoutMs: 1000 });
  });
});
