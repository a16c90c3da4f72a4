import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../daemon/loadConfig.js';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import type { ShadowError } from '../../shared/errors.js';
import { makeTempDir } from '../helpers/tempDir.js';

let ws: string;
let cleanup: () => void;
beforeEach(() => ({ dir: ws, cleanup } = makeTempDir()));
afterEach(() => cleanup());

function write(text: string): void {
  writeFileSync(join(ws, 'shadow.config.json'), text);
}

function loadError(): ShadowError {
  try {
    loadConfig(ws);
  } catch (err) {
    expect((err as ShadowError).code).toBe('CONFIG_INVALID');
    return err as ShadowError;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('loadConfig (S9)', () => {
  it('gives the defaults when the file is absent', () => {
    expect(loadConfig(ws)).toEqual(DEFAULT_CONFIG);
  });

  it('reads and parses the file', () => {
    write(JSON.stringify({ autoSnapshot: { quietPeriod: '5s' }, maxFileSize: '1MB' }));
    const c = loadConfig(ws);
    expect(c.autoSnapshot.quietPeriod).toBe(5000);
    expect(c.maxFileSize).toBe(1024 * 1024);
  });

  it('accepts a file saved with a BOM', () => {
    write('\ufeff{"errorThreshold": 5}');
    expect(loadConfig(ws).errorThreshold).toBe(5);
  });

  it('names the file and key of a bad value', () => {
    write('{"errorThreshold": "many"}');
    const err = loadError();
    expect(err.details.key).toBe('errorThreshold');
    expect(err.details.file).toBe(join(ws, 'shadow.config.json'));
    expect(err.message).toContain('shadow.config.json');
  });

  const syntax: [string, string, number, number][] = [
    ['a trailing comma', '{\n  "a": 1,\n}', 3, 1],
    ['a bare word', '{\n  "a": soon\n}', 2, 8],
    ['a missing brace', '{"a": 1', 1, 8],
    ['an empty file', '', 1, 1],
    ['trailing garbage', '{}\n}', 2, 1],
    ['a single-quoted string', "{\n\n   'a': 1}", 3, 4],
  ];
  for (const [what, text, line, column] of syntax) {
    it(`reports ${what} with line:column`, () => {
      write(text);
      const err = loadError();
      expect(err.details).toMatchObject({ line, column });
      expect(err.message).toContain(`shadow.config.json:${line}:${column}: invalid JSON`);
    });
  }

  it('reports a file it cannot read', () => {
    mkdirSync(join(ws, 'shadow.config.json'));
    expect(loadError().details.errno).toBe('EISDIR');
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable file', () => {
    write('{}');
    chmodSync(join(ws, 'shadow.config.json'), 0o000);
    expect(loadError().details.errno).toBe('EACCES');
  });
});
