import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { Dispatcher, broadcast } from '../../daemon/server/dispatcher.js';
import type { Session } from '../../daemon/server/dispatcher.js';
import { ShadowError } from '../../shared/errors.js';
import { ALL_METHODS, Checkpoint, Log, Status } from '../../shared/methods/index.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';
import type { WireEvent, WireResponse } from '../../shared/wire.js';

let sessionIds = 0;
function session(helloDone = true): Session & { events: WireEvent[] } {
  const events: WireEvent[] = [];
  return { id: ++sessionIds, helloDone, subscriptions: null, events, send: (e) => events.push(e) };
}

function make(opts: { validateResults?: boolean } = {}) {
  const warnings: object[] = [];
  const d = new Dispatcher({
    zod: z,
    validateResults: opts.validateResults,
    hello: () => ({ version: '9.9.9', pid: 1, workspace: '/ws', capabilities: ['events'] }),
    logger: { warn: (obj) => warnings.push(obj) },
  });
  return { d, warnings };
}

const req = (id: unknown, method: unknown, params?: unknown) => JSON.stringify({ id, method, params });

function errorOf(r: WireResponse) {
  if (!('error' in r)) throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r.error;
}
function resultOf(r: WireResponse): unknown {
  if ('error' in r) throw new Error(`expected a result, got ${JSON.stringify(r.error)}`);
  return r.result;
}

const checkpointResult = { commit: 'a'.repeat(40), tree: 'b'.repeat(40), ref: 'refs/shadow/manual', run: null, files: 1, hashed: 1, rescanned: false, uncaptured: [] };

describe('Dispatcher (S3.2, S3.3)', () => {
  it('S3.3 malformed JSON → PARSE_ERROR with id null', async () => {
    const { d } = make();
    const r = await d.dispatch('{"id":1,', session());
    expect(r.id).toBeNull();
    expect(errorOf(r).code).toBe('PARSE_ERROR');
  });

  it('S3.3 non-objects and bad ids → INVALID_REQUEST', async () => {
    const { d } = make();
    for (const frame of ['[1,2,3]', '42', 'null', '"hello"', '{"type":"start"}', req(null, 'status'), req({}, 'status'), req('x'.repeat(201), 'status'), req(true, 'status')]) {
      const r = await d.dispatch(frame, session());
      expect(r.id, frame).toBeNull();
      expect(errorOf(r).code, frame).toBe('INVALID_REQUEST');
    }
  });

  it('S3.3 a missing method keeps the readable id', async () => {
    const { d } = make();
    for (const [frame, id] of [[JSON.stringify({ id: 7 }), 7], [JSON.stringify({ id: 'abc', method: 3 }), 'abc']] as const) {
      const r = await d.dispatch(frame, session());
      expect(r.id).toBe(id);
      expect(errorOf(r).code).toBe('INVALID_REQUEST');
    }
    const r = await d.dispatch(req('x'.repeat(200), 'status'), session());
    expect(r.id).toBe('x'.repeat(200));
  });

  it('S3.3 unknown method → UNKNOWN_METHOD naming it and listing the known ones', async () => {
    const { d } = make();
    const e = errorOf(await d.dispatch(req(1, 'frobnicate'), session()));
    expect(e.code).toBe('UNKNOWN_METHOD');
    expect(e.message).toContain('frobnicate');
    expect(e.details.known).toEqual(expect.arrayContaining(ALL_METHODS.map((m) => m.name)));
    // Prototype names are not methods.
    expect(errorOf(await d.dispatch(req(2, '__proto__'), session())).code).toBe('UNKNOWN_METHOD');
    expect(errorOf(await d.dispatch(req(3, 'constructor'), session())).code).toBe('UNKNOWN_METHOD');
  });

  it('S3.2 the first request must be hello → HANDSHAKE_REQUIRED', async () => {
    const { d } = make();
    d.handle(Status, () => ({}) as never);
    const s = session(false);
    const r = await d.dispatch(req(1, 'status'), s);
    expect(r.id).toBe(1);
    expect(errorOf(r).code).toBe('HANDSHAKE_REQUIRED');
  });

  it('S3.2 hello with another protocol → PROTOCOL_MISMATCH with both versions', async () => {
    const { d } = make();
    const s = session(false);
    const e = errorOf(await d.dispatch(req(1, 'hello', { protocol: PROTOCOL_VERSION + 1 }), s));
    expect(e.code).toBe('PROTOCOL_MISMATCH');
    expect(e.details).toEqual({ client: PROTOCOL_VERSION + 1, daemon: PROTOCOL_VERSION });
    expect(s.helloDone).toBe(false);
  });

  it('S3.2 hello answers protocol, version and capabilities and opens the session', async () => {
    const { d } = make({ validateResults: true });
    const s = session(false);
    const r = await d.dispatch(req('h', 'hello', { protocol: PROTOCOL_VERSION, client: 'test' }), s);
    expect(r.id).toBe('h');
    expect(resultOf(r)).toEqual({ protocol: PROTOCOL_VERSION, version: '9.9.9', pid: 1, workspace: '/ws', capabilities: ['events'] });
    expect(s.helloDone).toBe(true);
  });

  it('S3.2 a hello dispatched without awaiting opens the session for the next pipelined frame', async () => {
    const { d } = make();
    d.handle(Log, () => ({ entries: [] }));
    const s = session(false);
    const [h, l] = await Promise.all([d.dispatch(req(1, 'hello', { protocol: PROTOCOL_VERSION }), s), d.dispatch(req(2, 'log'), s)]);
    expect(resultOf(h)).toMatchObject({ protocol: PROTOCOL_VERSION });
    expect(resultOf(l)).toEqual({ entries: [] });
  });

  it('S3.3 params failing the schema → INVALID_PARAMS with issues naming the first bad key', async () => {
    const { d } = make();
    d.handle(Log, () => ({ entries: [] }));
    const e = errorOf(await d.dispatch(req(1, 'log', { n: 'ten' }), session()));
    expect(e.code).toBe('INVALID_PARAMS');
    expect(e.message).toContain('n:');
    expect(e.details.issues).toEqual([expect.objectContaining({ path: ['n'], message: expect.any(String) })]);

    const extra = errorOf(await d.dispatch(req(2, 'log', { n: 1, bogus: true }), session()));
    expect(extra.code).toBe('INVALID_PARAMS');
    expect(extra.message).toContain('bogus');

    expect(errorOf(await d.dispatch(req(3, 'log', null), session())).code).toBe('INVALID_PARAMS');
    expect(errorOf(await d.dispatch(req(4, 'log', [1]), session())).code).toBe('INVALID_PARAMS');
  });

  it('S3.2 a handler round trip gets parsed params (defaults applied) and the context', async () => {
    const { d } = make({ validateResults: true });
    const s = session();
    let seen: unknown;
    d.handle(Log, (params, ctx) => {
      seen = { params, session: ctx.session.id };
      return { entries: [] };
    });
    const r = await d.dispatch(JSON.stringify({ id: 5, method: 'log' }), s);
    expect(r).toEqual({ id: 5, result: { entries: [] } });
    expect(seen).toEqual({ params: { n: 20 }, session: s.id });
  });

  it('S3.3 a handler throwing ShadowError → its wire form', async () => {
    const { d } = make();
    d.handle(Checkpoint, () => {
      throw new ShadowError('CHECKPOINT_NOT_FOUND', 'No checkpoint abc', { id: 'abc' });
    });
    const r = await d.dispatch(req(1, 'checkpoint', {}), session());
    expect(r).toEqual({ id: 1, error: { code: 'CHECKPOINT_NOT_FOUND', message: 'No checkpoint abc', details: { id: 'abc' } } });
  });

  it('S3.3 any other throw → INTERNAL with the method, logged', async () => {
    const { d, warnings } = make();
    d.handle(Checkpoint, async () => {
      throw new TypeError('oops');
    });
    const e = errorOf(await d.dispatch(req(1, 'checkpoint', {}), session()));
    expect(e.code).toBe('INTERNAL');
    expect(e.details.method).toBe('checkpoint');
    expect(warnings).toHaveLength(1);
  });

  it('S3.3 results are checked against their schema only with validateResults', async () => {
    for (const validateResults of [true, false]) {
      const { d } = make({ validateResults });
      d.handle(Checkpoint, () => ({ commit: 42 }) as never);
      const r = await d.dispatch(req(1, 'checkpoint', {}), session());
      if (validateResults) expect(errorOf(r).code).toBe('INTERNAL');
      else expect(resultOf(r)).toEqual({ commit: 42 });
    }
    const { d } = make({ validateResults: true });
    d.handle(Checkpoint, () => checkpointResult);
    expect(resultOf(await d.dispatch(req(1, 'checkpoint', { message: 'm' }), session()))).toEqual(checkpointResult);
  });

  it('S3.2 a method without a handler is reported and answers INTERNAL', async () => {
    const { d } = make();
    expect(d.missingHandlers().sort()).toEqual(ALL_METHODS.map((m) => m.name).filter((n) => n !== 'hello' && n !== 'subscribe').sort());
    d.handle(Status, () => ({}) as never);
    expect(d.missingHandlers()).not.toContain('status');
    expect(errorOf(await d.dispatch(req(1, 'diff', {}), session())).code).toBe('INTERNAL');
  });

  it('S3.2 subscribe sets the session filter; unknown events → INVALID_PARAMS', async () => {
    const { d } = make({ validateResults: true });
    const all = session();
    expect(resultOf(await d.dispatch(req(1, 'subscribe', {}), all))).toEqual({ events: ['checkpoint', 'restore', 'watcher', 'shutdown', 'run', 'cancel'] });
    const some = session();
    expect(resultOf(await d.dispatch(req(1, 'subscribe', { events: ['restore'] }), some))).toEqual({ events: ['restore'] });
    const bad = session();
    const e = errorOf(await d.dispatch(req(1, 'subscribe', { events: ['restore', 'nope'] }), bad));
    expect(e.code).toBe('INVALID_PARAMS');
    expect(e.details.unknown).toEqual(['nope']);
    expect(bad.subscriptions).toBeNull();
    const none = session();
    const early = session(false);
    early.subscriptions = new Set(['checkpoint']); // never through hello: must not receive

    expect(broadcast([all, some, bad, none, early], { event: 'checkpoint', data: { n: 1 } })).toBe(1);
    expect(broadcast([all, some, bad, none, early], { event: 'restore', data: { n: 2 } })).toBe(2);
    expect(all.events.map((e) => e.event)).toEqual(['checkpoint', 'restore']);
    expect(some.events).toEqual([{ event: 'restore', data: { n: 2 } }]);
    expect(bad.events).toEqual([]);
    expect(none.events).toEqual([]);
    expect(early.events).toEqual([]);
  });

  it('S3.2 hello and subscribe cannot be replaced', () => {
    const { d } = make();
    expect(() => d.handle(ALL_METHODS[0], () => ({}) as never)).toThrow(ShadowError);
  });
});
