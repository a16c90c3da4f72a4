/**
 * A SIGKILL between a restore's temp file and its rename (fault point restore.temp-written,
 * docs/RELIABILITY.md) during a restore of chosen paths (S2.5, S1.8): the next daemon completes
 * the restore from its journal, and no `.shadow-tmp-*` file is left beside the restored file —
 * a partial restore's replay only looks at its own paths, so the temp file (a sibling) would
 * otherwise stay in the tree and in every later checkpoint.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShadowClient as ShadowClientType } from '../../client/shadowClient.js';
import { Checkpoint, Restore, Shutdown } from '../../shared/methods/index.js';
import { connectClient } from '../helpers/connectClient.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let ws: TestWorkspace;
let client: ShadowClientType | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A daemon started with SHADOW_FAULT_KILL_AT=`spec` (none may be running). */
async function armedClient(spec: string): Promise<ShadowClientType> {
  const { ShadowClient } = (await import('../../dist/client/index.js')) as unknown as { ShadowClient: typeof ShadowClientType };
  const env: NodeJS.ProcessEnv = { ...process.env, ...ws.env, SHADOW_FAULT_KILL_AT: spec };
  delete env.NODE_OPTIONS;
  return ShadowClient.connect({ workspace: ws.dir, env });
}

describe('kill inside a partial restore (S2.5)', () => {
  it('S2.5 S1.8 killed between temp file and rename: the replay completes it and leaves no .shadow-tmp-* file', async () => {
    ws = makeTestWorkspace({ git: true });
    writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    writeIn(ws, 'a/x.txt', 'x v0\n');
    writeIn(ws, 'a/y.txt', 'y v0\n');
    client = await connectClient(ws);
    const { commit } = await client.request(Checkpoint, {});
    writeIn(ws, 'a/x.txt', 'x v1\n');
    writeIn(ws, 'a/y.txt', 'y v1\n');
    const pid = client.hello.pid;
    await client.request(Shutdown, {});
    client.close();
    await waitFor(() => !alive(pid), 'the daemon to stop', 30_000);

    client = await armedClient('restore.temp-written');
    const armed = client.hello.pid;
    const err = await client.request(Restore, { checkpoint: commit, paths: ['a/x.txt'] }).then(
      () => null,
      (e: { code: string }) => e,
    );
    expect(err?.code).toBe('CONNECTION_CLOSED');
    await waitFor(() => !alive(armed), 'the armed daemon to die', 30_000);
    client.close();
    expect(readdirSync(join(ws.dir, 'a')).some((n) => n.startsWith('.shadow-tmp-'))).toBe(true); // the window was hit

    client = await connectClient(ws); // completes the journaled restore before answering
    expect(existsSync(join(ws.dir, '.git', 'shadow', 'journal.json'))).toBe(false);
    expect(readFileSync(join(ws.dir, 'a/x.txt'), 'utf8')).toBe('x v0\n');
    expect(readFileSync(join(ws.dir, 'a/y.txt'), 'utf8')).toBe('y v1\n');
    expect(readdirSync(join(ws.dir, 'a')).sort()).toEqual(['x.txt', 'y.txt']);
  }, 120_000);
});
