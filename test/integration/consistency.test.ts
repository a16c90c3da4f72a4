/**
 * Immediate consistency (S1.4, issue #2 acceptance 5): a checkpoint requested right after a
 * write includes it, however late the watcher's events arrive. No pauses anywhere: every
 * iteration mutates the tree and checkpoints at once, and native git is the oracle.
 */
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShadowClient as ShadowClientType } from '../../client/shadowClient.js';
import { Checkpoint } from '../../shared/methods/index.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { makeTestWorkspace } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
afterEach(async () => ws?.cleanup());

/** A small deterministic PRNG so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('immediate consistency (S1.4)', () => {
  it('100 mutate-then-checkpoint rounds with no pause: every tree equals native git', async () => {
    ws = makeTestWorkspace({ git: true });
    const rand = prng(42);
    const p = (...parts: string[]) => join(ws.dir, ...parts);
    mkdirSync(p('src'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(p('src', `f${i}.txt`), `initial ${i}\n`);
    await ws.json(['checkpoint']);
    // One open connection, as an editor plugin or agent has: the request follows the writes by
    // microseconds, far sooner than the watcher's events, so only the sync cookie saves it.
    const { ShadowClient } = (await import('../../dist/client/index.js')) as unknown as { ShadowClient: typeof ShadowClientType };
    const client = await ShadowClient.connect({ workspace: ws.dir, env: { ...process.env, ...ws.env } });
    /** The first of src/f<i>.txt, src/f<i+1>.txt, … that is currently a regular file. */
    const regular = (start: number): number => {
      for (let k = 0; k < 20; k++) {
        const j = (start + k) % 20;
        if (lstatSync(p('src', `f${j}.txt`), { throwIfNoEntry: false })?.isFile()) return j;
      }
      rmSync(p('src', `f${start}.txt`), { recursive: true, force: true });
      writeFileSync(p('src', `f${start}.txt`), 'fresh\n');
      return start;
    };
    for (let round = 0; round < 100; round++) {
      const i = regular(Math.floor(rand() * 20));
      switch (round % 10) {
        case 0: // same size, same second: only the content changes (racy-git territory)
          writeFileSync(p('src', `f${i}.txt`), `INITIAL ${i}\n`.slice(0, `initial ${i}\n`.length));
          break;
        case 1: // a new directory tree, created and filled at once
          mkdirSync(p(`gen${round}`, 'a', 'b'), { recursive: true });
          for (let k = 0; k < 5; k++) writeFileSync(p(`gen${round}`, 'a', 'b', `g${k}.js`), `gen ${round} ${k}`);
          // Checkpoint, then write into the new directory at once: chokidar may not watch it yet
          // (it reads new directories behind a 1 s throttle), so only a direct scan can see this.
          await client.request(Checkpoint, {});
          writeFileSync(p(`gen${round}`, 'a', 'b', 'late.js'), 'late');
          break;
        case 2: // delete a generated directory, then recreate the same name with other content
          rmSync(p(`gen${round - 1}`), { recursive: true, force: true });
          mkdirSync(p(`gen${round - 1}`, 'a'), { recursive: true });
          writeFileSync(p(`gen${round - 1}`, 'a', 'again.txt'), 'recreated');
          break;
        case 3: // rename a directory
          renameSync(p(`gen${round - 2}`), p(`moved${round}`));
          writeFileSync(p(`moved${round}`, 'a', 'after-move.txt'), 'moved');
          break;
        case 4: // exec bit flip
          chmodSync(p('src', `f${i}.txt`), round % 20 < 10 ? 0o755 : 0o644);
          break;
        case 5: // file -> symlink
          unlinkSync(p('src', `f${i}.txt`));
          symlinkSync(`f${(i + 1) % 20}.txt`, p('src', `f${i}.txt`));
          break;
        case 6: // symlink/file -> file with new content
          rmSync(p('src', `f${i}.txt`), { force: true });
          writeFileSync(p('src', `f${i}.txt`), `rewritten ${round}\n`);
          break;
        case 7: // ignore rules change
          writeFileSync(p('.gitignore'), round % 20 < 10 ? '*.log\ngen*/\n' : '*.log\n');
          writeFileSync(p(`x${round}.log`), 'log');
          break;
        case 8: // file -> directory
          rmSync(p('src', `f${i}.txt`), { force: true });
          mkdirSync(p('src', `f${i}.txt`));
          writeFileSync(p('src', `f${i}.txt`, 'inside'), 'now a dir');
          break;
        case 9: // directory -> file, many quick edits of one file
          rmSync(p('src', `f${i}.txt`), { recursive: true, force: true });
          for (let k = 0; k < 10; k++) writeFileSync(p('src', `f${i}.txt`), `edit ${k}`);
          break;
      }
      const cp = round % 10 === 9 ? await ws.json<{ tree: string }>(['checkpoint']) : await client.request(Checkpoint, {});
      expect(cp.tree, `round ${round}`).toBe(nativeTree(ws.dir, { repo: true, env: ws.env }));
    }
    client.close();
  });
});
