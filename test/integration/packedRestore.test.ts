/**
 * Restore after the user's `git gc` packed every shadow object into the repository's pack beside
 * the user's history (S1.6, S1.8): blobs and trees are read from the pack one object at a time
 * (PackReader), so a restore costs what it restores, not the size of the pack. isomorphic-git
 * loads (and checks) the whole pack for every object read: with a 32 MB file in the user's
 * history that is about 0.1 s an object, minutes for this restore.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe('restore from packed objects (S1.6, S1.8)', () => {
  it('after git gc --prune=now packed the checkpoint beside a 32 MB history, restoring 1 000 edited files gives its exact tree', async () => {
    const w = (ws = makeTestWorkspace({ git: true }));
    writeIn(w, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    writeIn(w, 'assets/big.bin', randomBytes(32 * 1024 * 1024));
    gitIn(w, ['add', '-A']);
    gitIn(w, ['commit', '-q', '-m', 'user history with a large asset']);
    for (let i = 0; i < 1000; i++) writeIn(w, `d${i % 20}/f${i}.txt`, `version one of file ${i}\n${'x'.repeat(i % 300)}\n`);
    const cp = await w.json<{ commit: string; tree: string }>(['checkpoint']);
    for (let i = 0; i < 1000; i++) writeIn(w, `d${i % 20}/f${i}.txt`, `version two ${i}\n`);
    writeIn(w, 'added.txt', 'new\n');
    gitIn(w, ['gc', '-q', '--prune=now']);
    // The checkpoint's objects now live in a pack only.
    const tree = gitIn(w, ['rev-parse', `${cp.commit}^{tree}`]);
    expect(existsSync(join(w.dir, '.git/objects', tree.slice(0, 2), tree.slice(2)))).toBe(false);
    expect(readdirSync(join(w.dir, '.git/objects/pack')).some((n) => n.endsWith('.pack'))).toBe(true);

    const started = Date.now();
    const r = await w.cli(['restore', cp.commit, '--json'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const elapsed = Date.now() - started;
    expect(nativeTree(w.dir, { repo: true, env: w.env })).toBe(cp.tree);
    expect(existsSync(join(w.dir, 'added.txt'))).toBe(false);
    // A gross bound only (the machine may be loaded): whole-pack reads per object take minutes.
    expect(elapsed).toBeLessThan(30_000);
    expect(gitIn(w, ['fsck', '--full', '--no-dangling'])).toBe('');
  }, 180_000);
});
