/**
 * The typed client for shadowctl, editor plugins and tools (S3.5). It loads fast: plain
 * node:net and the zod-free method declarations, no node-ipc (the wire is NDJSON, docs/PROTOCOL.md).
 */
import { realpathSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { MethodDef, ParamsOf, ResultOf } from '../shared/defineMethod.js';
import { ShadowError } from '../shared/errors.js';
import type { WireError } from '../shared/errors.js';
import type { EventName } from '../shared/events.js';
// The two files, not methods/index.js: every shadowctl run loads this module (start-up cost).
import { Hello } from '../shared/methods/hello.js';
import { Subscribe } from '../shared/methods/subscribe.js';
import { socketPath } from '../shared/paths.js';
import { encodeFrame, FrameDecoder, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, PROTOCOL_VERSION } from '../shared/wire.js';
import type { WireEvent } from '../shared/wire.js';
import { checkRuntimeDir, clientRuntimeDir, connectSocket, isNotListening, startDaemon } from './autoStart.js';

/** How to reach (and if needed start) the daemon of a workspace. */
export interface ConnectOptions {
  /** Workspace directory; default process.cwd(). */
  workspace?: string;
  /** Start a daemon when none answers; default true. */
  autoStart?: boolean;
  /** Environment used for the runtime directory and a started daemon; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Deadline for starting the daemon and for the hello answer; default 15 000 ms. */
  startTimeoutMs?: number;
  /** Name sent in hello, for the daemon's logs. */
  clientName?: string;
  /** Daemon entry script to auto-start (tests); default the package's dist/daemon/main.js. */
  daemonEntry?: string;
  /**
   * Resolve as soon as `hello` is sent, not answered: the first request goes out right behind it
   * (the daemon handles a connection's frames in order) and a failed hello rejects it with the
   * hello's error. Saves a round trip (shadowctl). `hello` is then readable after `ready()`.
   */
  pipelineHello?: boolean;
}

/** A request waiting for its response. */
interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(err: ShadowError): void;
  timer: NodeJS.Timeout | null;
}

/** One connection to a daemon, after a successful hello. */
export class ShadowClient {
  /** The socket this client is connected to. */
  readonly socketPath: string;
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder(MAX_RESPONSE_BYTES);
  private readonly pending = new Map<number, Pending>();
  private readonly eventHandlers: ((e: WireEvent) => void)[] = [];
  private readonly closeHandlers: (() => void)[] = [];
  private nextId = 1;
  private closed = false;
  private helloResult: ResultOf<typeof Hello> | null = null;
  /** The hello in flight when connected with `pipelineHello`; null once answered or not pipelined. */
  private helloPending: Promise<void> | null = null;

  private constructor(socket: Socket, path: string) {
    this.socket = socket;
    this.socketPath = path;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {
      // 'close' follows and rejects what is pending.
    });
    socket.on('close', () => this.onClosed());
  }

  /** Connects to the workspace's daemon (starting it unless autoStart is false) and says hello. */
  static async connect(opts: ConnectOptions = {}): Promise<ShadowClient> {
    const env = opts.env ?? process.env;
    const workspace = resolveWorkspace(opts.workspace ?? process.cwd());
    const dir = clientRuntimeDir(env);
    const path = socketPath(dir, workspace);
    const timeoutMs = opts.startTimeoutMs ?? 15_000;
    let socket: Socket;
    try {
      checkRuntimeDir(dir);
      socket = await connectSocket(path);
    } catch (err) {
      if (err instanceof ShadowError) throw err;
      if (!isNotListening(err) || opts.autoStart === false) throw unreachable(workspace, path, err);
      await startDaemon(workspace, env, { socketPath: path, timeoutMs, entry: opts.daemonEntry });
      try {
        socket = await connectSocket(path);
      } catch (again) {
        throw unreachable(workspace, path, again);
      }
    }
    const client = new ShadowClient(socket, path);
    const hello = client
      .send(Hello, { protocol: PROTOCOL_VERSION, client: opts.clientName ?? 'shadow-client' }, { timeoutMs })
      .then(
        (result) => {
          client.helloResult = result;
          client.helloPending = null;
        },
        (err: unknown) => {
          client.close();
          throw err;
        },
      );
    if (opts.pipelineHello) {
      client.helloPending = hello;
      hello.catch(() => undefined); // reported by ready() and by every request sent meanwhile
      return client;
    }
    await hello;
    return client;
  }

  /** Resolves with the hello answer once it has arrived (at once unless connected with `pipelineHello`). */
  async ready(): Promise<ResultOf<typeof Hello>> {
    if (this.helloPending) await this.helloPending;
    return this.hello;
  }

  /** The daemon's answer to hello: protocol, version, pid, workspace, capabilities. */
  get hello(): ResultOf<typeof Hello> {
    if (!this.helloResult) throw new ShadowError('HANDSHAKE_REQUIRED', 'hello has not completed', {});
    return this.helloResult;
  }

  /**
   * Sends a request; resolves with its result or rejects with the daemon's ShadowError (with the
   * hello's error when a pipelined hello failed: the daemon then refused the request anyway).
   */
  request<M extends MethodDef>(method: M, params: ParamsOf<M>, opts: { timeoutMs?: number } = {}): Promise<ResultOf<M>> {
    const sent = this.send(method, params, opts);
    if (!this.helloPending) return sent;
    sent.catch(() => undefined);
    return this.helloPending.then(() => sent);
  }

  private send<M extends MethodDef>(method: M, params: ParamsOf<M>, opts: { timeoutMs?: number }): Promise<ResultOf<M>> {
    return new Promise<ResultOf<M>>((resolve, reject) => {
      if (this.closed) {
        reject(new ShadowError('CONNECTION_CLOSED', `Connection to ${this.socketPath} is closed`, { socket: this.socketPath, method: method.name }));
        return;
      }
      const id = this.nextId++;
      const frame = encodeFrame({ id, method: method.name, params });
      // Checked here so the daemon never has to cut the connection (and every other request).
      if (frame.length - 1 > MAX_REQUEST_BYTES) {
        reject(new ShadowError('MESSAGE_TOO_LARGE', `Request ${method.name} is ${frame.length - 1} bytes, over the ${MAX_REQUEST_BYTES}-byte limit`, {
          method: method.name,
          bytes: frame.length - 1,
          limit: MAX_REQUEST_BYTES,
        }));
        return;
      }
      const entry: Pending = { method: method.name, resolve: resolve as (r: unknown) => void, reject, timer: null };
      if (opts.timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new ShadowError('TIMEOUT', `${method.name} got no response within ${opts.timeoutMs} ms`, { method: method.name, timeoutMs: opts.timeoutMs }));
        }, opts.timeoutMs);
      }
      this.pending.set(id, entry);
      this.socket.write(frame);
    });
  }

  /** Subscribes to events (default: all) and calls `onEvent` for each one pushed. */
  async subscribe(events: EventName[] | undefined, onEvent: (e: WireEvent) => void): Promise<void> {
    this.eventHandlers.push(onEvent);
    try {
      await this.request(Subscribe, events ? { events } : {});
    } catch (err) {
      this.eventHandlers.splice(this.eventHandlers.indexOf(onEvent), 1);
      throw err;
    }
  }

  /** Calls `cb` once when the connection closes (either side). */
  onClose(cb: () => void): void {
    if (this.closed) queueMicrotask(cb);
    else this.closeHandlers.push(cb);
  }

  /** Closes the connection; requests still pending reject with CONNECTION_CLOSED. */
  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let frames: string[];
    try {
      frames = this.decoder.push(chunk);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const frame of frames) this.onFrame(frame);
  }

  private onFrame(frame: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(frame) as Record<string, unknown>;
    } catch {
      return; // Not from a Shadow daemon; nothing to correlate it with.
    }
    if (typeof msg !== 'object' || msg === null) return;
    if (typeof msg.event === 'string' && !('id' in msg)) {
      const event = { event: msg.event, data: msg.data };
      for (const handler of [...this.eventHandlers]) {
        try {
          handler(event);
        } catch (err) {
          // The caller's bug: report it as uncaught, but only after this chunk's responses are handled.
          process.nextTick(() => {
            throw err;
          });
        }
      }
      return;
    }
    // id null: a connection-level error (the daemon closes next; pending requests learn it then).
    const pending = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!pending || typeof msg.id !== 'number') return;
    this.pending.delete(msg.id);
    if (pending.timer) clearTimeout(pending.timer);
    if (msg.error && typeof msg.error === 'object') pending.reject(ShadowError.fromWire(toWireError(msg.error)));
    else pending.resolve(msg.result);
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(new ShadowError('CONNECTION_CLOSED', `Connection to ${this.socketPath} closed before ${p.method} was answered`, {
        socket: this.socketPath,
        method: p.method,
      }));
    }
    for (const cb of this.closeHandlers.splice(0)) cb();
  }
}

/** The workspace's real path (the socket is named after it). */
function resolveWorkspace(dir: string): string {
  try {
    const real = realpathSync(dir);
    if (statSync(real).isDirectory()) return real;
  } catch {
    // Reported below.
  }
  throw new ShadowError('WORKSPACE_INVALID', `Workspace ${dir} does not exist or is not a directory`, { workspace: dir });
}

function unreachable(workspace: string, socket: string, err: unknown): ShadowError {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  return new ShadowError('DAEMON_UNREACHABLE', `No Shadow daemon answers for ${workspace} on ${socket} (${errno ?? String(err)})`, {
    workspace,
    socket,
    errno,
  });
}

/** Tolerates a malformed error object rather than throwing inside the data handler. */
function toWireError(raw: object): WireError {
  const e = raw as Partial<WireError>;
  return {
    code: typeof e.code === 'string' ? e.code : 'INTERNAL',
    message: typeof e.message === 'string' ? e.message : 'error without a message',
    details: e.details && typeof e.details === 'object' ? e.details : {},
  };
}
