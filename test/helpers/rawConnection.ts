/**
 * A raw newline-JSON connection to a daemon's socket for tests that must send bytes the typed
 * client refuses to (bad JSON, NUL, invalid UTF-8, oversized frames); answers are matched by id.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { waitFor } from './waitFor.js';

/** A newline-JSON connection that sends any bytes and matches answers by id. */
export class RawConnection {
  private buffer = '';
  private readonly waiting = new Map<unknown, (response: Record<string, unknown>) => void>();
  private readonly unmatched: Record<string, unknown>[] = [];
  /** The socket closed (or failed). */
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const message = JSON.parse(this.buffer.slice(0, nl)) as Record<string, unknown>;
        this.buffer = this.buffer.slice(nl + 1);
        const done = this.waiting.get(message.id);
        if (done) {
          this.waiting.delete(message.id);
          done(message);
        } else this.unmatched.push(message);
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  /** Connects to the socket at `sock`. */
  static open(sock: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(sock, () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  /** Sends a frame (raw text, newline added) and waits for the answer carrying `id`. */
  request(id: number | string | null, frame: string | Buffer): Promise<Record<string, unknown>> {
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${String(frame).slice(0, 300)}`)), 30_000);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    this.socket.write(Buffer.concat([Buffer.isBuffer(frame) ? frame : Buffer.from(frame), Buffer.from('\n')]));
    return answer;
  }

  /** Answers that came with an id nobody waits for (e.g. null after a frame that had none). */
  nextUnmatched(): Promise<Record<string, unknown>> {
    return waitFor(() => this.unmatched.shift() ?? null, 'an answer without a readable id', 30_000).then((r) => r as Record<string, unknown>);
  }

  /** Destroys the socket. */
  close(): void {
    this.socket.destroy();
  }
}

