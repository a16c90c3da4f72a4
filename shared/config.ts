/**
 * The schema of `shadow.config.json` (S9) and its pure parsers. Only the daemon imports this
 * file: it loads zod at import time, which the CLI keeps out of its start-up.
 */
import { z } from 'zod';
import { ShadowError } from './errors.js';

import type { CancelAction, CancelReason } from './runModel.js';
import { CANCEL_ACTIONS, CANCEL_REASONS } from './runModel.js';

export { CANCEL_ACTIONS, CANCEL_REASONS };
export type { CancelAction, CancelReason };

/** pino's level names. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The parsed configuration: durations in milliseconds, sizes in bytes. */
export interface ShadowConfig {
  /** How long a cancel waits for an unsafe section to end before forcing (S5.5), ms. */
  safePointTimeout: number;
  /** How long shutdown and child termination wait before forcing (S2.4, S4.5), ms. */
  gracefulShutdownTimeout: number;
  /** Keep partial work on cancel (S5.6). */
  keepPartialWork: boolean;
  /** Delete a run's temp paths on cancel (S5.6). */
  autoCleanTemp: boolean;
  /** Consecutive errors that cancel a run (S5.1). */
  errorThreshold: number;
  /** Size at which a log file rotates, bytes (S2.3, S5.8). */
  maxLogSize: number;
  /** Rotated log files kept beside the live one. */
  maxLogFiles: number;
  /** Action per cancellation reason (S5.2): the defaults merged with the file's entries. */
  policies: Record<CancelReason, CancelAction>;
  /** Auto snapshots after a quiet period (S2.2). */
  autoSnapshot: {
    /** Whether auto snapshots are taken at all. */
    enabled: boolean;
    /** Quiet time after the last change before an auto snapshot, ms. */
    quietPeriod: number;
  };
  /** Pruning policy (S1.7). */
  retention: {
    /** Runs kept. */
    keepRuns: number;
    /** Days a run is kept. */
    keepDays: number;
    /** Length bound of the auto snapshot chain. */
    maxAutoSnapshots: number;
  };
  /** Extra gitignore-style patterns never snapshotted (S1.1). */
  ignore: string[];
  /** Files larger than this are not captured, only preserved (S1.8), bytes. */
  maxFileSize: number;
  /** pino level of the daemon log. */
  logLevel: LogLevel;
}

/** Default action per reason (S5.2). */
export const DEFAULT_POLICIES: Readonly<Record<CancelReason, CancelAction>> = Object.freeze({
  user_cancel: 'remove_all',
  error: 'rollback',
  quality_failure: 'keep_for_review',
  timeout: 'keep_checkpoint',
  dependency_missing: 'remove_all',
  shutdown: 'keep_checkpoint',
});

/** The configuration used when `shadow.config.json` is absent or leaves a key out. */
export const DEFAULT_CONFIG: Readonly<ShadowConfig> = deepFreeze({
  safePointTimeout: 30_000,
  gracefulShutdownTimeout: 5_000,
  keepPartialWork: true,
  autoCleanTemp: true,
  errorThreshold: 3,
  maxLogSize: 10 * 1024 * 1024,
  maxLogFiles: 5,
  policies: { ...DEFAULT_POLICIES },
  autoSnapshot: { enabled: true, quietPeriod: 2_000 },
  retention: { keepRuns: 20, keepDays: 30, maxAutoSnapshots: 200 },
  ignore: [],
  maxFileSize: 100 * 1024 * 1024,
  logLevel: 'info',
});

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
/** 1024-based, as `ls -h` and rotating-file-stream count. */
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * A duration in milliseconds: a number is seconds; a string is a number with a unit
 * (`"500ms"`, `"2s"`, `"10m"`, `"1h"`). Null when the value is not a duration (or negative).
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
  if (!m) return null;
  return Math.round(Number(m[1]) * (DURATION_UNITS[m[2] as string] as number));
}

/**
 * A size in bytes: a number is bytes; a string is a number with a unit B, KB, MB or GB
 * (case-insensitive). Units are 1024-based: "1KB" = 1024 bytes, "10MB" = 10 × 1024².
 * Null when the value is not a size (or negative).
 */
export function parseSize(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)\s*$/i.exec(value);
  if (!m) return null;
  return Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] as string).toLowerCase()] as number));
}

const DURATION_EXPECTED = 'a duration such as 2, "500ms", "2s" or "10m"';
const SIZE_EXPECTED = 'a size such as 1048576, "512KB", "10MB" or "1GB"';

const duration = () =>
  z.unknown().transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `expected ${DURATION_EXPECTED}`, input: v });
      return z.NEVER;
    }
    return ms;
  });

/** A size; `min` bytes guards values a consumer cannot work with (a zero rotation size). */
const size = (min: number) =>
  z.unknown().transform((v, ctx) => {
    const bytes = parseSize(v);
    if (bytes === null || bytes < min) {
      const more = min > 0 ? ` of at least ${min} bytes` : '';
      ctx.addIssue({ code: 'custom', message: `expected ${SIZE_EXPECTED}${more}`, input: v });
      return z.NEVER;
    }
    return bytes;
  });

const bool = () => z.boolean({ error: 'expected true or false' });
const intAtLeast = (min: number) => {
  const error = `expected a whole number ≥ ${min}`;
  return z.number({ error }).int({ error }).min(min, { error });
};
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
const object = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, { error: objectError });

/** Only a wrong type gets our wording: unknown keys are worded from the issue's `keys`. */
function objectError(issue: { code?: string }): string | undefined {
  return issue.code === 'invalid_type' ? 'expected an object' : undefined;
}

const policiesShape = Object.fromEntries(CANCEL_REASONS.map((r) => [r, oneOf(CANCEL_ACTIONS).optional()])) as {
  [K in CancelReason]: z.ZodOptional<ReturnType<typeof oneOf<typeof CANCEL_ACTIONS>>>;
};

/** The file's schema: every key optional; parseConfig merges the defaults in. */
const fileSchema = object({
  safePointTimeout: duration().optional(),
  gracefulShutdownTimeout: duration().optional(),
  keepPartialWork: bool().optional(),
  autoCleanTemp: bool().optional(),
  errorThreshold: intAtLeast(1).optional(),
  maxLogSize: size(1024).optional(),
  maxLogFiles: intAtLeast(1).optional(),
  policies: object(policiesShape).optional(),
  autoSnapshot: object({ enabled: bool().optional(), quietPeriod: duration().optional() }).optional(),
  retention: object({
    keepRuns: intAtLeast(1).optional(),
    keepDays: intAtLeast(0).optional(),
    maxAutoSnapshots: intAtLeast(1).optional(),
  }).optional(),
  ignore: z.array(z.string({ error: 'expected a gitignore pattern string' }), { error: 'expected an array of gitignore pattern strings' }).optional(),
  maxFileSize: size(1).optional(),
  logLevel: oneOf(LOG_LEVELS).optional(),
});

/**
 * Validates the content of a config file (already JSON-parsed) and merges the defaults in.
 * `source` names the file in error messages. Throws CONFIG_INVALID naming the key, what was
 * expected and what was found.
 */
export function parseConfig(json: unknown, source: string): ShadowConfig {
  const result = fileSchema.safeParse(json);
  if (!result.success) throw configError(json, source, result.error.issues);
  const f = result.data;
  const d = DEFAULT_CONFIG;
  return {
    safePointTimeout: f.safePointTimeout ?? d.safePointTimeout,
    gracefulShutdownTimeout: f.gracefulShutdownTimeout ?? d.gracefulShutdownTimeout,
    keepPartialWork: f.keepPartialWork ?? d.keepPartialWork,
    autoCleanTemp: f.autoCleanTemp ?? d.autoCleanTemp,
    errorThreshold: f.errorThreshold ?? d.errorThreshold,
    maxLogSize: f.maxLogSize ?? d.maxLogSize,
    maxLogFiles: f.maxLogFiles ?? d.maxLogFiles,
    policies: { ...d.policies, ...dropUndefined(f.policies ?? {}) },
    autoSnapshot: { ...d.autoSnapshot, ...dropUndefined(f.autoSnapshot ?? {}) },
    retention: { ...d.retention, ...dropUndefined(f.retention ?? {}) },
    ignore: [...(f.ignore ?? d.ignore)],
    maxFileSize: f.maxFileSize ?? d.maxFileSize,
    logLevel: f.logLevel ?? d.logLevel,
  };
}

/** One CONFIG_INVALID error for the first issue; every issue is kept in details. */
function configError(json: unknown, source: string, issues: readonly z.core.$ZodIssue[]): ShadowError {
  const described = issues.map((issue) => describeIssue(json, issue));
  const first = described[0] ?? { key: '', text: 'invalid configuration' };
  const where = first.key ? `${first.key}: ` : '';
  const more = described.length > 1 ? ` (and ${described.length - 1} more problem${described.length > 2 ? 's' : ''})` : '';
  return new ShadowError('CONFIG_INVALID', `${source}: ${where}${first.text}${more}`, {
    file: source,
    key: first.key,
    issues: described.map((d) => ({ key: d.key, message: d.text })),
  });
}

function describeIssue(json: unknown, issue: z.core.$ZodIssue): { key: string; text: string } {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = [...path, issue.keys[0] ?? ''].join('.');
    const others = issue.keys.length > 1 ? ` (also ${issue.keys.slice(1).map((k) => JSON.stringify(k)).join(', ')})` : '';
    const known = knownKeys(path);
    return { key, text: `unknown key${others}${known ? `; expected one of ${known}` : ''}` };
  }
  const key = path.join('.');
  if (path.length === 0 && issue.code === 'invalid_type') {
    return { key, text: `expected a JSON object, got ${show(json)}` };
  }
  return { key, text: `${issue.message}, got ${show(valueAt(json, issue.path))}` };
}

/** The keys the schema allows at `path`, for the unknown-key message. */
function knownKeys(path: readonly string[]): string | null {
  let schema: z.ZodType = fileSchema;
  for (const k of path) {
    const shape = (schema as z.ZodObject).shape as Record<string, z.ZodType> | undefined;
    const next = shape?.[k];
    if (!next) return null;
    schema = next instanceof z.ZodOptional ? (next.unwrap() as z.ZodType) : next;
  }
  const shape = (schema as z.ZodObject).shape as Record<string, unknown> | undefined;
  return shape ? Object.keys(shape).join(', ') : null;
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = json;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** A found value as the user wrote it, cut short so one huge value cannot flood the message. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function dropUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
