/**
 * Issue #5, point 4: a corrupt state folder gives a clean rebuild or a clear coded refusal —
 * never a crash loop, never a wrong snapshot or restore. Every case goes through the real daemon,
 * auto-started by the CLI. Stat cache (S1.4), restore journal (S2.5), missing refs and objects
 * (S5.4, S6.2), run records (S4.4), cancellation log (S5.8), stale lock and socket (S2.1).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RunGet } from '../../shared/methods/index.js';
import { connectClient, rejection } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let ws: TestWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

const state = (w: TestWorkspace): string => join(w.dir, '.git', 'shadow');
const cachePath = (w: TestWorkspace): string => join(state(w), 'statcache.json');
const journal = (w: TestWorkspace): string => join(state(w), 'journal.json');
const daemonLog = (w: TestWorkspace): string => readFileSync(join(state(w), 'logs', 'daemon.log'), 'utf8');

/** A repository with a few files, one checkpoint, and the daemon stopped. */
async function seeded(opts: { backup?: boolean } = {}): Promise<{ w: TestWorkspace; cp: string }> {
  const w = makeTestWorkspace({ git: true });
  ws = w;
  // Objects pruned *everywhere*: with the backup store outside the work tree (#10.8) they would not be.
  if (opts.backup === false) w.env.SHADOW_BACKUP = 'off';
  writeIn(w, 'a.txt', 'alpha\n');
  writeIn(w, 'dir/b.txt', 'beta\n');
  writeIn(w, 'dir/sub/c.bin', Buffer.from([0, 1, 2, 255]));
  const cp = (await w.json<{ commit: string }>(['checkpoint', '-m', 'seed'])).commit;
  return { w, cp };
}

async function stop(w: TestWorkspace): Promise<void> {
  await w.cli(['daemon', 'stop']);
  await waitFor(() => !existsSync(join(state(w), 'daemon.lock')), 'daemon lock released', 20_000);
}

/** Every file of the working tree (outside .git) with its bytes. */
function treeBytes(w: TestWorkspace): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(w.dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (p === '.git') continue;
      if (e.isDirectory()) walk(p);
      else out.set(p, readFileSync(join(w.dir, p)).toString('base64'));
    }
  };
  walk('');
  return out;
}

/** Three CLI commands in a row: each works (exit 0), so no crash loop. */
async function threeInARow(w: TestWorkspace): Promise<void> {
  for (const args of [['status'], ['log', '-n', '1'], ['status']]) {
    const r = await w.cli([...args, '--json']);
    expect(r.code, `${args.join(' ')}: ${r.stdout} ${r.stderr}`).toBe(0);
  }
}

/** Deletes every refs/shadow/* ref, loose and packed. */
function deleteShadowRefs(w: TestWorkspace): void {
  gitIn(w, ['pack-refs', '--all']);
  for (const ref of gitIn(w, ['for-each-ref', '--format=%(refname)', 'refs/shadow/']).split('\n').filter(Boolean)) gitIn(w, ['update-ref', '-d', ref]);
  expect(gitIn(w, ['for-each-ref', 'refs/shadow/'])).toBe('');
}

/** Drops every unreachable object, as a user's aggressive `git gc` would. */
function pruneAll(w: TestWorkspace): void {
  gitIn(w, ['reflog', 'expire', '--expire=now', '--all']);
  gitIn(w, ['gc', '-q', '--prune=now']);
}

describe('issue #5: corrupt stat cache → warning and a clean rebuild (S1.4, S1.1)', () => {
  /** The cache the daemon saved after the seed checkpoint, once it is on disk. */
  async function savedCache(w: TestWorkspace): Promise<string> {
    return waitFor(() => (existsSync(cachePath(w)) ? readFileSync(cachePath(w), 'utf8') : null), 'stat cache saved', 20_000);
  }
  /** The cache with the oid of a.txt replaced by that of dir/b.txt, stats untouched. */
  function wrongOidBody(text: string): { version: number; workspace: string; files: [string, string, string, ...number[]][] } {
    const body = JSON.parse(text.split('\n')[0] as string) as { version: number; workspace: string; files: [string, string, string, ...number[]][] };
    const a = body.files.find((r) => r[0] === 'a.txt');
    const b = body.files.find((r) => r[0] === 'dir/b.txt');
    if (!a || !b) throw new Error(`unexpected cache ${text}`);
    a[2] = b[2];
    return body;
  }
  const cases: [string, (text: string) => string | Buffer][] = [
    ['truncated', (t) => t.slice(0, Math.floor(t.length / 2))],
    ['zero-length', () => ''],
    ['random garbage', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256))],
    ['valid JSON of the wrong shape', () => JSON.stringify({ version: 2, files: 'nope', rows: [[1, 2]] })],
    ['an older version (v1, no checksum) naming a wrong oid with a correct stat', (t) => JSON.stringify({ ...wrongOidBody(t), version: 1 })],
    ['a wrong oid with a correct stat under the old checksum', (t) => `${JSON.stringify(wrongOidBody(t))}\n${t.split('\n')[1]}\n`],
  ];
  it.each(cases)('issue #5 S1.4: a stat cache that is %s is discarded and the next checkpoint equals native git', async (_what, corrupt) => {
    const { w } = await seeded();
    const text = await savedCache(w);
    await stop(w);
    writeFileSync(cachePath(w), corrupt(text));

    await threeInARow(w);
    const cp = await w.json<{ tree: string }>(['checkpoint', '-m', 'after']);
    expect(cp.tree).toBe(nativeTree(w.dir, { repo: true, env: w.env }));
    expect(daemonLog(w)).toContain('stat cache discarded');
  });

  it('issue #5 S1.4 S1.6: a cache whose commit was pruned (refs deleted, git gc) is not trusted; every blob of the next checkpoint exists', async () => {
    const { w } = await seeded();
    await savedCache(w);
    await stop(w);
    deleteShadowRefs(w);
    pruneAll(w);

    const cp = await w.json<{ commit: string; tree: string }>(['checkpoint', '-m', 'after prune']);
    expect(cp.tree).toBe(nativeTree(w.dir, { repo: true, env: w.env }));
    // Without the check the cache's rows keep oids whose blobs git gc just deleted.
    execFileSync('git', ['rev-list', '--objects', cp.commit], { cwd: w.dir });
    gitIn(w, ['cat-file', '-p', `${cp.commit}:a.txt`]);
    // Stopped first: the daemon's auto snapshot, due 2 s after its start, landing while fsck runs
    // (it lists loose objects before it reads the refs) would read as a "missing commit".
    await stop(w);
    expect(gitIn(w, ['fsck', '--no-dangling', '--no-progress'])).toBe('');
  });
});

describe('issue #5: corrupt restore journal → refused, tree untouched, no crash loop (S2.5)', () => {
  /** The seed with a.txt changed after the checkpoint, so a restore would rewrite it. */
  async function changedAfterCheckpoint(): Promise<{ w: TestWorkspace; cp: string; pre: string }> {
    const { w, cp } = await seeded();
    writeIn(w, 'a.txt', 'changed after the checkpoint\n');
    writeIn(w, 'new.txt', 'new\n');
    const pre = (await w.json<{ commit: string }>(['checkpoint', '-m', 'pre'])).commit;
    await stop(w);
    return { w, cp, pre };
  }
  const entry = (target: string, preAbort: string, paths: unknown = null) => JSON.stringify({ op: 'restore', run: null, target, preAbort, paths, startedAt: new Date().toISOString() });
  const missing = 'f'.repeat(40);
  const cases: [string, string, (cp: string, pre: string) => string][] = [
    ['truncated', 'STATE_CORRUPT', (cp, pre) => entry(cp, pre).slice(0, 30)],
    ['garbage', 'STATE_CORRUPT', () => '\u0000\u0001not json at all'],
    ['JSON of the wrong shape', 'STATE_CORRUPT', () => '[1,2,3]'],
    ['pointing at a missing commit', 'CHECKPOINT_NOT_FOUND', (_cp, pre) => entry(missing, pre)],
    ['naming a missing pre-abort commit', 'CHECKPOINT_NOT_FOUND', (cp) => entry(cp, missing)],
    ['naming a path outside the workspace', 'STATE_CORRUPT', (cp, pre) => entry(cp, pre, ['../outside.txt'])],
    ['naming a path inside .git', 'STATE_CORRUPT', (cp, pre) => entry(cp, pre, ['.git/config'])],
  ];
  it.each(cases)('issue #5 S2.5: a journal %s is refused with %s in status and the log; the tree is kept byte for byte', async (_what, code, text) => {
    const { w, cp, pre } = await changedAfterCheckpoint();
    const before = treeBytes(w);
    writeFileSync(journal(w), text(cp, pre));

    const status = await w.cli(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const problems = status.json<{ problems?: { code: string; details: { journal?: string } }[] }>().problems ?? [];
    expect(problems.map((p) => p.code)).toEqual([code]);
    expect(existsSync(journal(w))).toBe(false);
    expect(existsSync(problems[0]?.details.journal ?? '/nonexistent')).toBe(true);
    await waitFor(() => daemonLog(w).includes('interrupted restore refused'), 'refusal logged', 20_000);
    expect(treeBytes(w)).toEqual(before);
    await threeInARow(w);

    // A second start behaves the same: it serves, and nothing is applied behind the user's back.
    await stop(w);
    await threeInARow(w);
    expect(treeBytes(w)).toEqual(before);
  });

  it('issue #5 S2.5: a valid journal is completed: the tree equals its target', async () => {
    const { w, cp, pre } = await changedAfterCheckpoint();
    writeFileSync(journal(w), entry(cp, pre));
    const status = await w.json<{ problems?: unknown[] }>(['status']);
    expect(status.problems).toBeUndefined();
    expect(nativeTree(w.dir, { repo: true, env: w.env })).toBe(gitIn(w, ['rev-parse', `${cp}^{tree}`]));
    expect(existsSync(journal(w))).toBe(false);
  });
});

describe('issue #5: missing refs and objects → coded errors, never a wrong restore (S5.4, S6.2)', () => {
  it('issue #5 S6.2: refs deleted, then objects pruned: every command answers with a code and cancel keeps the tree', async () => {
    const { w } = await seeded({ backup: false });
    const run = (await w.json<{ run: string; base: string }>(['start', '--name', 'doomed'])).run;
    writeIn(w, 'a.txt', 'work of the run\n');
    writeIn(w, 'made-by-run.txt', 'new\n');
    deleteShadowRefs(w);

    expect((await w.cli(['status', '--json'])).code).toBe(0);
    expect((await w.json<{ entries: unknown[] }>(['log'])).entries).toEqual([]);
    expect((await w.cli(['diff', '--json'])).json<{ error: { code: string } }>().error.code).toBe('CHECKPOINT_NOT_FOUND');
    expect((await w.cli(['restore', 'manual', '--json'])).json<{ error: { code: string } }>().error.code).toBe('CHECKPOINT_NOT_FOUND');
    expect((await w.cli(['undo', '--json'])).json<{ error: { code: string } }>().error.code).toBe('CHECKPOINT_NOT_FOUND');

    pruneAll(w);
    const before = treeBytes(w);
    const cancel = await w.cli(['cancel', '--json']);
    expect(cancel.code).not.toBe(0);
    expect(cancel.json<{ error: { code: string } }>().error.code).toBe('CHECKPOINT_NOT_FOUND');
    expect(treeBytes(w)).toEqual(before); // never a wrong restore: nothing deleted or overwritten
    const resume = await w.cli(['resume', '--run', run, '--yes', '--json']);
    expect(['RESUME_INVALID', 'RUN_NOT_RUNNING']).toContain(resume.json<{ error: { code: string } }>().error.code);
    expect(treeBytes(w)).toEqual(before);
    await threeInARow(w);
    await stop(w);
    await threeInARow(w);
    expect(treeBytes(w)).toEqual(before);
  });

  it('issue #5 S6.2: a run ref pointing at a missing object gives coded errors, and cancel keeps the tree', async () => {
    const { w } = await seeded();
    const { run, ref } = await w.json<{ run: string; ref: string }>(['start', '--name', 'dangling']);
    writeIn(w, 'made-by-run.txt', 'new\n');
    writeFileSync(join(w.dir, '.git', ref), `${'e'.repeat(40)}\n`);
    const before = treeBytes(w);
    for (const args of [['log', '--run', run], ['diff', ref], ['restore', ref], ['resume', '--run', run, '--yes'], ['cancel']]) {
      const r = await w.cli([...args, '--json']);
      if (r.code !== 0) expect(['CHECKPOINT_NOT_FOUND', 'OBJECT_CORRUPT', 'RUN_NOT_FOUND', 'RUN_ACTIVE', 'RESUME_INVALID']).toContain(r.json<{ error: { code: string } }>().error.code);
    }
    // The run's base commit still exists: a cancel restoring to it is right; anything else must keep the tree.
    const base = (JSON.parse(readFileSync(join(state(w), 'runs', `${run}.json`), 'utf8')) as { base: string }).base;
    const after = treeBytes(w);
    if (after.has('made-by-run.txt')) expect(after).toEqual(before);
    else expect(nativeTree(w.dir, { repo: true, env: w.env })).toBe(gitIn(w, ['rev-parse', `${base}^{tree}`]));
    // One dangling ref must not break the listing of the others, before or after a restart.
    await threeInARow(w);
    await stop(w);
    await threeInARow(w);
    expect((await w.json<{ entries: unknown[] }>(['log'])).entries.length).toBeGreaterThan(0);
  });
});

describe('issue #5: corrupt run records and cancellation log lines are set aside (S4.4, S5.8)', () => {
  it.each([
    ['garbage', 'x{{{'],
    ['truncated JSON', '{"id": "r'],
    ['null', 'null'],
    ['an object of the wrong shape', '{"id": 5}'],
  ])('issue #5 S4.4: a run record that is %s is kept as .corrupt, reported, and other runs still work', async (_what, text) => {
    const { w } = await seeded();
    const good = (await w.json<{ run: string }>(['start', '--name', 'good'])).run;
    await w.json(['finish']);
    const bad = (await w.json<{ run: string }>(['start', '--name', 'bad'])).run;
    await w.json(['cancel', '--action', 'keep_checkpoint']);
    await stop(w);
    const badFile = join(state(w), 'runs', `${bad}.json`);
    writeFileSync(badFile, text);
    appendFileSync(join(state(w), 'logs', 'cancellations.jsonl'), 'garbage line\n{"torn":\n');

    const status = await w.json<{ problems?: { code: string }[] }>(['status']);
    expect(status.problems?.map((p) => p.code)).toEqual(['STATE_CORRUPT']);
    expect(existsSync(`${badFile}.corrupt`)).toBe(true);
    expect(readFileSync(`${badFile}.corrupt`, 'utf8')).toBe(text);
    const client = await connectClient(w);
    try {
      expect((await client.request(RunGet, { run: good })).run.status).toBe('completed');
      expect((await rejection(client.request(RunGet, { run: bad }))).code).toBe('RUN_NOT_FOUND');
    } finally {
      client.close();
    }
    const cancellations = await w.json<{ entries: { run: string }[] }>(['log', '--cancellations']);
    expect(cancellations.entries.map((e) => e.run)).toEqual([bad]);
    await threeInARow(w);
  });
});

describe('issue #5: leftovers of a killed daemon are taken over (S2.1)', () => {
  it('issue #5 S2.1: a stale lock (dead pid, or garbage) and a stale socket file do not stop the next start', async () => {
    const { w } = await seeded();
    const first = await w.json<{ daemon: { pid: number; socket: string } }>(['status']);
    process.kill(first.daemon.pid, 'SIGKILL');
    await waitFor(() => {
      try {
        process.kill(first.daemon.pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'daemon gone', 20_000);
    expect(existsSync(first.daemon.socket)).toBe(true);
    expect(existsSync(join(state(w), 'daemon.lock'))).toBe(true);
    await threeInARow(w);

    for (const lock of ['{"pid": 999999999, "startedAt": "x", "workspace": "/nowhere"}\n', 'garbage', '']) {
      await stop(w);
      writeFileSync(join(state(w), 'daemon.lock'), lock);
      await threeInARow(w);
    }
    rmSync(join(state(w), 'daemon.lock'), { force: true });
  });
});
