/**
 * The cancellation log (S5.8): one JSON line per cancel in `<stateDir>/logs/cancellations.jsonl`,
 * size-rotated by rotating-file-stream (`maxLogSize`, `maxLogFiles` kept as `.1` … `.N`), read
 * back newest first across the live file and the rotated ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RotatingFileStream } from 'rotating-file-stream';
import { createStream } from 'rotating-file-stream';
import type { ResultOf } from '../../shared/defineMethod.js';
import type { CancellationLog as CancellationLogMethod } from '../../shared/methods/index.js';

/** Name of the live cancellation log file. */
export const CANCELLATION_LOG_FILE = 'cancellations.jsonl';

/** One line of the log. */
export type CancellationEntry = ResultOf<typeof CancellationLogMethod>['entries'][number];

/** Appends to and reads the cancellation log of one state folder. */
export class CancellationLog {
  private stream: RotatingFileStream | null = null;
  private closing: Promise<void> | null = null;
  /** The last append, so a read sees every line appended before it. */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly logDir: string,
    private readonly maxSize: number,
    private readonly maxFiles: number,
    private readonly onError: (err: Error) => void,
  ) {}

  /**
   * Appends one entry; resolves once it is written to the file. A cancel need not wait for it
   * (the write queues behind the thread pool), since `read` waits for every earlier append.
   */
  append(entry: CancellationEntry): Promise<void> {
    if (this.closing) {
      // rfs throws on a write after end() (rfs#25): report the lost line instead of failing a cancel.
      this.onError(new Error(`cancellation log closed; entry of run ${entry.run} not written`));
      return Promise.resolve();
    }
    const stream = this.open();
    this.lastWrite = new Promise((resolve) => {
      stream.write(`${JSON.stringify(entry)}\n`, (err) => {
        if (err) this.onError(err);
        resolve();
      });
    });
    return this.lastWrite;
  }

  /** Entries newest first, optionally of one run, at most `n`. */
  async read(n: number, run?: string): Promise<CancellationEntry[]> {
    await this.lastWrite;
    const out: CancellationEntry[] = [];
    for (let i = 0; i <= this.maxFiles && out.length < n; i++) {
      const name = i === 0 ? CANCELLATION_LOG_FILE : `${CANCELLATION_LOG_FILE}.${i}`;
      let text: string;
      try {
        text = readFileSync(join(this.logDir, name), 'utf8');
      } catch {
        continue; // not rotated that far yet
      }
      const lines = text.split('\n');
      for (let j = lines.length - 1; j >= 0 && out.length < n; j--) {
        const line = lines[j];
        if (!line) continue;
        try {
          const entry = JSON.parse(line) as CancellationEntry;
          if (!run || entry.run === run) out.push(entry);
        } catch {
          // A torn last line after a crash: skip it, keep the rest.
        }
      }
    }
    return out;
  }

  /** Starts a new file at the next append (the log folder was deleted and made again): the open stream writes into an unlinked file. */
  reopen(): void {
    const old = this.stream;
    if (!old || this.closing) return;
    this.stream = null;
    old.end();
  }

  /** Ends the stream; resolves once every line is on disk. */
  close(): Promise<void> {
    const stream = this.stream;
    if (!stream) return Promise.resolve();
    this.closing ??= new Promise<void>((resolve) => {
      if (stream.writableFinished || stream.destroyed) return resolve();
      stream.once('close', () => resolve());
      stream.end();
    });
    return this.closing;
  }

  private open(): RotatingFileStream {
    if (this.stream) return this.stream;
    const stream = createStream(CANCELLATION_LOG_FILE, {
      path: this.logDir,
      size: `${Math.max(1, Math.floor(this.maxSize))}B`,
      rotate: Math.max(1, Math.floor(this.maxFiles)),
      mode: 0o600,
    });
    // rfs#99: errors and warnings must be listened to or they are lost (or crash the process).
    stream.on('error', (err: Error) => this.onError(err));
    stream.on('warning', (err: Error) => this.onError(err));
    this.stream = stream;
    return stream;
  }
}
