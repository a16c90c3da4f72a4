/**
 * The daemon's end of the socket (S3.1–S3.3): node-ipc in rawBuffer mode, so node-ipc only
 * hands over bytes and none of its own message parsing (which a hostile frame can crash, see
 * LIBRARIES.md) runs. Framing, size caps and validation are ours: FrameDecoder + Dispatcher.
 */
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import { IPCModule } from 'node-ipc';
import type { IpcSocketServer } from 'node-ipc';
import type { Logger } from 'pino';
import { ShadowError } from '../../shared/errors.js';
import { MAX_SOCKET_PATH_BYTES } from '../../shared/paths.js';
import { encodeFrame, FrameDecoder, FrameTooLargeError, MAX_REQUEST_BYTES } from '../../shared/wire.js';
import type { WireEvent, WireResponse } from '../../shared/wire.js';
import { broadcast } from './dispatcher.js';
import type { Dispatcher, Session } from './dispatcher.js';

/** Connections beyond this are refused by the kernel-level accept limit of net.Server. */
const MAX_CONNECTIONS = 1024;
/** How long stop() lets in-flight requests finish before cutting connections. */
const DEFAULT_DRAIN_MS = 2000;

/** Options of an IpcServer. */
export interface IpcServerOptions {
  /** Socket path inside a private runtime directory; the caller holds the workspace lock. */
  socketPath: string;
  /** Answers every frame. */
  dispatcher: Dispatcher;
  /** Connection-level events are logged at debug, failures at warn. */
  logger: Logger;
}

/** One client connection: a Session for the dispatcher plus the socket bookkeeping. */
class Connection implements Session {
  helloDone = false;
  subscriptions: Set<string> | null = null;
  /** Requests dispatched and not yet answered. */
  inflight = 0;
  /** The peer half-closed: finish what is in flight, then close. */
  readEnded = false;
  /** No more reads or writes (closed, or being closed after an oversized frame). */
  closed = false;
  decoder: FrameDecoder | null = new FrameDecoder(MAX_REQUEST_BYTES);

  constructor(
    readonly id: number,
    readonly socket: Socket,
  ) {}

  send(message: WireEvent): void {
    this.write(encodeFrame(message));
  }

  /** Writes unless the socket is gone; a dead peer is not the daemon's problem. */
  write(frame: Buffer): void {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return;
    try {
      this.socket.write(frame);
    } catch {
      // EPIPE and friends arrive as 'error' events, handled by node-ipc's listener.
    }
  }
}

/** Serves a Dispatcher on a Unix socket. */
export class IpcServer {
  private readonly opts: IpcServerOptions;
  private ipc: IPCModule | null = null;
  private readonly conns = new Map<Socket, Connection>();
  private nextId = 0;
  private socketIno: number | null = null;
  private stopping = false;
  private onIdle: (() => void) | null = null;

  constructor(opts: IpcServerOptions) {
    this.opts = opts;
  }

  /** Listens on the socket (unlinking any stale one: take the workspace lock first). */
  async start(): Promise<void> {
    const path = this.opts.socketPath;
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
      throw new ShadowError('RUNTIME_DIR_UNSAFE', `Socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`, { socket: path });
    }
    ensurePrivateDir(dirname(path));
    const ipc = new IPCModule();
    ipc.config.silent = true;
    ipc.config.rawBuffer = true;
    // latin1 maps bytes to chars one to one, so node-ipc's setEncoding + Buffer.from round-trip
    // the exact bytes (utf8 would mangle invalid sequences before our size accounting).
    ipc.config.encoding = 'latin1';
    ipc.config.unlink = true;
    ipc.config.maxConnections = MAX_CONNECTIONS;
    this.ipc = ipc;
    await new Promise<void>((resolve, reject) => {
      // The directory already keeps others out; the umask also closes the window between
      // bind() and chmod() in case the directory is ever looser than it should be.
      const restoreUmask = setUmask(0o077);
      let started = false;
      ipc.serve(path, () => {
        started = true;
        restoreUmask();
        resolve();
      });
      const server = ipc.server as IpcSocketServer;
      server.on('error', (err: Error) => {
        if (!started) {
          restoreUmask();
          reject(new ShadowError('INTERNAL', `Cannot listen on ${path}: ${err.message}`, { socket: path, errno: (err as NodeJS.ErrnoException).code }));
        } else {
          this.opts.logger.debug({ err }, 'ipc socket error');
        }
      });
      server.on('connect', (socket: Socket) => this.onConnect(socket));
      server.on('data', (data: Buffer, socket: Socket) => this.onData(data, socket));
      server.start();
    });
    chmodSync(path, 0o600);
    this.socketIno = statSync(path).ino;
    this.opts.logger.debug({ socket: path }, 'ipc server listening');
  }

  /** Pushes an event to every connection subscribed to it. */
  broadcast(event: WireEvent): void {
    broadcast(this.conns.values(), event);
  }

  /** Stops accepting, lets in-flight requests finish briefly, closes connections, removes the socket. */
  async stop(drainMs = DEFAULT_DRAIN_MS): Promise<void> {
    const ipc = this.ipc;
    if (!ipc || this.stopping) return;
    this.stopping = true;
    const netServer = ipc.server ? ipc.server.server : false;
    const closed = netServer ? new Promise<void>((r) => netServer.close(() => r())) : Promise.resolve();
    if (this.inflight() > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        this.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onIdle = null;
    }
    for (const conn of this.conns.values()) {
      conn.closed = true;
      conn.socket.destroy();
    }
    this.conns.clear();
    await closed;
    // libuv unlinks on close; remove it ourselves only if it is still the socket we created.
    try {
      if (this.socketIno !== null && statSync(this.opts.socketPath).ino === this.socketIno) unlinkSync(this.opts.socketPath);
    } catch {
      // Already gone.
    }
    this.ipc = null;
  }

  private inflight(): number {
    let n = 0;
    for (const c of this.conns.values()) n += c.inflight;
    return n;
  }

  private onConnect(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const conn = new Connection(++this.nextId, socket);
    this.conns.set(socket, conn);
    // A client may send its requests and half-close; answer them before closing our side.
    socket.allowHalfOpen = true;
    socket.on('end', () => {
      conn.readEnded = true;
      this.maybeFinish(conn);
    });
    socket.on('close', () => {
      conn.closed = true;
      conn.decoder = null;
      this.conns.delete(socket);
      this.checkIdle();
    });
    this.opts.logger.debug({ session: conn.id }, 'ipc connection');
  }

  private onData(data: Buffer, socket: Socket): void {
    const conn = this.conns.get(socket);
    if (!conn || conn.closed || !conn.decoder) return;
    let frames: string[];
    try {
      frames = conn.decoder.push(data);
    } catch (err) {
      // FrameDecoder throws nothing else, but nothing from a client may escape into node-ipc.
      this.reject(conn, err instanceof FrameTooLargeError ? err : new FrameTooLargeError(data.length, MAX_REQUEST_BYTES));
      return;
    }
    for (const frame of frames) this.serve(conn, frame);
  }

  /** An oversized frame cannot be resynchronised: answer once, then close the connection. */
  private reject(conn: Connection, err: FrameTooLargeError): void {
    const error = new ShadowError('MESSAGE_TOO_LARGE', `Message exceeds ${MAX_REQUEST_BYTES} bytes; closing the connection`, {
      limit: MAX_REQUEST_BYTES,
      received: err.size,
    });
    this.opts.logger.warn({ session: conn.id, received: err.size }, 'oversized frame, closing connection');
    conn.write(encodeFrame({ id: null, error: error.toWire() }));
    conn.closed = true;
    conn.decoder = null;
    const socket = conn.socket;
    socket.end(() => socket.destroy());
    // A peer that never reads would keep the end() pending forever.
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  private serve(conn: Connection, frame: string): void {
    conn.inflight++;
    void this.opts.dispatcher.dispatch(frame, conn).then((response) => {
      conn.inflight--;
      conn.write(encodeResponse(response));
      this.maybeFinish(conn);
      this.checkIdle();
    });
  }

  private maybeFinish(conn: Connection): void {
    if (conn.readEnded && conn.inflight === 0 && !conn.socket.destroyed) conn.socket.end();
  }

  private checkIdle(): void {
    if (this.onIdle && this.inflight() === 0) this.onIdle();
  }
}

/** Encodes a response; a result JSON cannot express (BigInt, cycles) becomes an INTERNAL error. */
function encodeResponse(response: WireResponse): Buffer {
  try {
    return encodeFrame(response);
  } catch (err) {
    const error = new ShadowError('INTERNAL', `Result could not be encoded as JSON: ${(err as Error).message}`, {});
    return encodeFrame({ id: response.id, error: error.toWire() });
  }
}

/** Creates the runtime directory 0700 if missing and refuses one another user could reach. */
function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new ShadowError('RUNTIME_DIR_UNSAFE', `Runtime directory ${dir} is not a directory owned by uid ${uid}`, { dir, uid: st.uid, mode: st.mode & 0o7777 });
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Sets the umask, returning a function that restores it (no-op where umask is unsupported). */
function setUmask(mask: number): () => void {
  try {
    const old = process.umask(mask);
    return () => process.umask(old);
  } catch {
    return () => {};
  }
}
