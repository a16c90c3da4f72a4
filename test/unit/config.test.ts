import { describe, it, expect } from 'vitest';
import { DEFAULT_CONFIG, parseConfig, parseDuration, parseSize } from '../../shared/config.js';
import type { ShadowError } from '../../shared/errors.js';

const FILE = 'shadow.config.json';

/** Parses `json` expecting CONFIG_INVALID; returns the error. */
function invalid(json: unknown): ShadowError {
  try {
    parseConfig(json, FILE);
  } catch (err) {
    expect((err as ShadowError).code).toBe('CONFIG_INVALID');
    return err as ShadowError;
  }
  throw new Error(`expected ${JSON.stringify(json)} to be rejected`);
}

describe('parseDuration (S9)', () => {
  it('takes a number as seconds and strings with ms/s/m/h', () => {
    expect(parseDuration(2)).toBe(2000);
    expect(parseDuration(0.5)).toBe(500);
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h')).toBe(3_600_000);
  });

  it('rejects everything else', () => {
    for (const bad of ['soon', '2', '', '-1s', '2 days', '1d', -1, Number.NaN, Number.POSITIVE_INFINITY, null, true, {}, [2]]) {
      expect(parseDuration(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe('parseSize (S9)', () => {
  it('takes a number as bytes and 1024-based B/KB/MB/GB strings', () => {
    expect(parseSize(1234)).toBe(1234);
    expect(parseSize('100B')).toBe(100);
    expect(parseSize('512KB')).toBe(512 * 1024);
    expect(parseSize('10MB')).toBe(10 * 1024 * 1024);
    expect(parseSize('10mb')).toBe(10 * 1024 * 1024);
    expect(parseSize('1GB')).toBe(1024 ** 3);
    expect(parseSize('1.5KB')).toBe(1536);
  });

  it('rejects everything else', () => {
    for (const bad of ['big', '10', '10XB', '10 M', '-1MB', -5, Number.NaN, null, false, {}]) {
      expect(parseSize(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe('parseConfig (S9)', () => {
  it('gives the defaults for an empty file', () => {
    const c = parseConfig({}, FILE);
    expect(c).toEqual(DEFAULT_CONFIG);
    expect(c).toEqual({
      safePointTimeout: 30_000,
      gracefulShutdownTimeout: 5_000,
      keepPartialWork: true,
      autoCleanTemp: true,
      errorThreshold: 3,
      maxLogSize: 10 * 1024 * 1024,
      maxLogFiles: 5,
      policies: {
        user_cancel: 'remove_all',
        error: 'rollback',
        quality_failure: 'keep_for_review',
        timeout: 'keep_checkpoint',
        dependency_missing: 'remove_all',
        shutdown: 'keep_checkpoint',
      },
      autoSnapshot: { enabled: true, quietPeriod: 2_000 },
      retention: { keepRuns: 20, keepDays: 30, maxAutoSnapshots: 200 },
      ignore: [],
      maxFileSize: 100 * 1024 * 1024,
      logLevel: 'info',
    });
  });

  it('returns a fresh object the caller may change without touching the defaults', () => {
    const c = parseConfig({}, FILE);
    c.ignore.push('x');
    c.policies.error = 'remove_all';
    expect(DEFAULT_CONFIG.ignore).toEqual([]);
    expect(DEFAULT_CONFIG.policies.error).toBe('rollback');
  });

  it('parses every key, converting durations to ms and sizes to bytes', () => {
    const c = parseConfig(
      {
        safePointTimeout: '1m',
        gracefulShutdownTimeout: 2,
        keepPartialWork: false,
        autoCleanTemp: false,
        errorThreshold: 1,
        maxLogSize: '512KB',
        maxLogFiles: 2,
        policies: { error: 'keep_for_review', timeout: 'remove_all' },
        autoSnapshot: { quietPeriod: '500ms' },
        retention: { keepDays: 7 },
        ignore: ['*.tmp', 'build/'],
        maxFileSize: '1GB',
        logLevel: 'debug',
      },
      FILE,
    );
    expect(c.safePointTimeout).toBe(60_000);
    expect(c.gracefulShutdownTimeout).toBe(2_000);
    expect(c.keepPartialWork).toBe(false);
    expect(c.autoCleanTemp).toBe(false);
    expect(c.errorThreshold).toBe(1);
    expect(c.maxLogSize).toBe(512 * 1024);
    expect(c.maxLogFiles).toBe(2);
    // S5.2: the file's entries override, the other reasons keep their defaults.
    expect(c.policies).toEqual({ ...DEFAULT_CONFIG.policies, error: 'keep_for_review', timeout: 'remove_all' });
    expect(c.autoSnapshot).toEqual({ enabled: true, quietPeriod: 500 });
    expect(c.retention).toEqual({ keepRuns: 20, keepDays: 7, maxAutoSnapshots: 200 });
    expect(c.ignore).toEqual(['*.tmp', 'build/']);
    expect(c.maxFileSize).toBe(1024 ** 3);
    expect(c.logLevel).toBe('debug');
  });

  it('names the file, the key, what was expected and what was found', () => {
    const err = invalid({ autoSnapshot: { quietPeriod: 'soon' } });
    expect(err.message).toBe('shadow.config.json: autoSnapshot.quietPeriod: expected a duration such as 2, "500ms", "2s" or "10m", got "soon"');
    expect(err.details).toMatchObject({ file: FILE, key: 'autoSnapshot.quietPeriod' });
    expect(Array.isArray(err.details.issues)).toBe(true);
  });

  const badValues: [string, unknown][] = [
    ['safePointTimeout', 'later'],
    ['gracefulShutdownTimeout', -1],
    ['keepPartialWork', 'yes'],
    ['autoCleanTemp', 1],
    ['errorThreshold', 0],
    ['errorThreshold', 1.5],
    ['maxLogSize', '10XB'],
    ['maxLogFiles', 0],
    ['policies', 'rollback'],
    ['policies.error', 'explode'],
    ['autoSnapshot', true],
    ['autoSnapshot.enabled', 'on'],
    ['autoSnapshot.quietPeriod', 'soon'],
    ['retention', []],
    ['retention.keepRuns', 0],
    ['retention.keepDays', -3],
    ['retention.maxAutoSnapshots', 'many'],
    ['ignore', '*.log'],
    ['ignore.1', 42],
    ['maxFileSize', 'huge'],
    ['logLevel', 'loud'],
  ];
  for (const [key, value] of badValues) {
    it(`rejects ${key} = ${JSON.stringify(value)} naming the key`, () => {
      const parts = key.split('.');
      let json: unknown = value;
      for (const part of [...parts].reverse()) {
        json = /^\d+$/.test(part) ? Object.assign(['ok', 'ok'], { [Number(part)]: json }) : { [part]: json };
      }
      const err = invalid(json);
      expect(err.details.key).toBe(key);
      expect(err.message).toContain(`${FILE}: ${key}: expected `);
      expect(err.message).toContain(`got ${JSON.stringify(value)}`);
    });
  }

  it('rejects unknown keys at the top and in nested objects (strict)', () => {
    expect(invalid({ safePointTimout: 3 }).details.key).toBe('safePointTimout');
    expect(invalid({ autoSnapshot: { quiet: '1s' } }).details.key).toBe('autoSnapshot.quiet');
    expect(invalid({ policies: { bored: 'rollback' } }).details.key).toBe('policies.bored');
    expect(invalid({ retention: { keepWeeks: 1 } }).message).toContain('keepRuns');
  });

  it('rejects a file that is not an object', () => {
    for (const json of [null, [], 'x', 3]) expect(invalid(json).details.key).toBe('');
  });

  it('keeps every issue in details when several keys are bad', () => {
    const err = invalid({ keepPartialWork: 'yes', maxLogSize: 'big' });
    const keys = (err.details.issues as { key: string }[]).map((i) => i.key).sort();
    expect(keys).toEqual(['keepPartialWork', 'maxLogSize']);
  });
});
