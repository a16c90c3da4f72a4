/**
 * The daemon's log (S2.3): pino into a size-rotated `daemon.log` (rotating-file-stream), plus
 * readable lines on stderr with `--pretty`.
 */
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pino } from 'pino';
import type PinoPretty from 'pino-pretty';
import { createStream } from 'rotating-file-stream';

/** Options of createDaemonLogger. */
export interface DaemonLoggerOptions {
  /** Directory of `daemon.log` and its rotated files (must exist). */
  logDir: string;
  /** Also write human-readable lines to stderr (colours unless NO_COLOR or not a TTY). */
  pretty: boolean;
  /** pino level name. */
  level: string;
  /** Rotate `daemon.log` once it reaches this many bytes. */
  maxSize: number;
  /** Rotated files kept beside the live one (`daemon.log.1` … `daemon.log.N`). */
  maxFiles: number;
}

/** A daemon logger and the way to shut it down without losing lines. */
export interface DaemonLogger {
  /** The pino logger. */
  logger: pino.Logger;
  /** Ends the file stream; resolves once every line logged before is on disk. Idempotent. */
  close(): Promise<void>;
  /** Starts a new `daemon.log` (its folder was deleted and made again: the open file is unlinked). */
  reopen(): void;
}

/** Name of the live log file in the log directory. */
export const DAEMON_LOG_FILE = 'daemon.log';

/** Creates the daemon's logger writing to `<logDir>/daemon.log`. */
export function createDaemonLogger(opts: DaemonLoggerOptions): DaemonLogger {
  const open = (): ReturnType<typeof createStream> => {
    const stream = createStream(DAEMON_LOG_FILE, {
      path: opts.logDir,
      // rfs wants a positive integer with a unit; B keeps our byte count exact.
      size: `${Math.max(1, Math.floor(opts.maxSize))}B`,
      rotate: Math.max(1, Math.floor(opts.maxFiles)),
      mode: 0o600,
    });
    // A log failure must never take the daemon down, and must not vanish either (rfs#99):
    // stderr is all that is left when the log file itself fails.
    stream.on('error', (err) => stderrLine(`shadowd: log file error: ${err.message}`));
    stream.on('warning', (err) => stderrLine(`shadowd: log file warning: ${err.message}`));
    return stream;
  };
  let file = open();
  // pino writes here; the file behind it can be swapped by reopen().
  const sink = { write: (chunk: string): boolean => file.write(chunk) };

  let logger: pino.Logger;
  if (opts.pretty) {
    // Loaded only for --pretty: its ~30 modules are a cost on every (background) start otherwise.
    const pinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    const pretty = pinoPretty({
      destination: 2,
      sync: true,
      colorize: !process.env.NO_COLOR && process.stderr.isTTY === true,
    });
    logger = pino(
      { level: opts.level },
      pino.multistream([
        { level: 'trace', stream: sink },
        { level: 'trace', stream: pretty },
      ]),
    );
  } else {
    logger = pino({ level: opts.level }, sink);
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // rfs throws on writes after end() (rfs#25): silence the logger before ending.
    closing ??= new Promise<void>((resolve) => {
      logger.level = 'silent';
      if (file.writableFinished || file.destroyed) return resolve();
      // 'finish' alone comes before rfs closes its fd; 'close' means the data is written out.
      file.once('close', () => resolve());
      file.end();
    });
    return closing;
  };
  const reopen = (): void => {
    if (closing) return;
    const old = file;
    file = open();
    old.end();
  };
  return { logger, close, reopen };
}

function stderrLine(text: string): void {
  try {
    writeSync(2, `${text}\n`);
  } catch {
    // stderr gone too: nothing left to tell.
  }
}
