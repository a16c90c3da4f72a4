/**
 * The wire protocol: newline-delimited JSON over a Unix socket (see docs/PROTOCOL.md).
 * JSON.stringify never emits a raw newline, so a newline always ends a message. Pure code, no I/O.
 */
import type { WireError } from './errors.js';

/** Protocol version spoken by this build; the hello handshake must match it. */
export const PROTOCOL_VERSION = 1;

/** Largest frame the daemon accepts from a client, in bytes (newline excluded). */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** Largest frame a client accepts from the daemon, in bytes. */
export const MAX_RESPONSE_BYTES = 512 * 1024 * 1024;

/** A request id: a JSON number or string chosen by the client. */
export type RequestId = number | string;

/** Client → daemon. */
export interface WireRequest {
  /** Correlates the response. */
  id: RequestId;
  /** A declared method name. */
  method: string;
  /** Method params; omitted means `{}`. */
  params?: unknown;
}

/** Daemon → client, exactly one per request. `id` is null when the request's id could not be read. */
export type WireResponse =
  | { id: RequestId | null; result: unknown }
  | { id: RequestId | null; error: WireError };

/** Daemon → client, unsolicited, only after `subscribe`. */
export interface WireEvent {
  /** Event name, e.g. "checkpoint". */
  event: string;
  /** Event payload. */
  data: unknown;
}

/** Encodes one message as a frame. */
export function encodeFrame(message: WireRequest | WireResponse | WireEvent): Buffer {
  return Buffer.from(JSON.stringify(message) + '\n', 'utf8');
}

/** Thrown by FrameDecoder when a frame exceeds its limit; the stream cannot be resynchronised. */
export class FrameTooLargeError extends Error {
  /** Bytes buffered when the limit was crossed. */
  readonly size: number;
  constructor(size: number, limit: number) {
    super(`frame exceeds ${limit} bytes (at least ${size} buffered)`);
    this.size = size;
  }
}

/** Splits a byte stream into frames (utf8 strings without the newline), with a size cap. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Feeds bytes; returns every complete frame. Throws FrameTooLargeError past the limit. */
  push(chunk: Buffer): string[] {
    const frames: string[] = [];
    let start = 0;
    let nl = chunk.indexOf(10, start);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl);
      if (this.buffered + piece.length > this.limit) throw new FrameTooLargeError(this.buffered + piece.length, this.limit);
      this.chunks.push(piece);
      frames.push(Buffer.concat(this.chunks).toString('utf8'));
      this.chunks = [];
      this.buffered = 0;
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.buffered += rest.length;
      if (this.buffered > this.limit) throw new FrameTooLargeError(this.buffered, this.limit);
      this.chunks.push(rest);
    }
    return frames.filter((f) => f.trim().length > 0);
  }
}
