import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePathBytes, encodePathBytes, exceedsPathMax, fsPath, hasEscapedBytes, pathByteLength, quotePath, unquotePath } from '../../shared/pathBytes.js';

describe('pathBytes (#10.6 non-UTF-8 names, S1.1)', () => {
  it('#10.6 valid UTF-8 decodes as text; a latin-1 byte becomes one lone surrogate', () => {
    expect(decodePathBytes(Buffer.from('café.txt'))).toBe('café.txt');
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]);
    const name = decodePathBytes(latin1);
    expect(name).toBe('caf\udce9.txt');
    expect(hasEscapedBytes(name)).toBe(true);
    expect(hasEscapedBytes('café.txt')).toBe(false);
    expect(encodePathBytes(name).equals(latin1)).toBe(true);
  });

  it('#10.6 a literal U+FFFD and emoji (surrogate pairs) are text, not escapes', () => {
    for (const s of ['a\uFFFDb', '😀/x', '\uD83D\uDC80']) {
      expect(decodePathBytes(Buffer.from(s))).toBe(s);
      expect(hasEscapedBytes(s)).toBe(false);
    }
  });

  it('#10.6 overlong forms, encoded surrogates and truncated sequences are escaped byte by byte', () => {
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xb2, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xff], [0x80, 0x41]]) {
      const s = decodePathBytes(Buffer.from(bytes));
      expect(encodePathBytes(s)).toEqual(Buffer.from(bytes));
      expect(s).not.toContain('\uFFFD');
    }
  });

  it('#10.6 any byte string round-trips, and decoding is injective', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        const sa = decodePathBytes(a);
        expect(encodePathBytes(sa)).toEqual(Buffer.from(a));
        expect(pathByteLength(sa)).toBe(a.length);
        if (!Buffer.from(a).equals(Buffer.from(b))) expect(decodePathBytes(b)).not.toBe(sa);
      }),
      { numRuns: 2000 },
    );
  });

  it('#10.6 fsPath gives a string for UTF-8 paths and the exact bytes otherwise', () => {
    expect(fsPath('/w', '')).toBe('/w');
    expect(fsPath('/w', 'a/café')).toBe('/w/a/café');
    expect(fsPath('/w', 'a/caf\udce9')).toEqual(Buffer.from([0x2f, 0x77, 0x2f, 0x61, 0x2f, 0x63, 0x61, 0x66, 0xe9]));
  });

  it('#10.6 human output quotes such names as git does, and the quoted form reads back', () => {
    expect(quotePath('caf\udce9.txt')).toBe('"caf\\351.txt"');
    expect(quotePath('café.txt')).toBe('café.txt');
    expect(quotePath('a\nb"c')).toBe('"a\\nb\\"c"');
    expect(unquotePath('"caf\\351.txt"')).toBe('caf\udce9.txt');
    expect(unquotePath('café.txt')).toBe('café.txt');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 30 }), (a) => {
        const s = decodePathBytes(a);
        const q = quotePath(s);
        if (q !== s) expect(unquotePath(q)).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });

  it('#10.10 exceedsPathMax counts bytes of the whole path against PATH_MAX', () => {
    expect(exceedsPathMax('/w', 'a'.repeat(100))).toBe(false);
    expect(exceedsPathMax('/w', `${'d'.repeat(200)}/`.repeat(25))).toBe(true);
  });
});
