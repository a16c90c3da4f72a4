import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShadowClient, Checkpoint, Diff, Log, Shutdown, Status } from '../../client/index.js';
import type { ShadowError, WireEvent } from '../../client/index.js';
import { MAX_SOCKET_PATH_BYTES, runtimeDir, socketPath } from '../../shared/paths.js';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION } from '../../shared/wire.js';
import { IpcEnv, FIXTURE_DAEMON } from '../fixtures/ipcEnv.js';
import { waitFor } from '../helpers/waitFor.js';

let env: IpcEnv;
const clients: ShadowClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  env?.cleanup();
});

async function client(opts: Parameters<typeof ShadowClient.connect>[0] = {}): Promise<ShadowClient> {
  const c = await ShadowClient.connect({ workspace: env.workspace, env: env.env, autoStart: false, ...opts });
  clients.push(c);
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as ShadowError).code;
  }
  throw new Error('expected a rejection');
}

const hello = JSON.stringify({ id: 'h', method: 'hello', params: { protocol: PROTOCOL_VERSION } }) + '\n';

describe('IPC server and client (S3.1–S3.3, S3.5)', () => {
  it('S3.1 runtime dir is 0700, socket 0600, and the socket path stays short for a 250-char workspace', async () => {
    env = new IpcEnv();
    let deep = env.workspace;
    while (deep.length < 250) deep = join(deep, 'a-rather-long-directory-name');
    mkdirSync(deep, { recursive: true });
    expect(deep.length).toBeGreaterThanOrEqual(250);
    const { socket } = await env.startDaemon(deep);
    expect(statSync(env.runtimeDir).mode & 0o777).toBe(0o700);
    const st = statSync(socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(Buffer.byteLength(socket)).toBeLessThan(104);
    // Without SHADOW_RUNTIME_DIR the default location is short as well.
    expect(Buffer.byteLength(socketPath(runtimeDir({}, 1000, '/tmp'), deep))).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES);
    const c = await client({ workspace: deep });
    expect(c.hello.workspace).toBe(deep);
    expect(c.socketPath).toBe(socket);
  });

  it('S3.3 hostile input never kills the daemon; each connection gets a structured error', async () => {
    env = new IpcEnv();
    const { socket, child } = await env.startDaemon();

    // Garbage on an open connection: answered, and the connection stays usable.
    const a = await env.raw(socket);
    a.send('[1,2,3]\n{"type":"start"}\n');
    a.send(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a]));
    a.send(hello);
    const frames = await a.waitFrames(4);
    expect(frames.slice(0, 3).map((f) => [f.id, (f.error as { code: string }).code])).toEqual([
      [null, 'INVALID_REQUEST'],
      [null, 'INVALID_REQUEST'],
      [null, 'PARSE_ERROR'],
    ]);
    expect(frames[3]).toMatchObject({ id: 'h', result: { protocol: PROTOCOL_VERSION } });
    expect(a.closed).toBe(false);

    // 8 MB without and with a newline: MESSAGE_TOO_LARGE (id null), then the connection closes.
    for (const tail of ['', '\n']) {
      const big = await env.raw(socket);
      big.send(Buffer.concat([Buffer.from('{"id":1,"method":"status","params":"'), Buffer.alloc(8 * 1024 * 1024, 0x61), Buffer.from(tail)]));
      const [f] = await big.waitFrames(1);
      expect(f).toMatchObject({ id: null, error: { code: 'MESSAGE_TOO_LARGE', details: { limit: MAX_REQUEST_BYTES } } });
      await waitFor(() => big.closed, 'the oversized connection to close');
    }

    // Half a frame, then gone.
    const half = await env.raw(socket);
    half.send('{"id":1,"method":"sta');
    half.socket.destroy();

    // 200 connections opened and dropped at once, some mid-frame.
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        new Promise<void>((resolve) => {
          const s = connect(socket, () => {
            if (i % 2) s.write(hello.slice(0, 10));
            s.destroy();
            resolve();
          });
          s.on('error', () => resolve());
        }),
      ),
    );

    // A request in flight when its client vanishes: the late response must go nowhere, harmlessly.
    const gone = await env.raw(socket);
    gone.send(hello + JSON.stringify({ id: 1, method: 'checkpoint', params: { message: 'delay:20' } }) + '\n');
    await gone.waitFrames(1);
    gone.socket.destroy();

    // A client that half-closes after writing still gets its answers, then the daemon closes.
    const halfClosed = await env.raw(socket);
    halfClosed.socket.end(hello + JSON.stringify({ id: 2, method: 'checkpoint', params: { message: 'delay:10' } }) + '\n');
    expect((await halfClosed.waitFrames(2))[1]).toMatchObject({ id: 2, result: { ref: 'refs/shadow/manual' } });
    await waitFor(() => halfClosed.closed, 'the half-closed connection to close');

    const c = await client();
    // Started after the 20 ms one above, so it finishes after that late write.
    await c.request(Checkpoint, { message: 'delay:40' });
    const status = await c.request(Status, {});
    expect(status.daemon.pid).toBe(child.pid);
    expect(child.exitCode).toBeNull();
    // The first connection still works after all that.
    a.request(2, 'status', {});
    expect(await a.response(2)).toHaveProperty('result');
  });

  it('S3.2 pipelined requests on one connection each get exactly one response', async () => {
    env = new IpcEnv();
    const { socket } = await env.startDaemon();
    const conn = await env.raw(socket);
    const n = 30;
    // Handlers finish in reverse order: responses may overtake each other but never merge.
    let batch = hello;
    for (let i = 0; i < n; i++) batch += JSON.stringify({ id: i, method: 'checkpoint', params: { message: `delay:${(n - i) * 3}` } }) + '\n';
    conn.send(batch);
    const frames = await conn.waitFrames(n + 1);
    const ids = frames.map((f) => f.id);
    expect(new Set(ids).size).toBe(n + 1);
    expect(ids.filter((id) => typeof id === 'number').sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(frames.every((f) => 'result' in f)).toBe(true);
    expect(frames.length).toBe(n + 1);

    // Same through the typed client: concurrent promises, each resolved with its own result.
    const c = await client();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => c.request(Checkpoint, { message: `delay:${(10 - i) * 2}` })));
    expect(new Set(results.map((r) => r.commit)).size).toBe(10);
  });

  it('S3.5 the typed client rejects with the daemon error codes', async () => {
    env = new IpcEnv();
    expect(await codeOf(client())).toBe('DAEMON_UNREACHABLE');
    expect(await codeOf(client({ workspace: join(env.workspace, 'nope') }))).toBe('WORKSPACE_INVALID');
    const { child } = await env.startDaemon();
    const c = await client({ clientName: 'ipc-test' });
    expect(c.hello).toMatchObject({ protocol: PROTOCOL_VERSION, pid: child.pid, workspace: env.workspace });

    expect(await codeOf(c.request(Log, { n: 'ten' } as never))).toBe('INVALID_PARAMS');
    expect(await codeOf(c.request(Checkpoint, { message: 'missing' }))).toBe('CHECKPOINT_NOT_FOUND');
    expect(await codeOf(c.request(Checkpoint, { message: 'throw' }))).toBe('INTERNAL');
    expect(await codeOf(c.request(Checkpoint, { message: 'bad-result' }))).toBe('INTERNAL');
    expect(await codeOf(c.request(Diff, {}))).toBe('INTERNAL'); // declared, not handled by the fixture
    expect(await codeOf(c.request(Checkpoint, { message: 'delay:5000' }, { timeoutMs: 20 }))).toBe('TIMEOUT');
    expect(await codeOf(c.request(Checkpoint, { message: 'x'.repeat(MAX_REQUEST_BYTES) }))).toBe('MESSAGE_TOO_LARGE');
    // The connection survived all of it.
    expect((await c.request(Status, {})).daemon.pid).toBe(child.pid);

    // In flight when the daemon dies: CONNECTION_CLOSED, and onClose fires.
    let closed = false;
    c.onClose(() => (closed = true));
    const inflight = c.request(Checkpoint, { message: 'delay:10000' });
    child.kill('SIGKILL');
    expect(await codeOf(inflight)).toBe('CONNECTION_CLOSED');
    expect(closed).toBe(true);
    expect(await codeOf(c.request(Status, {}))).toBe('CONNECTION_CLOSED');
  });

  it('S3.1 the client refuses a runtime dir other users could reach', async () => {
    env = new IpcEnv();
    await env.startDaemon();
    chmodSync(env.runtimeDir, 0o755);
    expect(await codeOf(client())).toBe('RUNTIME_DIR_UNSAFE');
  });

  it('S3.2 events reach only the connections subscribed to them', async () => {
    env = new IpcEnv();
    await env.startDaemon();
    const [all, none, restoreOnly, actor] = await Promise.all([client(), client(), client(), client()]);
    const got: Record<string, WireEvent[]> = { all: [], none: [], restoreOnly: [] };
    await all.subscribe(undefined, (e) => got.all!.push(e));
    await restoreOnly.subscribe(['restore'], (e) => got.restoreOnly!.push(e));
    expect(await codeOf(none.subscribe(['bogus' as never], () => {}))).toBe('INVALID_PARAMS');

    const cp = await actor.request(Checkpoint, { message: 'evt' });
    await waitFor(() => got.all!.length === 1, 'the subscriber to get the event');
    expect(got.all![0]).toEqual({ event: 'checkpoint', data: { commit: cp.commit, message: 'evt' } });
    // The daemon writes an event before any later response on the same connection: a round trip
    // on each other connection proves no event was sent there.
    await Promise.all([none.request(Status, {}), restoreOnly.request(Status, {})]);
    expect(got.none).toEqual([]);
    expect(got.restoreOnly).toEqual([]);
  });

  it('S2.1 S3.5 connect auto-starts the daemon, once, even for concurrent clients', async () => {
    env = new IpcEnv();
    const opts = { autoStart: true, daemonEntry: FIXTURE_DAEMON, startTimeoutMs: 20_000 };
    const [a, b] = await Promise.all([client(opts), client(opts)]);
    env.trackPid(a.hello.pid);
    env.trackPid(b.hello.pid);
    expect(a.hello.pid).toBe(b.hello.pid);
    const status = await a.request(Status, {});
    expect(status.daemon.pid).toBe(a.hello.pid);

    // Shutdown answers, then the daemon stops and removes its socket.
    const { pid } = await a.request(Shutdown, {});
    expect(pid).toBe(a.hello.pid);
    await waitFor(() => !existsSync(a.socketPath), 'the socket to be removed');
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the daemon to exit');
  });

  it('S2.1 a daemon that fails to start gives DAEMON_START_FAILED with its exit code and stderr', async () => {
    env = new IpcEnv();
    const err = await client({ autoStart: true, daemonEntry: FIXTURE_DAEMON, env: { ...env.env, FIXTURE_FAIL: '1' } }).then(
      () => null,
      (e: ShadowError) => e,
    );
    expect(err?.code).toBe('DAEMON_START_FAILED');
    expect(err?.details).toMatchObject({ code: 3, workspace: env.workspace });
    expect(String(err?.details.stderr)).toContain('FIXTURE_FAIL');
  });

  it('S3.5 the built client loads without zod, node-ipc, isomorphic-git or chokidar', () => {
    // A resolve hook reports every heavy package a module pulls in, transitively.
    const hook = `export async function resolve(s, c, next) { const r = await next(s, c);
      if (/node_modules\\/(zod|node-ipc|isomorphic-git|chokidar)\\//.test(r.url)) process.stdout.write('HEAVY ' + r.url + '\\n');
      return r; }`;
    const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
    const heavy = (rel: string) => {
      const entry = fileURLToPath(new URL(`../../dist/${rel}`, import.meta.url));
      const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '-e', `await import(${JSON.stringify(entry)})`], {
        encoding: 'utf8',
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(heavy('daemon/server/ipcServer.js')).toContain('node-ipc'); // the hook works
    expect(heavy('client/index.js')).toBe('');
  });

  it('S3.4 S3.5 pipelined hello: the first request rides behind it; ready() gives the hello answer', async () => {
    env = new IpcEnv();
    const { child } = await env.startDaemon();
    const c = await client({ pipelineHello: true });
    expect(() => c.hello).toThrow(); // not answered yet: connect() returned once hello was sent
    expect((await c.request(Status, {})).daemon.pid).toBe(child.pid);
    expect(await c.ready()).toMatchObject({ protocol: PROTOCOL_VERSION, pid: child.pid, workspace: env.workspace });
  });

  it('S3.4 a pipelined request fails with the hello error when the daemon refuses the hello', async () => {
    env = new IpcEnv();
    // A peer that refuses every hello, and (as the dispatcher does) every request after it.
    mkdirSync(env.runtimeDir, { mode: 0o700 });
    const path = socketPath(env.runtimeDir, env.workspace);
    const { createServer } = await import('node:net');
    const server = createServer((sock) => {
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const req = JSON.parse(buf.slice(0, i)) as { id: number; method: string };
          buf = buf.slice(i + 1);
          const code = req.method === 'hello' ? 'PROTOCOL_MISMATCH' : 'HANDSHAKE_REQUIRED';
          sock.write(JSON.stringify({ id: req.id, error: { code, message: code, details: {} } }) + '\n');
        }
      });
    });
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const c = await client({ pipelineHello: true });
      expect(await codeOf(c.request(Status, {}))).toBe('PROTOCOL_MISMATCH');
      expect(await codeOf(c.ready())).toBe('PROTOCOL_MISMATCH');
      expect(await codeOf(client())).toBe('PROTOCOL_MISMATCH'); // not pipelined: connect() rejects
    } finally {
      server.close();
    }
  });

  it('S3.5 the shipped shadowctl bundle is one file that loads no package at all for status', () => {
    // CommonJS: every require goes through Module._load; a package would show as node_modules.
    const preload = `const M = require('node:module'); const load = M._load;
      M._load = function (req, parent, isMain) { const r = load.apply(this, arguments);
        try { const f = M._resolveFilename(req, parent, isMain); if (!f.startsWith('node:') && f.includes('/')) process.stderr.write('LOADED ' + f + '\\n'); } catch {}
        return r; };`;
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const bundle = join(root, 'dist/client/shadowctl.cjs');
    env = new IpcEnv();
    const preloadFile = join(env.base, 'preload.cjs');
    writeFileSync(preloadFile, preload);
    const r = spawnSync(process.execPath, ['-r', preloadFile, bundle, 'status'], {
      encoding: 'utf8',
      cwd: env.workspace,
      env: { ...env.env, SHADOW_NO_AUTOSTART: '1' },
    });
    expect(r.status, r.stderr).toBe(69); // no daemon, not started: the status command and the client ran
    const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
    expect(loaded).toEqual([bundle]);
  });
});
