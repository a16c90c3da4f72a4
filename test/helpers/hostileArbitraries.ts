/**
 * fast-check arbitraries of hostile IPC params (issue #5): path traversal, absolute paths, NUL
 * bytes, huge arrays, deep nesting, prototype keys, odd numbers, long strings. Params are built
 * from each method's own zod shape, so a new method or key is fuzzed without touching this file.
 */
import fc from 'fast-check';
import { z } from 'zod';
import type { MethodDef } from '../../shared/defineMethod.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';

/** Fixed hostile strings: traversal, absolute, NUL, .git, ref tricks, trailer injection. */
export function hostileStrings(outsideAbs: string[] = []): string[] {
  const traversal = Array.from({ length: 8 }, (_, k) => `${'../'.repeat(k + 1)}outside/secret.txt`);
  return [
    ...traversal,
    ...traversal.map((p) => `refs/shadow/${p}`),
    ...traversal.map((p) => `refs/${p}`),
    ...outsideAbs,
    '../', '..', '.', '', './', '/', '//', '/etc/passwd', '/tmp', '~', '~/x', 'a/../../b', 'a/./b', 'a//b',
    'escape', 'escape/', 'escape/secret.txt', 'escape/new-file', 'escape/../escape/secret.txt',
    '.git', '.git/config', '.GIT/HEAD', '.shadow', '.shadow/git/HEAD', '.shadow/runs', 'refs/heads/main', 'HEAD',
    'a\0b', '\0', 'secret.txt\0.json', '..\\..\\x', 'C:\\Windows', 'file:///etc/passwd', '\n', ' ', '\u202e', 'é/ü',
    'auto', 'manual', 'undo', 'auto~1', 'auto~999999', 'refs/shadow/auto', 'refs/shadow/manual~0', 'deadbeef', '0000',
    'Shadow-Run: r20000101000000-dead', 'x\nShadow-Kind: base', 'x\r\nShadow-Run: evil',
    '__proto__', 'constructor', 'prototype', 'toString',
  ];
}

/** Placeholders a test replaces with live ids (see substituteLive), so handlers get past "not found". */
export const LIVE_TOKENS = { run: '@run', commit: '@commit', commitBack: '@commit~1' } as const;

/** Replaces LIVE_TOKENS in a params object's values (one level of arrays deep) with live ids. */
export function substituteLive(params: unknown, live: { run: string | null; commit: string | null }): unknown {
  const sub = (v: unknown): unknown => {
    if (v === LIVE_TOKENS.run) return live.run ?? v;
    if (v === LIVE_TOKENS.commit) return live.commit ?? v;
    if (v === LIVE_TOKENS.commitBack) return live.commit ? `${live.commit}~1` : v;
    return v;
  };
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return params;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    const value = Array.isArray(v) ? v.map(sub) : sub(v);
    // defineProperty keeps an own `__proto__` key an own key, as it came.
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A hostile string: fixed corpus, random unicode/binary, segment soup, or a very long run. */
export function hostileString(outsideAbs: string[] = []): fc.Arbitrary<string> {
  const segment = fc.constantFrom('..', '.', '', 'a', 'escape', 'outside', 'secret.txt', '.git', '.shadow', '\0', '~');
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...hostileStrings(outsideAbs)) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.array(segment, { minLength: 1, maxLength: 12 }).map((s) => s.join('/')) },
    { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join('/')}`) },
    { weight: 1, arbitrary: fc.integer({ min: 190, max: 20_000 }).map((n) => 'x'.repeat(n)) },
  );
}

/** Numbers at every edge JSON can carry (NaN and ±Infinity serialize as null, -0 as 0). */
export function hostileNumber(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(0, -0, 1, -1, 0.5, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, PROTOCOL_VERSION, PROTOCOL_VERSION + 1, PROTOCOL_VERSION - 1, 100_000, 100_001),
  );
}

/** Nesting `depth` levels deep, arrays and objects alternating (a `__proto__` key among them). */
function nest(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) {
    // An own `__proto__` key, as JSON.parse makes it (a literal would set the prototype instead).
    v = i % 3 === 0 ? [v] : i % 3 === 1 ? { a: v } : Object.defineProperty({}, '__proto__', { value: v, enumerable: true, writable: true, configurable: true });
  }
  return v;
}

/** Any hostile JSON value: leaves, small containers, deep nesting, huge arrays. */
export function hostileValue(outsideAbs: string[] = []): fc.Arbitrary<unknown> {
  const str = hostileString(outsideAbs);
  const leaf = fc.oneof(str, hostileNumber(), fc.boolean(), fc.constant(null));
  const short = fc.oneof(fc.constantFrom(...hostileStrings(outsideAbs).filter((x) => x.length <= 64)), fc.string({ maxLength: 16 }));
  const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'paths', 'run', 'n'), fc.string({ maxLength: 8 }));
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 6, arbitrary: leaf },
      { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 5 }) },
      { weight: 2, arbitrary: fc.dictionary(key, tie('value'), { maxKeys: 5 }) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 50, max: 3000 }), leaf).map(([d, l]) => nest(d, l)) },
      // Huge arrays of short strings: a frame of them stays under MAX_REQUEST_BYTES.
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(1000, 1001, 10_000, 10_001, 50_000), short).map(([n, s]) => new Array<string>(n).fill(s)) },
    ),
  }));
  return value;
}

/** The keys of a method's params object (a strictObject's shape), and the enum values each accepts. */
export function paramKeys(method: MethodDef): Map<string, string[]> {
  const schema = method.schemas(z).params as unknown as { shape?: Record<string, z.ZodType> };
  const out = new Map<string, string[]>();
  for (const [key, field] of Object.entries(schema.shape ?? {})) {
    let inner = field as unknown as { _zod: { def: { type: string; innerType?: unknown; entries?: Record<string, string> } } };
    while (inner._zod.def.innerType) inner = inner._zod.def.innerType as typeof inner;
    out.set(key, inner._zod.def.type === 'enum' ? Object.values(inner._zod.def.entries ?? {}) : []);
  }
  return out;
}

/** Plausible values for well-known keys, so handlers get past validation and do real work. */
function plausible(key: string, enumValues: string[], str: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  if (enumValues.length) return fc.constantFrom(...enumValues);
  switch (key) {
    case 'phases':
      return fc.array(fc.oneof(fc.constantFrom('build', 'test', 'deploy'), str), { maxLength: 4 });
    case 'paths':
    case 'artifacts':
    case 'lockFiles':
    case 'tempPaths':
    case 'command':
    case 'events':
      return fc.array(str, { maxLength: 6 });
    case 'n':
      return fc.integer({ min: -2, max: 200 });
    case 'protocol':
      return fc.constantFrom(PROTOCOL_VERSION, PROTOCOL_VERSION + 1, 0, -1, 2 ** 31);
    case 'pid':
    case 'timeoutMs':
      return fc.integer({ min: -1, max: 5000 });
    case 'force':
    case 'dryRun':
      return fc.boolean();
    case 'run':
    case 'parent':
      return fc.oneof({ weight: 3, arbitrary: fc.constant(LIVE_TOKENS.run) }, { weight: 2, arbitrary: str });
    case 'checkpoint':
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(LIVE_TOKENS.commit, LIVE_TOKENS.commitBack, 'auto', 'manual', 'undo') }, { weight: 2, arbitrary: str });
    case 'name':
    case 'phase':
      return fc.oneof(fc.constantFrom('build', 'test', 'deploy'), str);
    default:
      return str;
  }
}

/** Params for `method`: random junk, or objects over its own keys with hostile or plausible values. */
export function hostileParams(method: MethodDef, outsideAbs: string[] = []): fc.Arbitrary<unknown> {
  const keys = paramKeys(method);
  const anyValue = hostileValue(outsideAbs);
  const str = hostileString(outsideAbs);
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, enums] of keys) fields[key] = fc.oneof({ weight: 1, arbitrary: anyValue }, { weight: 3, arbitrary: plausible(key, enums, str) });
  const shaped = fc.record(fields, { requiredKeys: [] });
  const withExtra = fc.tuple(shaped, fc.constantFrom('__proto__', 'constructor', 'bogus', ''), anyValue).map(([obj, k, v]) => ({ ...obj, ...JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}}`) }));
  return fc.oneof({ weight: 1, arbitrary: anyValue }, { weight: 6, arbitrary: shaped }, { weight: 1, arbitrary: withExtra });
}
