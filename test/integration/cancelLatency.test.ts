/**
 * The latency of a typical cancel (S5.9): 100 edits and 50 new files in a 5 000-file tree. It
 * runs in the `alone` vitest project (vitest.config.ts): with other work on the 2 cores the
 * daemon's own measure tripled (502 ms beside two busy loops, about 160 ms alone).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cancel, RunStart } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { fillData, gitIn, makeTestWorkspace } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
let client: ShadowClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
});

const tree = (): string => nativeTree(ws.dir, { repo: true, env: ws.env });
const treeOf = (commit: string): string => gitIn(ws, ['rev-parse', `${commit}^{tree}`]);

/** Files spread over 50 directories of `data/`, each holding `tag` (testWorkspace.ts). */
const fill = (count: number, tag: string, from = 0): void => fillData(ws, count, tag, from);

describe('latency (S5.9)', () => {
  it('a cancel of 100 edits and 50 new files in a 5 000-file tree answers well under 500 ms', async () => {
    ws = makeTestWorkspace({ git: true });
    writeFileSync(join(ws.dir, 'shadow.config.json'), JSON.stringify({ autoSnapshot: { enabled: false } }));
    fill(5000, 'base');
    client = await connectClient(ws);
    const times: number[] = [];
    for (let round = 0; round < 5; round++) {
      const s = await client.request(RunStart, {});
      for (let i = 0; i < 100; i++) writeFileSync(join(ws.dir, 'data', `d${(i * 7) % 50}`, `f${i * 7}.txt`), `edited ${round} ${i}\n`);
      for (let i = 0; i < 50; i++) writeFileSync(join(ws.dir, 'data', `d${i}`, `new${i}.txt`), `new ${i}\n`);
      const t0 = performance.now();
      const r = await client.request(Cancel, {});
      times.push(performance.now() - t0);
      expect(r.restored.length).toBe(100);
      expect(r.removed.length).toBe(50);
      expect(tree()).toBe(treeOf(s.base));
    }
    times.sort((a, b) => a - b);
    // The daemon's own measure (request handled → answer), from its log: the rest is the client and the socket.
    const daemonMs = readFileSync(join(ws.dir, '.git', 'shadow', 'logs', 'daemon.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"run cancelled"'))
      .map((l) => (JSON.parse(l) as { ms: number }).ms)
      .sort((a, b) => a - b);
    console.log(`cancel latency (100 edited + 50 new in 5 000 files), client ms: ${times.map((t) => t.toFixed(0)).join(', ')}; daemon ms: ${daemonMs.join(', ')}`);
    // S5.9's bound, on the median, daemon-side. Alone on this 2-core machine the medians are about
    // 165 ms (daemon) and 230 ms (client); the client-side figure, which adds the event-loop lag of
    // the watcher re-reading the 50 directories just written, gets a looser sanity bound here (the
    // benchmark measures it properly).
    expect(daemonMs[2]).toBeLessThan(500);
    expect(times[2]).toBeLessThan(1000);
  }, 120_000);
});
