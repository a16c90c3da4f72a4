/**
 * Issue #5 point 4 (S3.3, S1.8): every IPC method in ALL_METHODS gets random and hostile params
 * through the real dispatcher and real handlers on a temp workspace. Each answer is a result that
 * fits the method's result schema or a structured client error (never INTERNAL, never a throw),
 * nothing outside the workspace is read or written, and framing survives random bytes.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Session } from '../../daemon/server/dispatcher.js';
import type { MethodDef } from '../../shared/defineMethod.js';
import { ERROR_CODES } from '../../shared/errors.js';
import { ALL_METHODS, Cancel, Hello, Log, RunRegister, RunStart, RunStep } from '../../shared/methods/index.js';
import { CANCEL_ACTIONS } from '../../shared/runModel.js';
import { encodeFrame, FrameDecoder, FrameTooLargeError, MAX_REQUEST_BYTES, PROTOCOL_VERSION } from '../../shared/wire.js';
import type { WireResponse } from '../../shared/wire.js';
import { hostileParams, hostileString, hostileValue, substituteLive } from '../helpers/hostileArbitraries.js';
import { validateTreePath } from '../../daemon/store/validateTreePath.js';
import { startInProcessDaemon } from '../helpers/inProcessDaemon.js';
import type { InProcessDaemon } from '../helpers/inProcessDaemon.js';
import { makeTempDir } from '../helpers/tempDir.js';

/** Runs per method; the whole file stays well under a minute on a busy 2-core machine. */
const RUNS_PER_METHOD = Number(process.env.SHADOW_PROPERTY_RUNS) || 60;
/** A hung handler fails the property with its params instead of the whole file's timeout. */
const CALL_DEADLINE_MS = 15_000;
/** A pid no process can have (pid_max is at most 2^22): run.register must never name a real one here. */
const NO_SUCH_PID = 999_999_999;

let root: { dir: string; cleanup: () => void };
let ws: string;
let outside: string;
let daemon: InProcessDaemon;
let sentinel: { path: string; bytes: Buffer; mtimeMs: number; atimeMs: number };
let atimeWorks = false;

let sessionIds = 0;
function session(helloDone = true): Session {
  return { id: ++sessionIds, helloDone, subscriptions: null, send: () => undefined };
}

/** Run-owned pids get SIGTERM on cancel: hostile params must not aim at real processes. */
function defang(method: MethodDef, params: unknown): unknown {
  if (method.name !== 'run.register' || typeof params !== 'object' || params === null || !Object.hasOwn(params, 'pid')) return params;
  const pid = (params as { pid: unknown }).pid;
  return typeof pid === 'number' ? { ...params, pid: NO_SUCH_PID } : params;
}

/** Ids seen in answers, substituted for the live tokens so handlers get past "not found". */
const live: { run: string | null; commit: string | null } = { run: null, commit: null };

/** Result keys holding workspace-relative paths, and keys holding shadow refs. */
const PATH_KEYS = new Set(['restored', 'removed', 'added', 'modified', 'deleted', 'modeChanged', 'artifacts', 'lockFiles', 'tempPaths', 'path']);
const REF_KEYS = new Set(['ref', 'refsDeleted', 'deletedRefs']);

/** Every path a result names stays inside the workspace, every ref under refs/shadow/; live ids are noted. */
function checkResultPaths(value: unknown, key = ''): void {
  if (Array.isArray(value)) {
    for (const v of value) checkResultPaths(v, key);
  } else if (typeof value === 'string') {
    if (PATH_KEYS.has(key)) validateTreePath(value);
    if (REF_KEYS.has(key)) expect(value.startsWith('refs/shadow/') && !value.split('/').includes('..'), `${key}: ${value}`).toBe(true);
    if ((key === 'run' || key === 'id') && /^r\d{14}-[0-9a-f]{4}$/.test(value)) live.run = value;
    if ((key === 'commit' || key === 'base' || key === 'final') && /^[0-9a-f]{40}$/.test(value)) live.commit = value;
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) checkResultPaths(v, k);
  }
}

let nextId = 0;
async function call(method: string, params: unknown, s: Session = session()): Promise<WireResponse> {
  const id = ++nextId;
  const frame = `{"id":${id},"method":${JSON.stringify(method)},"params":${JSON.stringify(params) ?? 'null'}}`;
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${method} did not answer within ${CALL_DEADLINE_MS} ms: ${frame.slice(0, 500)}`)), CALL_DEADLINE_MS);
  });
  const response = await Promise.race([daemon.dispatcher.dispatch(frame, s), hung]).finally(() => clearTimeout(timer));
  expect(response.id).toBe(id);
  return response;
}

/** Answers per method and outcome ('ok' or the error code), printed at the end to show what was reached. */
const outcomes = new Map<string, Map<string, number>>();

/** The contract of every answer: a schema-valid result, or a known, non-internal error code. */
function expectStructured(method: MethodDef, params: unknown, r: WireResponse): void {
  const tally = outcomes.get(method.name) ?? new Map<string, number>();
  const issue = 'error' in r && r.error.code === 'INVALID_PARAMS' ? (r.error.details.issues as { path: unknown[]; code: string }[] | undefined)?.[0] : undefined;
  const outcome = 'result' in r ? 'ok' : issue ? `${r.error.code}:${issue.path.join('.')}:${issue.code}` : r.error.code;
  tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
  outcomes.set(method.name, tally);
  if ('result' in r) {
    const parsed = method.schemas(z).result.safeParse(r.result);
    expect(parsed.success, `${method.name} result fails its schema`).toBe(true);
    checkResultPaths(r.result);
    return;
  }
  const { code, message, details } = r.error;
  const context = `${method.name} ${JSON.stringify(params)?.slice(0, 300)} → ${code}: ${message.slice(0, 300)}`;
  expect(Object.hasOwn(ERROR_CODES, code), context).toBe(true);
  expect(code, context).not.toBe('INTERNAL');
  expect(typeof message, context).toBe('string');
  expect(typeof details === 'object' && details !== null, context).toBe(true);
}

/** Everything under `dir` with its size and mtime, not following symlinks. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const st = lstatSync(join(dir, rel, name));
      out.push(`${rel}${name} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(`${rel}${name}/`);
    }
  };
  walk('');
  return out;
}

let outsideBefore: string[];
let rootBefore: string[];

beforeAll(async () => {
  root = makeTempDir('shadow-hostile-');
  ws = join(root.dir, 'ws');
  outside = join(root.dir, 'outside');
  mkdirSync(join(ws, 'src'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(ws, 'README.md'), '# hostile\n');
  writeFileSync(join(ws, 'src', 'a.ts'), 'export const a = 1;\n');
  // A symlink inside the workspace pointing out of it: reads and writes must never follow it.
  symlinkSync('../outside', join(ws, 'escape'));
  daemon = await startInProcessDaemon(ws, { safePointTimeout: 200, gracefulShutdownTimeout: 2000 });
  // The sentinel holds a real commit id: if any code read it as a ref, that would show.
  const first = await call('checkpoint', { message: 'first' });
  if (!('result' in first)) throw new Error(`first checkpoint failed: ${JSON.stringify(first)}`);
  const commit = (first.result as { commit: string }).commit;
  sentinel = { path: join(outside, 'secret.txt'), bytes: Buffer.from(`${commit}\n`), mtimeMs: 0, atimeMs: 0 };
  writeFileSync(sentinel.path, sentinel.bytes);
  writeFileSync(join(outside, 'HEAD'), `${commit}\n`);
  // relatime updates atime on a read when atime <= mtime: an old atime makes any read visible.
  const canary = join(root.dir, 'canary');
  writeFileSync(canary, 'x');
  for (const f of [sentinel.path, join(outside, 'HEAD'), canary]) utimesSync(f, new Date('2001-01-01'), new Date('2020-01-01'));
  readFileSync(canary);
  atimeWorks = statSync(canary).atimeMs > new Date('2020-01-02').getTime();
  const st = statSync(sentinel.path);
  sentinel.mtimeMs = st.mtimeMs;
  sentinel.atimeMs = st.atimeMs;
  outsideBefore = listing(outside);
  rootBefore = readdirSync(root.dir).sort();
}, 60_000);

afterAll(async () => {
  if (process.env.SHADOW_PROPERTY_STATS) for (const [m, t] of outcomes) console.log(`${m}: ${[...t].map(([k, n]) => `${k}=${n}`).join(' ')}`);
  await daemon?.close();
  root?.cleanup();
});

function expectOutsideUntouched(): void {
  // Nothing outside was even read (when the file system keeps access times at all); checked
  // first, since reading the bytes below moves the access time.
  if (atimeWorks) expect(statSync(sentinel.path).atimeMs).toBe(sentinel.atimeMs);
  expect(listing(outside)).toEqual(outsideBefore);
  expect(readdirSync(root.dir).sort()).toEqual(rootBefore);
  expect(readFileSync(sentinel.path)).toEqual(sentinel.bytes);
  utimesSync(sentinel.path, new Date(sentinel.atimeMs), new Date(sentinel.mtimeMs));
  // A run may declare the symlink as its temp path and a cancel delete it (the link, never its
  // target): put it back so the trap stays armed for the next property.
  if (!lstatSync(join(ws, 'escape'), { throwIfNoEntry: false })) symlinkSync('../outside', join(ws, 'escape'));
}

describe('hostile params for every method (S3.3, S1.8, issue #5)', () => {
  it.each(ALL_METHODS.map((m) => [m.name, m] as const))('%s: random and hostile params → valid result or structured error', async (_name, method) => {
    const outsideAbs = [sentinel.path, outside, join(ws, 'escape', 'secret.txt'), `${ws}/../outside/secret.txt`];
    await fc.assert(
      fc.asyncProperty(hostileParams(method, outsideAbs), async (raw) => {
        const params = defang(method, substituteLive(raw, live));
        const fresh = method.name === Hello.name;
        const r = await call(method.name, params, session(!fresh));
        expectStructured(method, params, r);
      }),
      { numRuns: RUNS_PER_METHOD },
    );
    expectOutsideUntouched();
  });

  it('S3.3 mixed sequences of hostile calls across all methods (runs started, stepped, cancelled, resumed) stay structured', async () => {
    const step = fc.oneof(...ALL_METHODS.map((m) => hostileParams(m).map((p) => [m, p] as const)));
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        for (const [method, raw] of steps) {
          const params = defang(method, substituteLive(raw, live));
          expectStructured(method, params, await call(method.name, params, session(method.name !== Hello.name)));
        }
      }),
      { numRuns: RUNS_PER_METHOD },
    );
    expectOutsideUntouched();
  });

  it('S3.3 hostile calls across all methods dispatched concurrently (pipelined, no await between) all get structured answers', async () => {
    const step = fc.oneof(...ALL_METHODS.map((m) => hostileParams(m).map((p) => [m, p] as const)));
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 16 }), async (steps) => {
        const answers = await Promise.all(
          steps.map(async ([method, raw]) => {
            const params = defang(method, substituteLive(raw, live));
            return [method, params, await call(method.name, params, session(method.name !== Hello.name))] as const;
          }),
        );
        for (const [method, params, r] of answers) expectStructured(method, params, r);
      }),
      { numRuns: RUNS_PER_METHOD },
    );
    expectOutsideUntouched();
  });

  it('S5.6 run lifecycle with hostile resource paths (register, step, cancel with every action): cleanup never leaves the workspace', async () => {
    const outsideAbs = [sentinel.path, outside, join(ws, 'escape', 'secret.txt')];
    const paths = fc.array(hostileString(outsideAbs), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(paths, paths, paths, fc.constantFrom(...CANCEL_ACTIONS), async (temps, locks, artifacts, action) => {
        for (let i = 0; i < 5; i++) if ('error' in (await call('cancel', { force: true, action: 'keep_checkpoint' }))) break;
        const started = await call(RunStart.name, { name: 'lifecycle', phases: ['build'] });
        expectStructured(RunStart, {}, started);
        if (!('result' in started)) return;
        writeFileSync(join(ws, 'src', 'tmp.txt'), 'scratch\n');
        for (const p of temps) expectStructured(RunRegister, p, await call(RunRegister.name, { tempPaths: [p, 'src/tmp.txt'] }));
        for (const p of locks) expectStructured(RunRegister, p, await call(RunRegister.name, { lockFiles: [p] }));
        expectStructured(RunStep, artifacts, await call(RunStep.name, { name: 'step', artifacts }));
        const cancelled = await call(Cancel.name, { action, force: true });
        expectStructured(Cancel, action, cancelled);
        expect('result' in cancelled).toBe(true);
      }),
      { numRuns: 30 },
    );
    expectOutsideUntouched();
  });

  it('S3.2 every method but hello, before the handshake → HANDSHAKE_REQUIRED whatever its params', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ALL_METHODS.filter((m) => m.name !== Hello.name)), hostileValue(), async (method, params) => {
        const r = await call(method.name, params, session(false));
        expect('error' in r && r.error.code).toBe('HANDSHAKE_REQUIRED');
      }),
      { numRuns: 100 },
    );
  });

  it('S3.2 hello with any protocol but ours → PROTOCOL_MISMATCH (or INVALID_PARAMS when not an integer), session stays closed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 53, PROTOCOL_VERSION + 1)), async (protocol) => {
        fc.pre(protocol !== PROTOCOL_VERSION);
        const s = session(false);
        const r = await call('hello', { protocol }, s);
        const expected = Number.isSafeInteger(JSON.parse(JSON.stringify(protocol)) as unknown) ? 'PROTOCOL_MISMATCH' : 'INVALID_PARAMS';
        expect('error' in r && r.error.code).toBe(expected);
        expect(s.helloDone).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('S1.5 a checkpoint message never forges trailers nor breaks the subject line (regression: "Shadow-Run: x" in a message read as metadata)', async () => {
    // A manual checkpoint needs no active run: end whatever the fuzzing left running.
    for (let i = 0; i < 5; i++) if ('error' in (await call('cancel', { force: true, action: 'keep_checkpoint' }))) break;
    const forged = fc.constantFrom('Shadow-Run: r20000101000000-dead', 'Shadow-Reason: timeout', 'x\nShadow-Kind: base', 'Shadow-Phase: p\0', 'a\0b', '\r\nShadow-Step: s');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(forged, hostileString()), async (message) => {
        writeFileSync(join(ws, 'src', 'a.ts'), `export const a = ${++n};\n`);
        const r = await call('checkpoint', { message });
        if ('error' in r) return void expect(r.error.code).toBe('INVALID_PARAMS'); // over 10 000 characters
        const log = await call(Log.name, { n: 1, ref: 'manual' });
        const entry = ('result' in log ? (log.result as { entries: { commit: string; subject: string; kind: string; run: unknown; reason: unknown }[] }).entries : [])[0];
        expect(entry?.commit).toBe((r.result as { commit: string }).commit);
        expect(entry).toMatchObject({ kind: 'checkpoint', run: null, reason: null });
        expect(entry?.subject).not.toMatch(/[\r\n\0]/);
      }),
      { numRuns: 40 },
    );
  });

  it('S1.2 log ref escaping refs/shadow/ is refused before any read (regression: it read files outside the store)', async () => {
    for (const ref of ['../../../../../outside/secret.txt', '../../../outside/secret.txt', 'refs/../../../../../outside/secret.txt', 'refs/../../../../outside/secret.txt', 'refs/heads/main', 'refs/shadow/../../HEAD', 'a\0b', 'refs/shadow/a//b']) {
      const r = await call(Log.name, { ref });
      expect('error' in r && r.error.code, ref).toBe('INVALID_PARAMS');
    }
    const ok = await call(Log.name, { ref: 'manual' });
    expect('result' in ok && (ok.result as { entries: unknown[] }).entries.length).toBeGreaterThan(0);
    expectOutsideUntouched();
  });
});

describe('framing of random bytes (S3.1, shared/wire.ts)', () => {
  const splitAt = (buf: Buffer, cuts: number[]): Buffer[] => {
    const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
    const out: Buffer[] = [];
    let start = 0;
    for (const p of points) {
      out.push(buf.subarray(start, p));
      start = p;
    }
    out.push(buf.subarray(start));
    return out;
  };

  it('whole messages come out in order however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (values, cuts) => {
        const messages = values.map((data) => ({ event: 'x', data }));
        const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));
        const decoder = new FrameDecoder(MAX_REQUEST_BYTES);
        const frames = splitAt(stream, cuts).flatMap((c) => decoder.push(c));
        expect(frames.map((f) => JSON.parse(f) as unknown)).toEqual(messages.map((m) => JSON.parse(JSON.stringify(m)) as unknown));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes yield newline-free frames or FrameTooLargeError, and each frame gets a structured answer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), fc.integer({ min: 16, max: 256 }), async (bytes, cuts, limit) => {
        const decoder = new FrameDecoder(limit);
        const frames: string[] = [];
        try {
          for (const chunk of splitAt(Buffer.from(bytes), cuts)) frames.push(...decoder.push(chunk));
        } catch (err) {
          expect(err).toBeInstanceOf(FrameTooLargeError);
        }
        for (const f of frames) {
          expect(f.includes('\n')).toBe(false);
          expect(f.length).toBeLessThanOrEqual(limit);
          const r = await daemon.dispatcher.dispatch(f, session());
          if ('error' in r) expect(Object.hasOwn(ERROR_CODES, r.error.code) && r.error.code !== 'INTERNAL').toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a frame over the limit is refused, one at the limit passes (MAX_REQUEST_BYTES)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 5 }), (limit, over) => {
        expect(new FrameDecoder(limit).push(Buffer.alloc(limit, 0x61))).toEqual([]);
        expect(new FrameDecoder(limit).push(Buffer.concat([Buffer.alloc(limit, 0x61), Buffer.from('\n')]))).toEqual(['a'.repeat(limit)]);
        if (over > 0) expect(() => new FrameDecoder(limit).push(Buffer.alloc(limit + over, 0x61))).toThrow(FrameTooLargeError);
      }),
      { numRuns: 100 },
    );
    const big = new FrameDecoder(MAX_REQUEST_BYTES);
    expect(() => big.push(Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x20))).toThrow(FrameTooLargeError);
  });
});
