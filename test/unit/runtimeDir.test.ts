import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { chmodSync, chownSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertSocketPathLength, ensureRuntimeDir } from '../../daemon/runtimeDir.js';
import type { ShadowError } from '../../shared/errors.js';
import { MAX_SOCKET_PATH_BYTES } from '../../shared/paths.js';
import { makeTempDir } from '../helpers/tempDir.js';

let root: string;
let cleanup: () => void;
beforeEach(() => ({ dir: root, cleanup } = makeTempDir()));
afterEach(() => cleanup());

function unsafe(fn: () => void): ShadowError {
  try {
    fn();
  } catch (err) {
    expect((err as ShadowError).code).toBe('RUNTIME_DIR_UNSAFE');
    return err as ShadowError;
  }
  throw new Error('expected RUNTIME_DIR_UNSAFE');
}

const modeOf = (p: string) => lstatSync(p).mode & 0o777;

describe('ensureRuntimeDir (S3.1)', () => {
  it('creates the directory and its parents with mode 0700', () => {
    const dir = join(root, 'a', 'b', 'shadow');
    ensureRuntimeDir(dir);
    expect(lstatSync(dir).isDirectory()).toBe(true);
    expect(modeOf(dir)).toBe(0o700);
    ensureRuntimeDir(dir); // idempotent
    expect(modeOf(dir)).toBe(0o700);
  });

  it('tightens our own directory when its mode is too open', () => {
    const dir = join(root, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    ensureRuntimeDir(dir);
    expect(modeOf(dir)).toBe(0o700);
    chmodSync(dir, 0o707);
    ensureRuntimeDir(dir);
    expect(modeOf(dir)).toBe(0o700);
  });

  it('refuses a symlink, even to a safe directory of ours', () => {
    const real = join(root, 'real');
    mkdirSync(real, { mode: 0o700 });
    const link = join(root, 'link');
    symlinkSync(real, link);
    const err = unsafe(() => ensureRuntimeDir(link));
    expect(err.details).toMatchObject({ dir: link });
  });

  it('refuses a dangling symlink', () => {
    const link = join(root, 'dangling');
    symlinkSync(join(root, 'nowhere'), link);
    unsafe(() => ensureRuntimeDir(link));
  });

  it('refuses a path that is a file', () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    unsafe(() => ensureRuntimeDir(file));
  });

  it.runIf(process.getuid?.() === 0)('refuses a directory owned by another user, naming owner and mode', () => {
    const dir = join(root, 'theirs');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 12345, 12345);
    const err = unsafe(() => ensureRuntimeDir(dir));
    expect(err.details).toMatchObject({ dir, owner: 12345, mode: '0700' });
    expect(err.message).toContain('12345');
  });
});

describe('assertSocketPathLength (S3.1)', () => {
  it(`accepts up to ${MAX_SOCKET_PATH_BYTES} bytes and refuses more`, () => {
    assertSocketPathLength('/'.padEnd(MAX_SOCKET_PATH_BYTES, 'x'));
    const err = unsafe(() => assertSocketPathLength('/'.padEnd(MAX_SOCKET_PATH_BYTES + 1, 'x')));
    expect(err.details).toMatchObject({ bytes: MAX_SOCKET_PATH_BYTES + 1, max: MAX_SOCKET_PATH_BYTES });
  });

  it('counts bytes, not characters', () => {
    // 52 two-byte characters: 105 bytes in 53 characters.
    unsafe(() => assertSocketPathLength('/' + 'é'.repeat(52)));
  });
});
