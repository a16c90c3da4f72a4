/**
 * Durations on the command line (`--timeout 10m`), zod-free so the CLI starts fast: a bare number
 * is seconds, as in shadow.config.json; a string is a number with a unit ms, s, m or h.
 */
import { ShadowError } from '../../shared/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The longest run time limit the daemon accepts (RunStart's timeoutMs bound): 31 days. */
export const MAX_DURATION_MS = 31 * 24 * 3600 * 1000;

/** Milliseconds for "90", "1.5", "500ms", "10s", "10m", "1h"; null when not a duration. */
export function parseDuration(raw: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
}

/** A positive duration option in ms (at most 31 days); anything else is a usage error naming it. */
export function durationOption(raw: string | undefined, option: string, command: string): number | undefined {
  if (raw === undefined) return undefined;
  const ms = parseDuration(raw);
  if (ms === null || ms <= 0 || ms > MAX_DURATION_MS) {
    throw new ShadowError('USAGE', `${command}: --${option} expects a positive duration such as 90, "500ms", "10s", "10m" or "1h" (at most 31 days), got '${raw}'`, {
      command,
      option,
      value: raw,
    });
  }
  return ms;
}
