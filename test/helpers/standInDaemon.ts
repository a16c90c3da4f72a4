import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { ResultOf } from '../../shared/defineMethod.js';
import { Hello } from '../../shared/methods/hello.js';
import { socketPath } from '../../shared/paths.js';
import { encodeFrame, FrameDecoder, PROTOCOL_VERSION } from '../../shared/wire.js';

/** A method's stand-in: returns the result, or throws `{ code, message }` to answer with an error. */
export type StandInHandler = (params: Record<string, unknown>) => unknown;

/** One request the stand-in received. */
export interface RecordedRequest {
  /** Method name. */
  method: string;
  /** Params as sent. */
  params: Record<string, unknown>;
}

/** A running stand-in daemon. */
export interface StandInDaemon {
  /** Every request received (hello included), in order. */
  requests: RecordedRequest[];
  /** The params of every request of `method`. */
  paramsOf(method: string): Record<string, unknown>[];
  /** Stops listening and drops connections. */
  close(): Promise<void>;
}

/** An error answer: throw one from a handler. */
export class StandInError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * A stand-in for shadowd on the workspace's socket, speaking the NDJSON wire (docs/PROTOCOL.md):
 * answers hello, calls `handlers[method]` (which may be async, to hold an answer back) and records
 * every request. Unknown methods get UNKNOWN_METHOD.
 */
export async function startStandInDaemon(runtimeDir: string, workspace: string, handlers: Record<string, StandInHandler>): Promise<StandInDaemon> {
  const path = socketPath(runtimeDir, workspace);
  const requests: RecordedRequest[] = [];
  const conns = new Set<Socket>();
  const server: Server = createServer((conn) => {
    conns.add(conn);
    conn.on('close', () => conns.delete(conn));
    conn.on('error', () => {});
    const decoder = new FrameDecoder(1 << 20);
    conn.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        const req = JSON.parse(frame) as { id: number; method: string; params?: Record<string, unknown> };
        const params = req.params ?? {};
        requests.push({ method: req.method, params });
        void answer(req.method, params).then((reply) => {
          if (!conn.destroyed) conn.write(encodeFrame({ id: req.id, ...reply }));
        });
      }
    });
  });

  async function answer(method: string, params: Record<string, unknown>): Promise<{ result: unknown } | { error: { code: string; message: string; details: Record<string, unknown> } }> {
    if (method === Hello.name) {
      const hello: ResultOf<typeof Hello> = { protocol: PROTOCOL_VERSION, version: '0.1.0', pid: 4242, workspace, capabilities: [] };
      return { result: hello };
    }
    const handler = handlers[method];
    if (!handler) return { error: { code: 'UNKNOWN_METHOD', message: `stand-in has no ${method}`, details: {} } };
    try {
      return { result: await handler(params) };
    } catch (err) {
      const e = err instanceof StandInError ? err : new StandInError('INTERNAL', String(err));
      return { error: { code: e.code, message: e.message, details: e.details } };
    }
  }

  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    requests,
    paramsOf: (method) => requests.filter((r) => r.method === method).map((r) => r.params),
    close() {
      for (const c of conns) c.destroy();
      return new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
