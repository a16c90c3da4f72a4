/**
 * The parts of node-ipc 12.0.0 that Shadow uses (server side, rawBuffer mode). @types/node-ipc
 * describes v9, so this small local declaration replaces it.
 */
declare module 'node-ipc' {
  import type { Server as NetServer, Socket } from 'node:net';

  /** Per-instance configuration (node-ipc's entities/Defaults.js). */
  export interface IpcConfig {
    /** Silences node-ipc's own console logging. */
    silent: boolean;
    /** Hand raw bytes to 'data' listeners instead of parsing node-ipc's own message format. */
    rawBuffer: boolean;
    /** Passed to socket.setEncoding and Buffer.from for received data. */
    encoding: BufferEncoding;
    /** Unlink an existing socket file before listening. */
    unlink: boolean;
    /** net.Server#maxConnections. */
    maxConnections: number;
    /** Socket file mode flags passed to listen(). */
    readableAll: boolean;
    /** Socket file mode flags passed to listen(). */
    writableAll: boolean;
  }

  /** node-ipc's socket server (dao/socketServer.js), an event-pubsub emitter. */
  export interface IpcSocketServer {
    /** The underlying net.Server once started, false before. */
    server: NetServer | false;
    /** Connected sockets as node-ipc tracks them. */
    sockets: Socket[];
    /** Unlinks (if configured) and listens; asynchronous, 'start' is published when listening. */
    start(): void;
    /** Closes the listening server (not its connections). */
    stop(): void;
    /** A new connection. */
    on(event: 'connect', handler: (socket: Socket) => void): this;
    /** Bytes from a connection (rawBuffer mode). */
    on(event: 'data', handler: (data: Buffer, socket: Socket) => void): this;
    /** A server or socket error. */
    on(event: 'error', handler: (err: Error) => void): this;
    /** Any other event. */
    on(event: string, handler: (...args: unknown[]) => void): this;
    /** Removes handlers ('*' for all). */
    off(event?: string, handler?: '*' | ((...args: unknown[]) => void)): this;
  }

  /** One independent node-ipc instance. */
  export class IPCModule {
    /** This instance's configuration. */
    config: IpcConfig;
    /** The server created by serve(), false before. */
    server: IpcSocketServer | false;
    /** Creates the server for a Unix socket path; `callback` runs on 'start'. */
    serve(path: string, callback?: () => void): void;
  }

  /** The shared default instance. */
  const singleton: IPCModule;
  export default singleton;
}
