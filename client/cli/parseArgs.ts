/**
 * Command-line parsing on node:util parseArgs in strict mode. Each command declares its options
 * once (a CommandSpec); the same declaration drives parsing, the usage line and --help.
 */
import { parseArgs } from 'node:util';
import { ShadowError } from '../../shared/errors.js';

/** One option of a command. */
export interface OptionSpec {
  /** Long name, used as `--name` and as the key in ParsedArgs.values. */
  long: string;
  /** One-letter short form, used as `-x`. */
  short?: string;
  /** Boolean flag or option taking a value. */
  type: 'boolean' | 'string';
  /** Placeholder of the value in help, e.g. "MSG" (string options only). */
  value?: string;
  /** The option may repeat; its value is then a list (string options only). */
  multiple?: boolean;
  /** One-line description for --help. */
  description: string;
}

/** What a command accepts and how it documents itself. */
export interface CommandSpec {
  /** Command words, e.g. "checkpoint" or "daemon". */
  name: string;
  /** The usage line after "shadowctl ", e.g. "checkpoint [-m MSG]". */
  usage: string;
  /** One-line summary. */
  summary: string;
  /** Longer description, a few lines. */
  description?: string;
  /** The command's own options; the global ones are added by parseCommandArgs. */
  options: OptionSpec[];
  /** Fewest positional arguments accepted. */
  minPositionals: number;
  /** Most positional arguments accepted (Infinity for lists). */
  maxPositionals: number;
  /** Example invocations, each with a comment. */
  examples?: string[];
}

/** The result of parsing one command's arguments. */
export interface ParsedArgs {
  /** Option values by long name. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Positional arguments, in order. */
  positionals: string[];
}

/** Options every command takes (S7): workspace, JSON output, help. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { long: 'workspace', short: 'C', type: 'string', value: 'DIR', description: 'workspace directory (default: found from the current directory)' },
  { long: 'json', type: 'boolean', description: 'print exactly one JSON object on stdout' },
  { long: 'help', short: 'h', type: 'boolean', description: 'show this help' },
];

/** Parses `argv` (the words after the command name) against `spec`; throws USAGE on any misuse. */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = {};
  for (const o of [...spec.options, ...GLOBAL_OPTIONS]) {
    options[o.long] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    // node's messages are already precise ("Unknown option '--x'"); keep them, drop its hints.
    const message = err instanceof Error ? err.message.split('. To specify')[0]! : String(err);
    throw new ShadowError('USAGE', message, { command: spec.name, argv });
  }
  const values = parsed.values as ParsedArgs['values'];
  if (values.help) return { values, positionals: parsed.positionals };
  const n = parsed.positionals.length;
  if (n < spec.minPositionals) {
    throw new ShadowError('USAGE', `${spec.name}: missing argument`, { command: spec.name, argv });
  }
  if (n > spec.maxPositionals) {
    throw new ShadowError('USAGE', `${spec.name}: unexpected argument '${parsed.positionals[spec.maxPositionals]}'`, { command: spec.name, argv });
  }
  return { values, positionals: parsed.positionals };
}

/** Reads a string option, or undefined. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Reads a repeatable string option (declared `multiple`): every value in order, [] when absent. */
export function stringListOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** Reads a positive integer option; a non-integer is a usage error naming the option. */
export function positiveIntOption(args: ParsedArgs, name: string, command: string): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) {
    throw new ShadowError('USAGE', `${command}: --${name} expects a positive integer, got '${raw}'`, { command, option: name, value: raw });
  }
  return Number(raw);
}
