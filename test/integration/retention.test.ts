import { readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpoint, RunFinish, RunStart } from '../../shared/methods/index.js';
import { connectClient } from '../helpers/connectClient.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let ws: TestWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

interface GcJson {
  runsPruned: string[];
  refsDeleted: string[];
  autoSnapshotsDropped: number;
  objectsPruned: number | null;
  kept: { runs: number; autoSnapshots: number };
}

/** Native git on the workspace's store: the repository itself, or the plain store. */
function storeGit(w: TestWorkspace, git: boolean, args: string[]): string {
  return gitIn(w, git ? args : ['--git-dir', join(w.dir, '.shadow/git'), ...args]);
}

function config(w: TestWorkspace, value: object): void {
  writeFileSync(join(w.dir, 'shadow.config.json'), JSON.stringify(value));
}

/** Starts and finishes `n` runs, each with its own file content; returns their ids, oldest first. */
async function makeRuns(w: TestWorkspace, n: number): Promise<string[]> {
  const client = await connectClient(w);
  const ids: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      writeIn(w, `run-${i}.txt`, `content of run ${i}\n`);
      const s = await client.request(RunStart, { name: `job${i}` });
      await client.request(Checkpoint, { message: `work ${i}`, run: s.run });
      await client.request(RunFinish, { run: s.run });
      ids.push(s.run);
    }
  } finally {
    client.close();
  }
  return ids;
}

function shadowRefs(w: TestWorkspace, git: boolean): string[] {
  return storeGit(w, git, ['for-each-ref', '--format=%(refname)', 'refs/shadow/']).split('\n').filter(Boolean);
}

function recordIds(w: TestWorkspace, git: boolean): string[] {
  const dir = git ? join(w.dir, '.git/shadow/runs') : join(w.dir, '.shadow/runs');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** fsck clean and every commit of every shadow ref readable, with its whole tree. */
function expectStoreSound(w: TestWorkspace, git: boolean): void {
  storeGit(w, git, ['fsck', '--full', '--strict', '--no-dangling']);
  const objects = storeGit(w, git, ['rev-list', '--objects', '--glob=refs/shadow/*']).split('\n').map((l) => l.split(' ')[0]);
  expect(objects.length).toBeGreaterThan(0);
  for (const oid of objects.slice(0, 200)) storeGit(w, git, ['cat-file', '-p', oid as string]);
}

describe.each([{ git: false }, { git: true }])('retention, git=$git (S1.7)', ({ git }) => {
  it('S1.7 gc keeps the newest keepRuns finished runs; pruned runs leave no ref, record or report', async () => {
    ws = makeTestWorkspace({ git });
    config(ws, { retention: { keepRuns: 2, keepDays: 0 }, autoSnapshot: { enabled: false } });
    const ids = await makeRuns(ws, 4);
    const r = await ws.json<GcJson>(['gc']);
    expect(r.runsPruned.sort()).toEqual(ids.slice(0, 2).sort());
    expect(r.refsDeleted.sort()).toEqual(ids.slice(0, 2).map((id) => `refs/shadow/runs/${id}`).sort());
    expect(r.kept.runs).toBe(2);
    expect(r.objectsPruned).toBe(git ? null : 0); // fresh objects are within the grace period
    const refs = shadowRefs(ws, git);
    for (const id of ids.slice(0, 2)) expect(refs).not.toContain(`refs/shadow/runs/${id}`);
    for (const id of ids.slice(2)) expect(refs).toContain(`refs/shadow/runs/${id}`);
    expect(recordIds(ws, git)).toEqual(ids.slice(2).sort());
    // The kept runs' checkpoints are readable through shadowctl.
    for (const id of ids.slice(2)) {
      const log = await ws.json<{ entries: { subject: string }[] }>(['log', '--run', id]);
      expect(log.entries.map((e) => e.subject)).toContain(`work ${ids.indexOf(id)}`);
    }
    expectStoreSound(ws, git);
    // A second gc has nothing left to do.
    expect((await ws.json<GcJson>(['gc'])).runsPruned).toEqual([]);
    const human = await ws.cli(['gc']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Pruned 0 runs');
  });

  it('S1.7 on start, runs older than keepDays go, packed refs included, the user refs stay byte-identical', async () => {
    ws = makeTestWorkspace({ git });
    config(ws, { retention: { keepRuns: 1, keepDays: 7 }, autoSnapshot: { enabled: false } });
    const ids = await makeRuns(ws, 4);
    expect((await ws.cli(['daemon', 'stop'])).code).toBe(0);
    // Ages: ids[0] 20 days, ids[1] 10 days, ids[2] 3 days, ids[3] now (kept by keepRuns anyway).
    const dir = git ? join(ws.dir, '.git/shadow/runs') : join(ws.dir, '.shadow/runs');
    const day = 24 * 3600 * 1000;
    for (const [i, ageDays] of [[0, 20], [1, 10], [2, 3]] as const) {
      const file = join(dir, `${ids[i]}.json`);
      const rec = JSON.parse(readFileSync(file, 'utf8')) as { startedAt: number; endedAt: number };
      rec.startedAt = Date.now() - ageDays * day - 1000;
      rec.endedAt = Date.now() - ageDays * day;
      writeFileSync(file, JSON.stringify(rec));
    }
    // An annotated tag: packed-refs gets a peeled `^` line that must survive too.
    if (git) gitIn(ws, ['tag', '-a', 'v1', '-m', 'release']);
    storeGit(ws, git, ['pack-refs', '--all']);
    const gitDir = git ? join(ws.dir, '.git') : join(ws.dir, '.shadow/git');
    const before = readFileSync(join(gitDir, 'packed-refs'), 'utf8');
    expect(before).toContain(`refs/shadow/runs/${ids[0]}`);
    expect((await ws.cli(['daemon', 'start'])).code).toBe(0);
    await waitFor(() => recordIds(ws as TestWorkspace, git).length === 2, 'start-up gc pruned the old runs');
    expect(recordIds(ws, git)).toEqual(ids.slice(2).sort());
    const refs = shadowRefs(ws, git);
    expect(refs).not.toContain(`refs/shadow/runs/${ids[0]}`);
    expect(refs).not.toContain(`refs/shadow/runs/${ids[1]}`);
    expect(refs).toContain(`refs/shadow/runs/${ids[2]}`);
    const after = readFileSync(join(gitDir, 'packed-refs'), 'utf8');
    const dropped = (l: string) => l.includes(`refs/shadow/runs/${ids[0]}`) || l.includes(`refs/shadow/runs/${ids[1]}`);
    expect(after).toBe(before.split('\n').filter((l) => !dropped(l)).join('\n'));
    if (git) {
      expect(gitIn(ws, ['rev-parse', '--verify', 'refs/heads/main'])).toMatch(/^[0-9a-f]{40}$/);
      expect(gitIn(ws, ['rev-parse', '--verify', 'refs/tags/v1'])).toMatch(/^[0-9a-f]{40}$/);
    }
    expectStoreSound(ws, git);
  });

  it('S1.7 the auto chain is bounded by maxAutoSnapshots, trees, messages and times preserved', async () => {
    ws = makeTestWorkspace({ git });
    config(ws, { retention: { maxAutoSnapshots: 3 }, autoSnapshot: { enabled: true, quietPeriod: '50ms' } });
    expect((await ws.cli(['daemon', 'start'])).code).toBe(0);
    const autoHead = () => {
      try {
        return storeGit(ws as TestWorkspace, git, ['rev-parse', '--verify', '-q', 'refs/shadow/auto']);
      } catch {
        return '';
      }
    };
    // Wait for the head that holds this version, not for any new head: trimming the chain rewrites
    // its commits (new oids, same trees), so "the head moved" can be a trim of the previous one.
    const autoContent = (head: string): string => {
      try {
        return storeGit(ws as TestWorkspace, git, ['show', `${head}:auto.txt`]);
      } catch {
        return '';
      }
    };
    const seenTrees: string[] = [];
    for (let i = 0; i < 7; i++) {
      writeIn(ws, 'auto.txt', `version ${i}\n`);
      const head = await waitFor(() => {
        const h = autoHead();
        return h !== '' && autoContent(h) === `version ${i}` ? h : null;
      }, `auto snapshot ${i}`);
      seenTrees.push(storeGit(ws, git, ['rev-parse', `${head}^{tree}`]));
    }
    // Bounded cheaply after auto snapshots: never more than 10% (at least one) over the bound.
    const fmt = ['log', '--format=%T %at %ct %s', 'refs/shadow/auto'];
    expect(storeGit(ws, git, fmt).split('\n').length).toBeLessThanOrEqual(4);
    const beforeLog = storeGit(ws, git, fmt).split('\n');
    const r = await ws.json<GcJson>(['gc']);
    expect(r.kept.autoSnapshots).toBe(3);
    expect(r.autoSnapshotsDropped).toBe(beforeLog.length - 3);
    const afterLog = storeGit(ws, git, fmt).split('\n');
    expect(afterLog).toEqual(beforeLog.slice(0, 3));
    expect(afterLog.map((l) => l.split(' ')[0])).toEqual(seenTrees.slice(-3).reverse());
    const oldest = storeGit(ws, git, ['rev-list', '--max-parents=0', 'refs/shadow/auto']).split('\n');
    expect(oldest).toHaveLength(1);
    expect((await ws.json<{ entries: unknown[] }>(['log', '--ref', 'auto'])).entries).toHaveLength(3);
    expectStoreSound(ws, git);
  });
});

describe('object pruning (S1.7)', () => {
  it('S1.7 in a plain workspace gc prunes unreachable loose objects past the grace period; fsck stays clean', async () => {
    ws = makeTestWorkspace();
    config(ws, { retention: { keepRuns: 1, keepDays: 0 }, autoSnapshot: { enabled: false } });
    const ids = await makeRuns(ws, 2);
    // run-0.txt is deleted before the checkpoints that are kept: only pruned runs hold its blob.
    const objectsDir = join(ws.dir, '.shadow/git/objects');
    const blob = storeGit(ws, false, ['rev-parse', `refs/shadow/runs/${ids[0]}:run-0.txt`]);
    rmSync(join(ws.dir, 'run-0.txt'));
    const client = await connectClient(ws);
    try {
      await client.request(Checkpoint, { message: 'without run-0' });
      const rest = await client.request(RunStart, { name: 'other' });
      await client.request(RunFinish, { run: rest.run });
      // Backdate every loose object past the one-hour grace period.
      const old = (Date.now() - 2 * 3600 * 1000) / 1000;
      for (const fan of readdirSync(objectsDir).filter((d) => /^[0-9a-f]{2}$/.test(d))) {
        for (const name of readdirSync(join(objectsDir, fan))) utimesSync(join(objectsDir, fan, name), old, old);
      }
    } finally {
      client.close();
    }
    const r = await ws.json<GcJson>(['gc']);
    expect(r.runsPruned).toContain(ids[0]);
    expect(r.objectsPruned).toBeGreaterThan(0);
    expect(() => storeGit(ws as TestWorkspace, false, ['cat-file', '-e', blob])).toThrow();
    expectStoreSound(ws, false);
    // The next checkpoint still works and the store stays sound.
    writeIn(ws, 'later.txt', 'later\n');
    await ws.json(['checkpoint', '-m', 'after gc']);
    expectStoreSound(ws, false);
  });

  it('S1.7 in a plain workspace gc also drops unreachable objects from the packs checkpoints wrote; reachable ones stay', async () => {
    ws = makeTestWorkspace();
    config(ws, { retention: { keepRuns: 1, keepDays: 0 }, autoSnapshot: { enabled: false } });
    const client = await connectClient(ws);
    const packDir = join(ws.dir, '.shadow/git/objects/pack');
    const ids: string[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        // 20 new files in 5 new directories: well past the objects a checkpoint writes as one pack.
        for (let f = 0; f < 20; f++) writeIn(ws, `run${i}/d${f % 5}/f${f}.txt`, `run ${i} file ${f}\n`);
        const s = await client.request(RunStart, { name: `job${i}` });
        await client.request(Checkpoint, { message: `work ${i}`, run: s.run });
        await client.request(RunFinish, { run: s.run });
        ids.push(s.run);
        rmSync(join(ws.dir, `run${i}`), { recursive: true });
      }
      await client.request(Checkpoint, { message: 'without the runs' });
      const packs = readdirSync(packDir).filter((n) => n.endsWith('.pack'));
      expect(packs.length).toBeGreaterThan(0);
      const old = (Date.now() - 2 * 3600 * 1000) / 1000;
      for (const name of readdirSync(packDir)) utimesSync(join(packDir, name), old, old);
    } finally {
      client.close();
    }
    const gone = storeGit(ws, false, ['rev-parse', `refs/shadow/runs/${ids[0]}:run0/d0/f0.txt`]);
    const kept = storeGit(ws, false, ['rev-parse', `refs/shadow/runs/${ids[1]}:run1/d0/f0.txt`]);
    const r = await ws.json<GcJson>(['gc']);
    expect(r.runsPruned).toEqual([ids[0]]);
    expect(r.objectsPruned).toBeGreaterThanOrEqual(20);
    expect(() => storeGit(ws as TestWorkspace, false, ['cat-file', '-e', gone])).toThrow();
    expect(storeGit(ws, false, ['cat-file', '-t', kept])).toBe('blob');
    expectStoreSound(ws, false);
    writeIn(ws, 'later.txt', 'later\n');
    await ws.json(['checkpoint', '-m', 'after gc']);
    expectStoreSound(ws, false);
  });
});
