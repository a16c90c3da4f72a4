/**
 * shadowctl front end (S7) driven through the built CLI: help, usage errors, exit codes, JSON
 * shapes, workspace discovery and restore path conversion. No real daemon: where a command
 * needs one, a fake daemon speaking the NDJSON wire answers with canned results.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResultOf } from '../../shared/defineMethod.js';
import { ShadowError } from '../../shared/errors.js';
import { Checkpoint, Diff, Hello, Log, Restore, Shutdown, Status } from '../../shared/methods/index.js';
import { socketPath } from '../../shared/paths.js';
import { encodeFrame, FrameDecoder, PROTOCOL_VERSION } from '../../shared/wire.js';
import { findWorkspace } from '../../client/cli/findWorkspace.js';
import { toWorkspacePaths } from '../../client/cli/commands/restore.js';
import { colorEnabled } from '../../client/cli/output.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { runCli } from '../helpers/shadowctl.js';
import { waitFor } from '../helpers/waitFor.js';

const COMMANDS = ['daemon', 'status', 'checkpoint', 'log', 'diff', 'restore'];

let ws: string;
let runtime: string;
let cleanups: (() => void | Promise<void>)[];

beforeEach(() => {
  cleanups = [];
  const t = makeTempDir('shadow-cli-');
  ws = t.dir;
  cleanups.push(t.cleanup);
  // Short, private (mkdtemp: 0700) runtime dir so no test can reach a real daemon.
  runtime = mkdtempSync(join(tmpdir(), 'sh-rt-'));
  cleanups.push(() => rmSync(runtime, { recursive: true, force: true }));
});

afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** runCli with the test's private runtime dir and no auto-start. */
function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return runCli(args, { cwd: opts.cwd ?? ws, env: { SHADOW_RUNTIME_DIR: runtime, SHADOW_NO_AUTOSTART: '1', ...opts.env } });
}

function sockets(): string[] {
  return existsSync(runtime) ? readdirSync(runtime).filter((f) => f.endsWith('.sock')) : [];
}

describe('shadowctl help (S7)', () => {
  it('S7: --help lists every command and the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c}`);
    expect(r.stdout).toContain('69 daemon unreachable');
    expect(r.stderr).toBe('');
  });

  it.each(COMMANDS)('S7: %s --help and -h print its usage, exit 0, without a daemon', async (name) => {
    for (const flag of ['--help', '-h']) {
      const r = await cli([name, flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: shadowctl ${name}`));
      expect(r.stdout).toContain('--json');
    }
    expect(sockets()).toEqual([]);
  });

  it('S7: help COMMAND, --help with a missing argument, --json --help, --version', async () => {
    expect((await cli(['help', 'restore'])).stdout).toMatch(/^usage: shadowctl restore CHECKPOINT/);
    expect((await cli(['restore', '--help'])).code).toBe(0);
    const j = await cli(['checkpoint', '--help', '--json']);
    expect(j.json().help).toMatch(/^usage: shadowctl checkpoint/);
    const v = await cli(['--version', '--json']);
    expect(v.code).toBe(0);
    expect(typeof v.json().version).toBe('string');
  });
});

describe('shadowctl usage errors (S7 exit code 2)', () => {
  const cases: [string, string[]][] = [
    ['no command', []],
    ['unknown command', ['frobnicate']],
    ['unknown flag', ['status', '--bogus']],
    ['unknown short flag', ['log', '-x']],
    ['missing option value', ['checkpoint', '-m']],
    ['missing argument', ['restore']],
    ['extra argument', ['status', 'now']],
    ['bad -n', ['log', '-n', '0']],
    ['unknown daemon subcommand', ['daemon', 'restart']],
    ['missing daemon subcommand', ['daemon']],
  ];

  it.each(cases)('S7: %s → exit 2, one JSON error object with the usage line', async (_what, args) => {
    const r = await cli([...args, '--json']);
    expect(r.code).toBe(2);
    const { error } = r.json<{ error: { code: string; message: string; details: Record<string, unknown> } }>();
    expect(error.code).toBe('USAGE');
    expect(typeof error.message).toBe('string');
    expect(String(error.details.usage)).toMatch(/^shadowctl /);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(sockets()).toEqual([]);
  });

  it('S7: human usage error goes to stderr with the usage line, nothing on stdout, no color off a TTY', async () => {
    const r = await cli(['checkpoint', '--bogus'], { env: { NO_COLOR: undefined } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("'--bogus'");
    expect(r.stderr).toContain('usage: shadowctl checkpoint [-m MSG]');
    expect(r.stderr).not.toContain('\x1b[');
  });

  it('S7: NO_COLOR and TTY decide color', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
  });

  it('S7: -C naming a missing directory is a failure (exit 1, WORKSPACE_INVALID)', async () => {
    const r = await cli(['status', '-C', join(ws, 'nope'), '--json']);
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe('WORKSPACE_INVALID');
  });
});

describe('workspace discovery (S7 -C, like git)', () => {
  it('S7: nearest directory holding .git (dir or file) or .shadow/ wins; -C is taken as given', () => {
    mkdirSync(join(ws, '.git'));
    mkdirSync(join(ws, 'a/b/c'), { recursive: true });
    expect(findWorkspace(join(ws, 'a/b/c'))).toEqual({ workspace: ws, explicit: false });
    mkdirSync(join(ws, 'a/.shadow'));
    expect(findWorkspace(join(ws, 'a/b/c')).workspace).toBe(join(ws, 'a'));
    writeFileSync(join(ws, 'a/b/.git'), 'gitdir: /elsewhere\n'); // a worktree's .git file
    expect(findWorkspace(join(ws, 'a/b/c')).workspace).toBe(join(ws, 'a/b'));
    writeFileSync(join(ws, 'a/b/c/.shadow'), 'not a state folder');
    expect(findWorkspace(join(ws, 'a/b/c')).workspace).toBe(join(ws, 'a/b'));
    expect(findWorkspace(join(ws, 'a/b/c'), '../..')).toEqual({ workspace: join(ws, 'a'), explicit: true });
    expect(() => findWorkspace(ws, 'missing')).toThrow(ShadowError);
  });

  const ancestorMarked = (() => {
    for (let d = realpathSync(tmpdir()); dirname(d) !== d; d = dirname(d)) {
      if (existsSync(join(d, '.git')) || existsSync(join(d, '.shadow'))) return true;
    }
    return false;
  })();

  it.skipIf(ancestorMarked)('S7: no marker anywhere → the current directory', () => {
    mkdirSync(join(ws, 'x/y'), { recursive: true });
    expect(findWorkspace(join(ws, 'x/y')).workspace).toBe(join(ws, 'x/y'));
  });

  it('S7: the CLI acts on the discovered workspace (daemon stop reports it)', async () => {
    mkdirSync(join(ws, '.shadow'));
    mkdirSync(join(ws, 'src/deep'), { recursive: true });
    const r = await cli(['daemon', 'stop', '--json'], { cwd: join(ws, 'src/deep') });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ stopped: false, workspace: ws });
  });
});

describe('restore path conversion (S7)', () => {
  it('S7: paths relative to the cwd become workspace-relative posix paths', () => {
    mkdirSync(join(ws, 'src/lib'), { recursive: true });
    const cwd = join(ws, 'src');
    expect(toWorkspacePaths([], cwd, ws)).toBeUndefined();
    expect(toWorkspacePaths(['a.ts', 'lib/', '../README.md', join(ws, 'x/new.txt')], cwd, ws)).toEqual(['src/a.ts', 'src/lib', 'README.md', 'x/new.txt']);
    expect(toWorkspacePaths(['a.ts', '..'], cwd, ws)).toBeUndefined(); // the root means everything
  });

  it('S7: a path outside the workspace is PATH_INVALID; a symlinked absolute path into it is accepted', () => {
    const outside = makeTempDir('shadow-cli-out-');
    cleanups.push(outside.cleanup);
    expect(() => toWorkspacePaths(['../escape'], ws, ws)).toThrow(expect.objectContaining({ code: 'PATH_INVALID' }));
    expect(() => toWorkspacePaths([outside.dir], ws, ws)).toThrow(expect.objectContaining({ code: 'PATH_INVALID' }));
    symlinkSync(ws, join(outside.dir, 'link'));
    expect(toWorkspacePaths([join(outside.dir, 'link/sub/f.txt')], ws, ws)).toEqual(['sub/f.txt']);
    // A symlink inside the workspace is named as itself, never followed.
    symlinkSync(outside.dir, join(ws, 'out'));
    expect(toWorkspacePaths(['out'], ws, ws)).toEqual(['out']);
  });

  it('S7: restore with a path outside the workspace exits 2 before contacting any daemon', async () => {
    mkdirSync(join(ws, '.git'));
    const r = await cli(['restore', 'manual', '../../etc/passwd', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('PATH_INVALID');
    expect(sockets()).toEqual([]);
  });
});

describe('no daemon running (S7, S2.1)', () => {
  it('S7: daemon stop with no daemon says so, exits 0 and starts none', async () => {
    const r = await cli(['daemon', 'stop'], { env: { SHADOW_NO_AUTOSTART: undefined } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No daemon running');
    expect(sockets()).toEqual([]);
  });

  it('S7: daemon status with no daemon exits 3 with daemon null, starting none', async () => {
    const r = await cli(['daemon', 'status', '--json'], { env: { SHADOW_NO_AUTOSTART: undefined } });
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ daemon: null, workspace: ws });
    expect(sockets()).toEqual([]);
  });

  it('S7: with SHADOW_NO_AUTOSTART=1 a command needing the daemon exits 69 (DAEMON_UNREACHABLE)', async () => {
    const r = await cli(['status', '--json']);
    expect(r.code).toBe(69);
    expect(r.json().error.code).toBe('DAEMON_UNREACHABLE');
    const human = await cli(['checkpoint']);
    expect(human.code).toBe(69);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^error: /);
    expect(sockets()).toEqual([]);
  });
});

/** A stand-in daemon on the workspace's socket: answers hello and canned results, records requests. */
async function fakeDaemon(results: Record<string, unknown>, shutdownDelayMs = 0): Promise<{ requests: { method: string; params: unknown }[]; path: string }> {
  const path = socketPath(runtime, ws);
  const requests: { method: string; params: unknown }[] = [];
  const conns = new Set<Socket>();
  const server: Server = createServer((conn) => {
    conns.add(conn);
    conn.on('close', () => conns.delete(conn));
    const decoder = new FrameDecoder(1 << 20);
    conn.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        const req = JSON.parse(frame) as { id: number; method: string; params: unknown };
        requests.push({ method: req.method, params: req.params });
        const hello: ResultOf<typeof Hello> = { protocol: PROTOCOL_VERSION, version: '0.1.0', pid: 4242, workspace: ws, capabilities: [] };
        const result = req.method === Hello.name ? hello : results[req.method];
        conn.write(encodeFrame(result === undefined ? { id: req.id, error: { code: 'UNKNOWN_METHOD', message: req.method, details: {} } } : { id: req.id, result }));
        if (req.method === Shutdown.name) {
          setTimeout(() => {
            server.close();
            for (const c of conns) c.destroy();
          }, shutdownDelayMs);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(() => {
    for (const c of conns) c.destroy();
    return new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  });
  return { requests, path };
}

describe('commands against a fake daemon (S7 output shapes)', () => {
  const commit = 'c0ffee'.padEnd(40, '1');

  it('S7: status --json is the Status result as is; human output is short', async () => {
    const status: ResultOf<typeof Status> = {
      daemon: { pid: 4242, workspace: ws, socket: 's', version: '0.1.0', stateDir: join(ws, '.shadow'), uptimeMs: 65_000 },
      run: null,
      watcher: { mode: 'events', pending: 2, reason: null },
      lastCheckpoint: { commit, ref: 'refs/shadow/manual', time: Math.floor(Date.now() / 1000) - 120 },
      files: 12,
    };
    await fakeDaemon({ [Status.name]: status });
    const j = await cli(['status', '--json']);
    expect(j.code).toBe(0);
    expect(j.json()).toEqual(status);
    const h = await cli(['status']);
    const lines = h.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(h.stdout).toContain('c0ffee1 on refs/shadow/manual');
    const d = await cli(['daemon', 'status', '--json']);
    expect(d.json().daemon).toMatchObject({ pid: 4242, workspace: ws, socket: 's', version: '0.1.0' });
  });

  it('S7: checkpoint -m sends the message, prints the short commit and warns per uncaptured file', async () => {
    const cp: ResultOf<typeof Checkpoint> = { commit, tree: 't'.repeat(40), ref: 'refs/shadow/manual', run: null, files: 3, hashed: 1, rescanned: false, uncaptured: [{ path: 'big.bin', reason: 'too large' }] };
    const fake = await fakeDaemon({ [Checkpoint.name]: cp });
    const h = await cli(['checkpoint', '-m', 'before migration']);
    expect(h.code).toBe(0);
    expect(h.stdout).toBe('Checkpoint c0ffee1 on refs/shadow/manual (3 files)\n');
    expect(h.stderr).toContain('big.bin (too large)');
    expect(fake.requests.find((r) => r.method === Checkpoint.name)?.params).toEqual({ message: 'before migration' });
    expect((await cli(['checkpoint', '--json'])).json()).toEqual(cp);
  });

  it('S7: log passes -n and --ref; one line per entry', async () => {
    const entry = { commit, tree: 't'.repeat(40), parents: [], time: 1_700_000_000, subject: 'hello', kind: 'checkpoint', run: null, reason: null, ref: 'refs/shadow/auto' };
    const fake = await fakeDaemon({ [Log.name]: { entries: [entry, { ...entry, kind: null, subject: 'two' }] } satisfies ResultOf<typeof Log> });
    const h = await cli(['log', '-n', '2', '--ref', 'auto']);
    expect(h.code).toBe(0);
    const lines = h.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^c0ffee1 {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}checkpoint {2}auto {2}hello$/);
    expect(fake.requests.find((r) => r.method === Log.name)?.params).toEqual({ n: 2, ref: 'auto' });
    expect((await cli(['log', '--json'])).json().entries).toHaveLength(2);
  });

  it('S7: diff prints git-like letters sorted by path, or "No changes"', async () => {
    const diff: ResultOf<typeof Diff> = { checkpoint: commit, added: ['b.txt'], modified: ['a.txt'], deleted: ['c.txt'], modeChanged: ['run.sh'] };
    const fake = await fakeDaemon({ [Diff.name]: diff });
    const h = await cli(['diff', 'auto~1']);
    expect(h.stdout).toBe('M a.txt\nA b.txt\nD c.txt\nT run.sh\n');
    expect(fake.requests.find((r) => r.method === Diff.name)?.params).toEqual({ checkpoint: 'auto~1' });
    expect((await cli(['diff', '--json'])).json()).toEqual(diff);
  });

  it('S7: restore sends workspace-relative paths and prints how to undo', async () => {
    mkdirSync(join(ws, '.git'));
    mkdirSync(join(ws, 'src'));
    const pre = 'ab'.repeat(20);
    const fake = await fakeDaemon({ [Restore.name]: { checkpoint: commit, preRestore: pre, restored: ['src/a.ts'], removed: [], preserved: [] } satisfies ResultOf<typeof Restore> });
    const h = await cli(['restore', 'c0ffee1', 'a.ts', '../README.md'], { cwd: join(ws, 'src') });
    expect(h.code).toBe(0);
    expect(h.stdout).toContain(`shadowctl restore ${pre}`);
    expect(fake.requests.find((r) => r.method === Restore.name)?.params).toEqual({ checkpoint: 'c0ffee1', paths: ['src/a.ts', 'README.md'] });
  });

  it('S7: daemon stop asks for Shutdown and waits until the socket stops answering', async () => {
    const deadPid = spawnSync('true').pid; // stop also waits for the pid to exit: give it a gone one
    const fake = await fakeDaemon({ [Shutdown.name]: { pid: deadPid } }, 300);
    const r = await cli(['daemon', 'stop', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ stopped: true, pid: deadPid });
    // Already gone when the command returned: connecting fails at once.
    const refused = await new Promise<boolean>((resolve) => connect(fake.path).once('connect', () => resolve(false)).once('error', () => resolve(true)));
    expect(refused).toBe(true);
    await waitFor(() => sockets().length === 0, 'socket removed');
  });

  it('S7: daemon start reports an already running daemon with exit 0', async () => {
    await fakeDaemon({});
    const r = await cli(['daemon', 'start', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ started: false, daemon: { pid: 4242, workspace: ws, version: '0.1.0' } });
  });
});
