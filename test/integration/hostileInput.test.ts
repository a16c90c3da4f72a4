/**
 * Issue #5 point 4 (S3.1–S3.3, S1.8): a real daemon over its real socket, fed hostile params for
 * every method and raw bytes the typed client would never send. Sentinels outside the workspace
 * (a sibling folder, reachable through a symlink inside it and by `../` from the git dir) must
 * stay byte-identical, unread and alone; every answer is structured; the daemon survives, its
 * `status` works and a checkpoint still equals native git's tree.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../shared/errors.js';
import { ALL_METHODS, Checkpoint, Status } from '../../shared/methods/index.js';
import { ABORT_FILE, REVIEW_FILE } from '../../shared/runModel.js';
import { runtimeDir, socketPath } from '../../shared/paths.js';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION } from '../../shared/wire.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import { hostileParams, paramKeys, substituteLive } from '../helpers/hostileArbitraries.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { makeTestWorkspace } from '../helpers/testWorkspace.js';
import { RawConnection } from '../helpers/rawConnection.js';
import { waitFor } from '../helpers/waitFor.js';

/** Property runs per method over the socket: 21 methods × 40 stays well under a minute. */
const RUNS_PER_METHOD = Number(process.env.SHADOW_PROPERTY_RUNS) || 40;
/** Files outside the workspace that nothing may read or write. */
const SENTINELS = ['secret.txt', 'HEAD', 'nested/refs-like', 'abort-target'];
/** A pid no process can have: hostile run.register must not aim cancel's SIGTERM at real processes. */
const NO_SUCH_PID = 999_999_999;
/** shutdown is the one method whose success ends the daemon; it is fuzzed in the unit test. */
const FUZZED = ALL_METHODS.filter((m) => m.name !== 'shutdown');

let ws: TestWorkspace;
let client: ShadowClient;
let daemonPid: number;
let outside: string;
let sock: string;
const sentinels: { path: string; bytes: Buffer; atimeMs: number; mtimeMs: number }[] = [];
let outsideBefore: string[];
let tmpBefore: string[];
let atimeWorks = false;

let nextId = 0;
async function call(conn: RawConnection, method: string, params: unknown): Promise<Record<string, unknown>> {
  const id = ++nextId;
  return conn.request(id, `{"id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params) ?? 'null'}}`);
}

async function helloed(): Promise<RawConnection> {
  const conn = await RawConnection.open(sock);
  const r = await call(conn, 'hello', { protocol: PROTOCOL_VERSION, client: 'hostile-input-test' });
  expect(r.result).toMatchObject({ protocol: PROTOCOL_VERSION, pid: daemonPid });
  return conn;
}

/** Structured: a result, or an error whose code is known and not INTERNAL. */
function expectStructured(what: string, r: Record<string, unknown>): void {
  if ('result' in r) return;
  const error = r.error as { code: string; message: string; details: unknown };
  const context = `${what.slice(0, 300)} → ${JSON.stringify(error).slice(0, 300)}`;
  expect(Object.hasOwn(ERROR_CODES, error.code), context).toBe(true);
  expect(error.code, context).not.toBe('INTERNAL');
  expect(typeof error.message, context).toBe('string');
  expect(typeof error.details === 'object' && error.details !== null, context).toBe(true);
}

const live: { run: string | null; commit: string | null } = { run: null, commit: null };
function noteLive(r: Record<string, unknown>): void {
  const result = r.result as Record<string, unknown> | undefined;
  if (!result) return;
  if (typeof result.run === 'string') live.run = result.run;
  for (const k of ['commit', 'base', 'final', 'preRestore']) if (typeof result[k] === 'string') live.commit = result[k];
}

function defang(method: string, params: unknown): unknown {
  if (method !== 'run.register' || typeof params !== 'object' || params === null || !Object.hasOwn(params, 'pid')) return params;
  return typeof (params as { pid: unknown }).pid === 'number' ? { ...params, pid: NO_SUCH_PID } : params;
}

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((rel) => {
      const st = lstatSync(join(dir, rel));
      return `${rel} ${st.size} ${st.mtimeMs}`;
    });
}

function expectOutsideUntouched(): void {
  // Access times first: reading the bytes below moves them.
  if (atimeWorks) for (const s of sentinels) expect(statSync(s.path).atimeMs, `${s.path} was read`).toBe(s.atimeMs);
  expect(listing(outside)).toEqual(outsideBefore);
  const prefix = basename(ws.dir);
  expect(readdirSync(tmpdir()).filter((n) => n.startsWith(prefix)).sort()).toEqual(tmpBefore);
  for (const s of sentinels) {
    expect(readFileSync(s.path)).toEqual(s.bytes);
    expect(statSync(s.path).mtimeMs).toBe(s.mtimeMs);
    utimesSync(s.path, new Date(s.atimeMs), new Date(s.mtimeMs));
  }
  if (!lstatSync(join(ws.dir, 'escape'), { throwIfNoEntry: false })) symlinkSync(outside, join(ws.dir, 'escape'));
}

beforeAll(async () => {
  ws = makeTestWorkspace({ git: true });
  writeFileSync(join(ws.dir, 'shadow.config.json'), JSON.stringify({ safePointTimeout: '200ms', autoSnapshot: { enabled: false } }));
  mkdirSync(join(ws.dir, 'src'));
  writeFileSync(join(ws.dir, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(ws.dir, 'README.md'), '# hostile\n');
  outside = `${ws.dir}-outside`;
  mkdirSync(join(outside, 'nested'), { recursive: true });
  symlinkSync(outside, join(ws.dir, 'escape'));
  client = await connectClient(ws);
  daemonPid = client.hello.pid;
  sock = socketPath(runtimeDir(ws.env, process.getuid?.() ?? 0, tmpdir()), ws.dir);
  // Sentinels hold a real commit id: read as a ref, they would show in an answer.
  const commit = (await client.request(Checkpoint, { message: 'first' })).commit;
  for (const rel of SENTINELS) {
    const path = join(outside, rel);
    writeFileSync(path, `${commit}\n`);
    utimesSync(path, new Date('2001-01-01'), new Date('2020-01-01'));
  }
  // relatime moves atime on a read only when atime <= mtime: check this file system does.
  const canary = join(outside, 'nested', 'canary');
  writeFileSync(canary, 'x');
  utimesSync(canary, new Date('2001-01-01'), new Date('2020-01-01'));
  readFileSync(canary);
  atimeWorks = statSync(canary).atimeMs > Date.parse('2020-01-02');
  for (const rel of SENTINELS) {
    const path = join(outside, rel);
    const st = statSync(path);
    sentinels.push({ path, bytes: readFileSync(path), atimeMs: Date.parse('2001-01-01'), mtimeMs: st.mtimeMs });
    utimesSync(path, new Date('2001-01-01'), new Date(st.mtimeMs));
  }
  outsideBefore = listing(outside);
  tmpBefore = readdirSync(tmpdir()).filter((n) => n.startsWith(basename(ws.dir))).sort();
}, 60_000);

afterAll(async () => {
  client?.close();
  await ws?.cleanup();
  if (outside) rmSync(outside, { recursive: true, force: true });
});

/** Hostile strings aimed at the sentinels: absolute, through the symlink, and `../` from the git dir. */
function aimedAtOutside(): string[] {
  const name = basename(outside);
  const up = (k: number) => '../'.repeat(k);
  return [
    join(outside, 'secret.txt'),
    outside,
    join(ws.dir, 'escape', 'secret.txt'),
    'escape/nested/refs-like',
    `../${name}/secret.txt`,
    ...[3, 4, 5].map((k) => `${up(k)}${name}/secret.txt`),
    ...[3, 4].map((k) => `refs/shadow/${up(k)}${name}/HEAD`),
    `${dirname(ws.dir)}/${name}/HEAD`,
  ];
}

describe('hostile input over the real socket (S3.3, S1.8, issue #5)', () => {
  it.each(FUZZED.map((m) => [m.name, m] as const))('%s: hostile params → structured answer, nothing outside touched', async (_name, method) => {
    const conn = await helloed();
    try {
      await fc.assert(
        fc.asyncProperty(hostileParams(method, aimedAtOutside()), async (raw) => {
          const params = defang(method.name, substituteLive(raw, live));
          const r = await call(conn, method.name, params);
          expectStructured(`${method.name} ${JSON.stringify(params)}`, r);
          noteLive(r);
        }),
        { numRuns: RUNS_PER_METHOD },
      );
    } finally {
      conn.close();
    }
    expectOutsideUntouched();
  });

  it('S3.3 hostile calls pipelined on two connections at once → every one answered, structured', async () => {
    const conns = [await helloed(), await helloed()];
    const step = fc.oneof(...FUZZED.map((m) => hostileParams(m, aimedAtOutside()).map((p) => [m.name, p] as const)));
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(step, fc.nat(1)), { minLength: 2, maxLength: 16 }), async (batch) => {
          const answers = await Promise.all(
            batch.map(async ([[method, raw], c]) => {
              const params = defang(method, substituteLive(raw, live));
              return [`${method} ${JSON.stringify(params)}`, await call(conns[c] as RawConnection, method, params)] as const;
            }),
          );
          for (const [what, r] of answers) {
            expectStructured(what, r);
            noteLive(r);
          }
        }),
        { numRuns: RUNS_PER_METHOD },
      );
    } finally {
      for (const c of conns) c.close();
    }
    expectOutsideUntouched();
  });

  it('S1.8 every string param of every method, aimed at the sentinels (absolute, via the symlink, ../ from the git dir) → structured, nothing read', async () => {
    const conn = await helloed();
    let calls = 0;
    try {
      for (const method of FUZZED) {
        for (const key of paramKeys(method).keys()) {
          if (key === 'pid' || key === 'protocol') continue;
          for (const aimed of aimedAtOutside()) {
            for (const value of [aimed, [aimed]]) {
              const params = method.name === 'restore' && key !== 'checkpoint' ? { checkpoint: 'manual', [key]: value } : { [key]: value };
              expectStructured(`${method.name} ${JSON.stringify(params)}`, await call(conn, method.name, params));
              calls++;
            }
          }
        }
      }
    } finally {
      conn.close();
    }
    expect(calls).toBeGreaterThan(300);
    expectOutsideUntouched();
  });

  it('S3.2 hello with a wrong protocol version → PROTOCOL_MISMATCH (non-integers: INVALID_PARAMS); the connection stays usable', async () => {
    const conn = await RawConnection.open(sock);
    try {
      for (const protocol of [0, PROTOCOL_VERSION + 1, -1, 2 ** 31, 999_999]) {
        const r = await call(conn, 'hello', { protocol });
        expect((r.error as { code: string }).code).toBe('PROTOCOL_MISMATCH');
        expect((r.error as { details: unknown }).details).toEqual({ client: protocol, daemon: PROTOCOL_VERSION });
      }
      for (const protocol of [1.5, '1', null, [1], { v: 1 }, 2 ** 53]) {
        expect(((await call(conn, 'hello', { protocol })).error as { code: string }).code).toBe('INVALID_PARAMS');
      }
      expect(((await call(conn, Status.name, {})).error as { code: string }).code).toBe('HANDSHAKE_REQUIRED');
      expect((await call(conn, 'hello', { protocol: PROTOCOL_VERSION })).result).toMatchObject({ pid: daemonPid });
      expect((await call(conn, Status.name, {})).result).toMatchObject({ daemon: { pid: daemonPid } });
    } finally {
      conn.close();
    }
  });

  it('S3.3 raw frames the typed client never sends: bad JSON, NUL, invalid UTF-8, deep nesting, prototype keys → structured errors', async () => {
    const conn = await helloed();
    /** Sends one frame and returns its answer (matched by id, or the next id-less one). */
    const answer = async (frame: Buffer): Promise<void> => {
      if (frame.toString('utf8').trim() === '') return; // blank lines get no answer, by design
      let id: unknown = null;
      try {
        const parsed = JSON.parse(frame.toString('utf8')) as { id?: unknown };
        if (typeof parsed === 'object' && parsed !== null && (typeof parsed.id === 'number' ? Number.isFinite(parsed.id) : typeof parsed.id === 'string')) id = parsed.id;
      } catch {
        // not JSON: the answer carries id null
      }
      const r = id === null ? (conn.socket.write(Buffer.concat([frame, Buffer.from('\n')])), await conn.nextUnmatched()) : await conn.request(id as number, frame);
      expectStructured(frame.toString('utf8').slice(0, 200), r);
      expect('error' in r || 'result' in r).toBe(true);
    };
    const fixed = [
      '{"id":1,',
      '\0\0\0',
      '{"id":"\0","method":"status"}',
      '{"id":2,"method":"status\\u0000"}',
      '{"id":3,"method":"__proto__"}',
      '{"id":4,"method":"log","params":{"__proto__":{"n":1}}}',
      '{"id":5,"method":"restore","params":{"checkpoint":"auto","paths":["a"],"paths":["../x"]}}',
      `{"id":6,"method":"log","params":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      `{"id":7,"method":"restore","params":{"checkpoint":"auto","paths":${'['.repeat(50_000)}"x"${']'.repeat(50_000)}}}`,
      `{"id":8,"method":"restore","params":{"checkpoint":"auto","paths":${JSON.stringify(new Array(10_001).fill('a'))}}}`,
      '[1,2,3]',
      'null',
      '{"id":1e400,"method":"status"}',
      '{"id":-0,"method":"status"}',
    ].map((f) => Buffer.from(f));
    // Bytes that are not UTF-8 in the middle of a frame.
    fixed.push(Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x38, 0x2c, 0x22, 0x6d, 0x22, 0x3a, 0xff, 0xfe, 0xc3, 0x7d]));
    try {
      for (const frame of fixed) await answer(frame);
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => answer(Buffer.from(bytes.filter((x) => x !== 10)))),
        { numRuns: 80 },
      );
    } finally {
      conn.close();
    }
    expectOutsideUntouched();
  });

  it('S3.1 a frame over MAX_REQUEST_BYTES → MESSAGE_TOO_LARGE and that connection closes; others live on', async () => {
    const conn = await helloed();
    const other = await helloed();
    conn.socket.write(Buffer.alloc(MAX_REQUEST_BYTES + 1024, 0x61));
    const r = await conn.nextUnmatched();
    expect((r.error as { code: string }).code).toBe('MESSAGE_TOO_LARGE');
    await waitFor(() => conn.closed, 'the oversized connection to close', 30_000);
    expect((await call(other, Status.name, {})).result).toMatchObject({ daemon: { pid: daemonPid } });
    other.close();
  });

  it('S5.1 an abort file that is a symlink out of the workspace is no request and is never read (regression)', async () => {
    const conn = await helloed();
    const link = join(ws.dir, ABORT_FILE);
    try {
      for (let i = 0; i < 5; i++) if ('error' in (await call(conn, 'cancel', { force: true, action: 'keep_checkpoint' }))) break;
      const run = ((await call(conn, 'run.start', { name: 'abort-symlink' })).result as { run: string }).run;
      symlinkSync(join(outside, 'abort-target'), link);
      // A checkpoint proves the watcher delivered every earlier change, the link's included.
      expect('result' in (await call(conn, Checkpoint.name, {}))).toBe(true);
      expect(((await call(conn, 'run.get', { run })).result as { run: { status: string } }).run.status).toBe('running');
      unlinkSync(link);
      expect('result' in (await call(conn, 'cancel', { run, force: true, action: 'keep_checkpoint' }))).toBe(true);
    } finally {
      rmSync(link, { force: true });
      conn.close();
    }
    expectOutsideUntouched();
  });

  it('S2 after everything: same daemon pid, status works, a checkpoint equals native git', async () => {
    const conn = await helloed();
    try {
      // End whatever run the fuzzing left active, so the checkpoint is a plain manual one.
      for (let i = 0; i < 5; i++) if ('error' in (await call(conn, 'cancel', { force: true, action: 'keep_checkpoint' }))) break;
      const status = await call(conn, Status.name, {});
      expect(status.result).toMatchObject({ daemon: { pid: daemonPid }, run: null });
      // A fuzzed cancel may have left the review marker (S5.3): Shadow never snapshots it, native
      // git would, so it is no part of the comparison.
      rmSync(join(ws.dir, REVIEW_FILE), { force: true });
      const c = (await call(conn, Checkpoint.name, { message: 'after hostile input' })).result as { tree: string };
      expect(c.tree).toBe(nativeTree(ws.dir, { repo: true, env: ws.env }));
    } finally {
      conn.close();
    }
    expect(client.hello.pid).toBe(daemonPid);
    process.kill(daemonPid, 0); // still alive
    expectOutsideUntouched();
  });
});
