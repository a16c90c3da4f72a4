/**
 * Item 6 of issue #10: file names that are not UTF-8 (S1.1, S1.1a). Git stores a tree entry's
 * name as raw bytes; a string readdir turned such names into U+FFFD and the file was dropped from
 * every checkpoint without a word, so a job deleting it could not be undone.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { makeTestWorkspace } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
afterEach(async () => {
  await ws?.cleanup();
});

/** Absolute path bytes of a workspace entry given as raw name bytes per component. */
function at(...parts: (string | number[])[]): Buffer {
  const segs = parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)));
  const joined: Buffer[] = [Buffer.from(ws.dir)];
  for (const s of segs) joined.push(Buffer.from('/'), s);
  return Buffer.concat(joined);
}

const LATIN1 = [0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]; // "caf\xe9.txt"
const DIR = [0x64, 0xff]; // "d\xff"
const INNER = [0x66, 0xfe]; // "f\xfe"

/** latin-1 `caf\xe9.txt` beside UTF-8 `café.txt`, a directory and a symlink with such bytes. */
function writeNames(): void {
  writeFileSync(at(LATIN1), 'latin-1 name\n');
  writeFileSync(at('café.txt'), 'utf-8 name\n');
  mkdirSync(at(DIR));
  writeFileSync(at(DIR, INNER), Buffer.from([0, 1, 2, 0xff]));
  symlinkSync(Buffer.from([0x74, 0xe9]), at([0x6c, 0xe9]));
}

describe('non-UTF-8 file names (#10.6, S1.1)', () => {
  it('#10.6 names that are not UTF-8 are captured byte-exact: tree parity with git, full scan and incremental (S1.1)', async () => {
    ws = makeTestWorkspace();
    writeNames();
    // An ignore pattern with the same bytes matches byte for byte, as git's does.
    writeFileSync(at('.gitignore'), Buffer.from([0x69, 0x67, 0x6e, 0xe9, 0x2a, 0x0a]));
    writeFileSync(at([0x69, 0x67, 0x6e, 0xe9, 0x2e, 0x6c, 0x6f, 0x67]), 'ignored\n');
    // A name that really holds U+FFFD (valid UTF-8) beside them stays that name.
    writeFileSync(at('lit\uFFFD.txt'), 'replacement character\n');
    const first = await ws.json(['checkpoint']);
    expect(first.uncaptured).toEqual([]);
    expect(first.files).toBe(6);
    expect(first.tree).toBe(nativeTree(ws.dir, { repo: false }));
    // Changes the watcher reports with a mangled name (fs.watch decodes it as UTF-8).
    writeFileSync(at(LATIN1), 'changed by the user\n');
    writeFileSync(at(DIR, [0x67, 0xfe]), 'new beside it\n');
    const second = await ws.json(['checkpoint']);
    expect(second.rescanned).toBe(false);
    expect(second.tree).toBe(nativeTree(ws.dir, { repo: false }));
    const status = await ws.json(['status']);
    expect(status.watcher.mode).toBe('events');
  });

  it('#10.6 a cancel brings back, byte for byte, files with such names that the job deleted (S1.1a)', async () => {
    ws = makeTestWorkspace({ git: true });
    writeNames();
    await ws.json(['start']);
    unlinkSync(at(LATIN1));
    unlinkSync(at('café.txt'));
    rmSync(at(DIR), { recursive: true });
    writeFileSync(at([0x6e, 0xe9, 0x77]), 'made by the job\n');
    const r = await ws.json(['cancel']);
    expect(r.status).toBe('cancelled');
    expect(r.preserved).toEqual([]);
    expect(r.restored).toEqual(['café.txt', 'caf\udce9.txt', 'd\udcff/f\udcfe']);
    expect(r.removed).toEqual(['n\udce9w']);
    expect(readFileSync(at(LATIN1), 'utf8')).toBe('latin-1 name\n');
    expect(readFileSync(at('café.txt'), 'utf8')).toBe('utf-8 name\n');
    expect(readFileSync(at(DIR, INNER))).toEqual(Buffer.from([0, 1, 2, 0xff]));
    const names = readdirSync(Buffer.from(ws.dir), { encoding: 'buffer' }).map((n) => n.toString('hex')).sort();
    const expected = [Buffer.from('.git'), Buffer.from(LATIN1), Buffer.from('café.txt'), Buffer.from(DIR), Buffer.from([0x6c, 0xe9])];
    expect(names).toEqual(expected.map((n) => n.toString('hex')).sort());
  });

  it('#10.6 diff prints such names quoted as git does, and restore takes the quoted form (S1.8)', async () => {
    ws = makeTestWorkspace();
    writeNames();
    await ws.json(['checkpoint']);
    unlinkSync(at(LATIN1));
    unlinkSync(at('café.txt'));
    const diff = await ws.cli(['diff']);
    expect(diff.code).toBe(0);
    expect(diff.stdout.split('\n')).toEqual(expect.arrayContaining(['D "caf\\351.txt"', 'D café.txt']));
    const json = await ws.json(['diff']);
    expect(json.deleted).toEqual(['café.txt', 'caf\udce9.txt']);
    const restore = await ws.json(['restore', 'manual', '"caf\\351.txt"']);
    expect(restore.restored).toEqual(['caf\udce9.txt']);
    expect(readFileSync(at(LATIN1), 'utf8')).toBe('latin-1 name\n');
    expect(() => readFileSync(at('café.txt'))).toThrow();
  });
});
