/**
 * Issue #10 item 12: permission bits come back exactly as captured (S1.1, S1.8). Git trees hold
 * only the exec bit, so the bits travel in Shadow's own commit trailers; a 0600 file must never
 * come back world-readable, after a cancel or after an undo, and tree parity with native git holds.
 */
import { chmodSync, lstatSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cancel, RunStart, Undo } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
let client: ShadowClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
});

const bits = (rel: string): number => lstatSync(join(ws.dir, rel)).mode & 0o777;
const tree = (): string => nativeTree(ws.dir, { repo: true, env: ws.env });
const treeOf = (commit: string): string => gitIn(ws, ['rev-parse', `${commit}^{tree}`]);
const FILES: [string, number][] = [
  ['secrets.env', 0o600],
  ['group.conf', 0o640],
  ['bin/private.sh', 0o700],
  ['plain.txt', 0o644],
];

describe('#10.12 modes restored exactly', () => {
  it('#10.12 0600, 0640 and 0700 files come back exactly after cancel and after undo (S1.8, S5.4)', async () => {
    ws = makeTestWorkspace({ git: true });
    writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    for (const [rel, mode] of FILES) writeIn(ws, rel, `${rel} before\n`, mode);
    client = await connectClient(ws);
    const s = await client.request(RunStart, { name: 'job' });
    expect(treeOf(s.base)).toBe(tree());
    // The job rewrites two files (new inodes at 0644 under the umask), deletes one, chmods one.
    rmSync(join(ws.dir, 'secrets.env'));
    writeIn(ws, 'secrets.env', 'job secrets\n', 0o644);
    writeIn(ws, 'bin/private.sh', 'job script\n');
    rmSync(join(ws.dir, 'group.conf'));
    chmodSync(join(ws.dir, 'plain.txt'), 0o600);
    writeIn(ws, 'job.txt', 'made by the job\n', 0o604);
    const during = tree();

    const r = await client.request(Cancel, { reason: 'user_cancel' });
    expect(r.restoredTo).toBe(s.base);
    expect(tree()).toBe(treeOf(s.base)); // parity with native git is unchanged
    for (const [rel, mode] of FILES) {
      expect([rel, bits(rel)]).toEqual([rel, mode]);
      expect(readFileSync(join(ws.dir, rel), 'utf8')).toBe(`${rel} before\n`);
    }
    expect(r.restored).toContain('plain.txt'); // a chmod alone is restored too, and reported

    await client.request(Undo, {});
    expect(tree()).toBe(during);
    expect(bits('secrets.env')).toBe(0o644);
    expect(bits('bin/private.sh')).toBe(0o700);
    expect(bits('plain.txt')).toBe(0o600);
    expect(bits('job.txt')).toBe(0o604);
  });

  it('#10.12 a checkpoint records only the exceptions to the most common bits (S1.5)', async () => {
    ws = makeTestWorkspace({ git: true });
    writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    for (let i = 0; i < 5; i++) writeIn(ws, `data/f${i}.txt`, `${i}\n`, 0o664);
    writeIn(ws, 'secrets.env', 'x\n', 0o600);
    writeIn(ws, 'run.sh', 'x\n', 0o775);
    client = await connectClient(ws);
    const s = await client.request(RunStart, { name: 'job' });
    const message = gitIn(ws, ['log', '-1', '--format=%B', s.base]);
    expect(message).toContain('Shadow-Perms: 664 775');
    expect(message.split('\n').filter((l) => l.startsWith('Shadow-Perm: '))).toEqual(['Shadow-Perm: 644 "shadow.config.json"', 'Shadow-Perm: 600 "secrets.env"'].sort());
  });
});
