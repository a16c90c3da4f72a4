/**
 * Everything shadowctl prints goes through here, so that --json prints exactly one object on
 * stdout (results and errors alike) and human output honours NO_COLOR and TTYs.
 */
import type { ShadowError } from '../../shared/errors.js';
import type { CommandResult } from './command.js';

/** Minimal ANSI styling; every function is the identity when color is off. */
export interface Style {
  /** Emphasis (ids). */
  bold(s: string): string;
  /** De-emphasis (times, refs). */
  dim(s: string): string;
  /** Additions, success. */
  green(s: string): string;
  /** Warnings, modifications. */
  yellow(s: string): string;
  /** Errors, deletions. */
  red(s: string): string;
}

/** Whether to color a stream: only a TTY, and only when NO_COLOR is unset or empty (no-color.org). */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** Builds a Style, plain when `enabled` is false. */
export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), green: wrap(32, 39), yellow: wrap(33, 39), red: wrap(31, 39) };
}

/** A writable the Output prints to (process.stdout / stderr, or a buffer in tests). */
export interface Sink {
  /** Writes text. */
  write(text: string): unknown;
  /** True on a terminal. */
  isTTY?: boolean;
}

/** The first 7 hex digits of an object id, as git shows them. */
export function shortOid(oid: string): string {
  return oid.slice(0, 7);
}

/** Prints results, help and errors in human or JSON mode. */
export class Output {
  /** True under --json. */
  readonly json: boolean;
  /** Styling for stdout. */
  readonly style: Style;
  private readonly errStyle: Style;

  constructor(
    json: boolean,
    private readonly stdout: Sink,
    private readonly stderr: Sink,
    env: NodeJS.ProcessEnv,
  ) {
    this.json = json;
    this.style = makeStyle(!json && colorEnabled(stdout, env));
    this.errStyle = makeStyle(colorEnabled(stderr, env));
  }

  /** Prints a command's result. */
  result(result: CommandResult): void {
    if (this.json) return this.printJson(result.json);
    if (result.lines.length) this.stdout.write(result.lines.join('\n') + '\n');
    for (const w of result.warnings ?? []) this.stderr.write(`${this.errStyle.yellow('warning:')} ${w}\n`);
  }

  /** Prints help text (as `{ help }` under --json). */
  help(text: string): void {
    if (this.json) return this.printJson({ help: text });
    this.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  /** Prints an error: `{ error: {code, message, details} }` on stdout under --json, else a message on stderr. */
  error(err: ShadowError, usage?: string): void {
    if (this.json) {
      const details = usage && err.details.usage === undefined ? { ...err.details, usage } : err.details;
      return this.printJson({ error: { code: err.code, message: err.message, details } });
    }
    let text = `${this.errStyle.red('error:')} ${err.message}\n`;
    if (usage) text += `usage: ${usage}\n`;
    this.stderr.write(text);
  }

  private printJson(value: object): void {
    // Indented for a person at a terminal, one line for scripts; one object either way.
    this.stdout.write(JSON.stringify(value, null, this.stdout.isTTY ? 2 : undefined) + '\n');
  }
}
