/**
 * Issue #5, point 4, at the unit level: the readers of the state folder's files — stat cache
 * (S1.4), restore journal (S2.5), run records (S4.4) — take nothing on trust. Each corruption
 * is rejected whole with a reason or a coded error; never a partial or guessed content.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJournal } from '../../daemon/store/journaledRestore.js';
import { SnapshotIndex } from '../../daemon/store/snapshotIndex.js';
import { applyStatCache, readStatCache, saveStatCache, STAT_CACHE_VERSION } from '../../daemon/store/statCache.js';
import { RunStore } from '../../daemon/runs/runStore.js';
import type { RunRecord } from '../../daemon/runs/runRecord.js';
import type { ShadowError } from '../../shared/errors.js';
import { makeTempDir } from '../helpers/tempDir.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir()));
afterEach(() => cleanup());

const OID_A = 'a'.repeat(40);
const OID_B = 'b'.repeat(40);
const COMMIT = 'c'.repeat(40);

function sampleIndex(): SnapshotIndex {
  const index = new SnapshotIndex();
  index.set('a.txt', { mode: '100644', perms: 0o644, oid: OID_A, size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1, hashedAt: 2 });
  index.set('d/b.sh', { mode: '100755', perms: 0o755, oid: OID_B, size: 2, mtimeMs: 1, ctimeMs: 1, ino: 2, hashedAt: 2 });
  return index;
}

describe('stat cache file (S1.4)', () => {
  it('round-trips with its commit', () => {
    const file = join(dir, 'statcache.json');
    saveStatCache(file, '/ws', sampleIndex(), COMMIT);
    const content = readStatCache(file, '/ws');
    if ('reason' in content) throw new Error(content.reason);
    expect(content.commit).toBe(COMMIT);
    const index = new SnapshotIndex();
    expect(applyStatCache(content, index)).toBe(2);
    expect(index.get('d/b.sh')?.oid).toBe(OID_B);
  });

  it('reports an absent file as missing, not as a problem', () => {
    expect(readStatCache(join(dir, 'none.json'), '/ws')).toMatchObject({ missing: true });
  });

  const corruptions: [string, (text: string) => string][] = [
    ['truncated', (t) => t.slice(0, t.length - 20)],
    ['zero-length', () => ''],
    ['garbage', () => '\u0000\u00ff garbage \n zz'],
    ['without its trailer', (t) => t.split('\n')[0] as string],
    ['an oid changed under the checksum', (t) => t.replace(OID_A, OID_B)],
    ['a v1 file (no checksum)', (t) => JSON.stringify({ ...JSON.parse(t.split('\n')[0] as string), version: 1 })],
  ];
  it.each(corruptions)('issue #5: rejects a cache that is %s, whole', (_what, corrupt) => {
    const file = join(dir, 'statcache.json');
    saveStatCache(file, '/ws', sampleIndex(), COMMIT);
    writeFileSync(file, corrupt(readFileSync(file, 'utf8')));
    expect(readStatCache(file, '/ws')).toMatchObject({ missing: false, reason: expect.any(String) });
  });

  it('issue #5: rejects a well-checksummed cache of another workspace, version, or with a bad row', () => {
    const file = join(dir, 'statcache.json');
    const write = (body: unknown) => {
      const text = JSON.stringify(body);
      // The real checksum, so only the content check can refuse it.
      writeFileSync(file, `${text}\n${createHash('sha256').update(text).digest('hex')}\n`);
    };
    const row = ['a.txt', '100644', OID_A, 1, 1, 1, 1, 2, 0o644];
    write({ version: STAT_CACHE_VERSION, workspace: '/other', commit: COMMIT, files: [row] });
    expect(readStatCache(file, '/ws')).toMatchObject({ missing: false });
    write({ version: STAT_CACHE_VERSION + 1, workspace: '/ws', commit: COMMIT, files: [row] });
    expect(readStatCache(file, '/ws')).toMatchObject({ missing: false });
    write({ version: STAT_CACHE_VERSION, workspace: '/ws', commit: COMMIT, files: [row, ['../x', '100644', OID_A, 1, 1, 1, 1, 2, 0o644]] });
    expect(readStatCache(file, '/ws')).toMatchObject({ missing: false, reason: expect.stringContaining('bad path') });
    write({ version: STAT_CACHE_VERSION, workspace: '/ws', commit: COMMIT, files: [row, ['b', '100644', 'xyz', 1, 1, 1, 1, 2, 0o644]] });
    expect(readStatCache(file, '/ws')).toMatchObject({ missing: false });
    write({ version: STAT_CACHE_VERSION, workspace: '/ws', commit: COMMIT, files: [row] });
    expect(readStatCache(file, '/ws')).toMatchObject({ rows: [['a.txt', expect.any(Object)]] });
  });
});


describe('restore journal (S2.5)', () => {
  const valid = { op: 'cancel', run: 'r1', target: OID_A, preAbort: OID_B, paths: null, startedAt: '2026-01-01T00:00:00Z' };
  const write = (text: string) => writeFileSync(join(dir, 'journal.json'), text);

  it('reads a valid journal, and none as null', () => {
    expect(readJournal(dir)).toBeNull();
    write(JSON.stringify({ ...valid, paths: ['src/a.ts'] }));
    expect(readJournal(dir)).toEqual({ ...valid, paths: ['src/a.ts'] });
    // What a restore with an empty path list writes: read back as written, not refused.
    write(JSON.stringify({ ...valid, paths: [] }));
    expect(readJournal(dir)).toEqual({ ...valid, paths: [] });
  });

  it.each([
    ['truncated', JSON.stringify(valid).slice(0, 25)],
    ['empty', ''],
    ['garbage', '\u0000garbage'],
    ['null', 'null'],
    ['an array', '[]'],
    ['without a target', JSON.stringify({ ...valid, target: undefined })],
    ['with a short target', JSON.stringify({ ...valid, target: 'abc' })],
    ['without a pre-abort commit', JSON.stringify({ ...valid, preAbort: '' })],
    ['with an unknown op', JSON.stringify({ ...valid, op: 'rm -rf' })],
    ['with paths that are not a list', JSON.stringify({ ...valid, paths: 'src' })],
    ['with a path escaping the workspace', JSON.stringify({ ...valid, paths: ['../../etc/passwd'] })],
    ['with an absolute path', JSON.stringify({ ...valid, paths: ['/etc/passwd'] })],
    ['with a path into .git', JSON.stringify({ ...valid, paths: ['.GIT/hooks/pre-commit'] })],
  ])('issue #5: a journal %s is STATE_CORRUPT', (_what, text) => {
    write(text);
    let err: ShadowError | undefined;
    try {
      readJournal(dir);
    } catch (e) {
      err = e as ShadowError;
    }
    expect(err?.code).toBe('STATE_CORRUPT');
  });
});

describe('run records (S4.4)', () => {
  const record = (id: string): RunRecord => ({
    id,
    name: 'n',
    status: 'completed',
    phase: null,
    phases: [],
    checkpoints: 1,
    steps: 0,
    parent: null,
    startedAt: 1,
    deadline: null,
    unsafe: 0,
    base: OID_A,
    lastCheckpoint: null,
    ref: `refs/shadow/runs/${id}`,
    completedSteps: [],
    currentStep: null,
    errors: 0,
    children: [],
    pids: [],
    lockFiles: [],
    tempPaths: [],
    command: null,
    endedAt: 2,
    reason: null,
    trigger: null,
    action: null,
    message: null,
    inconsistent: false,
    preAbort: null,
    report: null,
    resumable: false,
  });

  it('issue #5: sets bad records aside as .corrupt and loads the rest', () => {
    const store = new RunStore(dir);
    const ids = ['r20260101000000-aaaa', 'r20260101000001-bbbb', 'r20260101000002-cccc', 'r20260101000003-dddd', 'r20260101000004-eeee'];
    for (const id of ids) store.save(record(id));
    const runs = join(dir, 'runs');
    writeFileSync(join(runs, `${ids[1]}.json`), '{"id": "r2026');
    writeFileSync(join(runs, `${ids[2]}.json`), 'null');
    writeFileSync(join(runs, `${ids[3]}.json`), JSON.stringify({ ...record(ids[3] as string), status: 'exploded' }));
    writeFileSync(join(runs, `${ids[4]}.json`), JSON.stringify(record(ids[0] as string)));
    const bad: string[] = [];
    const loaded = store.loadAll((file, _err, aside) => {
      bad.push(file);
      expect(aside).toBe(`${file}.corrupt`);
    });
    expect(loaded.map((r) => r.id)).toEqual([ids[0]]);
    expect(bad).toHaveLength(4);
    expect(readdirSync(runs).sort()).toEqual([`${ids[0]}.json`, ...ids.slice(1).map((id) => `${id}.json.corrupt`)]);
    expect(readFileSync(join(runs, `${ids[2]}.json.corrupt`), 'utf8')).toBe('null');

    // A second load sees only the good one; a new corrupt copy never overwrites the first.
    writeFileSync(join(runs, `${ids[2]}.json`), 'again');
    store.loadAll(() => undefined);
    expect(readFileSync(join(runs, `${ids[2]}.json.corrupt`), 'utf8')).toBe('null');
    expect(readdirSync(runs).filter((n) => n.startsWith(`${ids[2]}.json.corrupt-`))).toHaveLength(1);
    expect(existsSync(join(runs, `${ids[2]}.json`))).toBe(false);
  });
});
