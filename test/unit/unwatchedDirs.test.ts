/**
 * Regression (issue #5.3 load test, S1.1/S1.4): chokidar can miss a new directory for good —
 * its 1 s readdir throttle forgets the events that arrive while a busy event loop holds a read
 * past it — and the engine re-read only the unwatched directories its index knew. A directory
 * that was empty when read is in no index, so every file created in it later was missing from
 * every checkpoint (the load test saw whole `new/dN/` directories absent from the final tree).
 * Here the miss is simulated on a real engine: `late/` is never watched and its events never come.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/loadConfig.js';
import { loadWorkspaceIgnoreRules } from '../../daemon/store/ignoreRules.js';
import { REFS, SnapshotEngine } from '../../daemon/store/snapshotEngine.js';
import { ensureStateDirs, resolveWorkspaceLayout } from '../../daemon/workspaceLayout.js';
import { nativeTree } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

let engine: SnapshotEngine | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  cleanup?.();
});

const missed = (p: string): boolean => p === 'late' || p.startsWith('late/');

/** A real engine on a plain directory whose watcher never watches `late/` (as chokidar can miss it). */
async function setup(): Promise<{ dir: string; commit: () => Promise<string> }> {
  const tmp = makeTempDir('shadow-unwatched-');
  cleanup = tmp.cleanup;
  const dir = tmp.dir;
  writeFileSync(join(dir, 'shadow.config.json'), JSON.stringify({ autoSnapshot: { enabled: false } }));
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  const layout = resolveWorkspaceLayout(dir);
  ensureStateDirs(layout);
  const config = loadConfig(dir);
  const ignore = loadWorkspaceIgnoreRules({ root: dir, gitDir: layout.userGitDir, stateDirRel: layout.stateDirRel, configIgnore: config.ignore });
  let ready = false;
  const note = (_obj: object, msg: string): void => {
    if (msg === 'watcher ready') ready = true;
  };
  const logger = { info: note, warn: note, error: note, debug: note };
  const e = new SnapshotEngine({ layout, config, ignore, logger });
  engine = e;
  await e.start();
  await waitFor(() => ready, 'watcher ready', 30_000);
  // The simulated miss: `late/` is never watched, so nothing inside it is ever reported; its own
  // creation is (the event comes from the root's watch).
  const w = e.watcher;
  const isWatched = w.isWatched.bind(w);
  w.isWatched = (d: string) => !missed(d) && isWatched(d);
  const drain = w.drain.bind(w);
  w.drain = () => {
    const d = drain();
    for (const p of [...d.paths]) if (p !== 'late' && missed(p)) d.paths.delete(p);
    for (const p of [...d.dirs]) if (missed(p)) d.dirs.delete(p);
    return d;
  };
  const commit = async (): Promise<string> => (await e.exclusive(() => e.commitWorkingTree(REFS.manual, 'test', { kind: 'checkpoint' }))).tree;
  await commit();
  return { dir, commit };
}

describe('directories chokidar never watches (issue #5.3, S1.1, S1.4)', () => {
  it('S1.4: files created later in an unwatched directory that was empty when read are captured', async () => {
    const { dir, commit } = await setup();
    const oracle = (): string => nativeTree(dir, { repo: false });

    mkdirSync(join(dir, 'late'));
    expect(await commit()).toBe(oracle()); // empty: in no tree, and so in no index

    writeFileSync(join(dir, 'late/f.txt'), 'f\n');
    expect(await commit()).toBe(oracle());

    mkdirSync(join(dir, 'late/sub'));
    expect(await commit()).toBe(oracle());
    writeFileSync(join(dir, 'late/sub/g.txt'), 'g\n');
    expect(await commit()).toBe(oracle());

    // Emptied (the index forgets it), then filled again.
    rmSync(join(dir, 'late/f.txt'));
    rmSync(join(dir, 'late/sub/g.txt'));
    expect(await commit()).toBe(oracle());
    writeFileSync(join(dir, 'late/h.txt'), 'h\n');
    writeFileSync(join(dir, 'late/sub/i.txt'), 'i\n');
    expect(await commit()).toBe(oracle());

    // Gone: no longer re-read (and nothing left of it in the tree).
    rmSync(join(dir, 'late'), { recursive: true });
    expect(await commit()).toBe(oracle());
  }, 60_000);
});
