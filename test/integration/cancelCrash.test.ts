/**
 * Crash safety and speed of cancels (S2.5, S5.9). A SIGKILL at varied instants of a cancel that
 * restores 3 000 files: the next daemon completes the journaled restore before serving, the
 * tree equals the target or the pre-abort state exactly, and undo still works. The latency of
 * a typical cancel is in cancelLatency.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Cancel, CancellationLog, RunGet, RunStart, Undo } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { fillData, gitIn, makeTestWorkspace } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

const DAEMON_ENTRY = fileURLToPath(new URL('../../dist/daemon/main.js', import.meta.url));

let ws: TestWorkspace;
let client: ShadowClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
});

const tree = (): string => nativeTree(ws.dir, { repo: true, env: ws.env });
const treeOf = (commit: string): string => gitIn(ws, ['rev-parse', `${commit}^{tree}`]);
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Files spread over 50 directories of `data/`, each holding `tag` (testWorkspace.ts). */
const fill = (count: number, tag: string, from = 0): void => fillData(ws, count, tag, from);

describe('crash safety (S2.5)', () => {
  it('SIGKILL in the middle of a 3 000-file cancel restore: the next start completes it; tree = target or pre-abort; undo works', async () => {
    ws = makeTestWorkspace({ git: true });
    writeFileSync(join(ws.dir, 'shadow.config.json'), JSON.stringify({ autoSnapshot: { enabled: false } }));
    fill(3000, 'v0');
    client = await connectClient(ws);
    const journal = join(ws.dir, '.git', 'shadow', 'journal.json');
    // Kill points: at once, as soon as the journal exists, and a little and a lot later.
    // `killRecovery`: the daemon that starts next is itself killed while it recovers.
    const plans: { afterJournal: boolean; delayMs: number; killRecovery?: boolean }[] = [
      { afterJournal: true, delayMs: 0 },
      { afterJournal: false, delayMs: 0 },
      { afterJournal: true, delayMs: 40 },
      { afterJournal: true, delayMs: 120, killRecovery: true },
      { afterJournal: true, delayMs: 250 },
    ];
    let midRestoreKills = 0;
    for (const [round, plan] of plans.entries()) {
      const s = await client.request(RunStart, { name: `crash-${round}` });
      fill(3000, `v${round + 1}`); // every file differs from the base: the restore rewrites all of them
      fill(200, 'new', 3000); // and 200 new ones to remove
      const during = tree();
      const pid = client.hello.pid;
      const cancel = client.request(Cancel, {}).catch(() => null);
      if (plan.afterJournal) await waitFor(() => existsSync(journal), 'the journal', 20_000, 1);
      if (plan.delayMs) await new Promise((r) => setTimeout(r, plan.delayMs)); // the instant of the kill is the point here
      const inJournal = existsSync(journal);
      process.kill(pid, 'SIGKILL');
      await cancel;
      await waitFor(() => !alive(pid), 'the daemon to die');
      // How far the restore got when it died: files already back at v0, files still at the run's version.
      let back = 0;
      for (let i = 0; i < 3000; i++) if (readFileSync(join(ws.dir, 'data', `d${i % 50}`, `f${i}.txt`), 'utf8').startsWith('v0 ')) back++;
      if (existsSync(journal) && back > 0 && back < 3000) midRestoreKills++;
      client.close();
      if (plan.killRecovery && existsSync(journal)) {
        const env: NodeJS.ProcessEnv = { ...process.env, ...ws.env };
        delete env.NODE_OPTIONS;
        const d = spawn(process.execPath, [DAEMON_ENTRY, '-C', ws.dir], { env, stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 300)); // somewhere in its start-up scan or its recovery
        d.kill('SIGKILL');
        await new Promise((r) => d.once('exit', r));
      }

      client = await connectClient(ws); // a new daemon: it completes any journaled restore before answering
      expect(existsSync(journal), `round ${round}: journal left`).toBe(false);
      const now = tree();
      const run = (await client.request(RunGet, { run: s.run })).run;
      expect([treeOf(s.base), during], `round ${round}: tree is neither target nor pre-abort`).toContain(now);
      // Back at the target: the cancel was completed (or had just ended when the kill came);
      // at the pre-abort state: the run was interrupted before any file moved.
      expect(now === during ? ['interrupted'] : ['cancelled', 'interrupted'], `round ${round}`).toContain(run.status);
      // A cancel completed by the next daemon still gets its report and its log line (S5.7, S5.8).
      if (run.status === 'cancelled') {
        expect(existsSync(run.report as string)).toBe(true);
        expect((await client.request(CancellationLog, { run: s.run })).entries).toHaveLength(1);
      }
      console.log(`round ${round}: killed ${inJournal ? `with the journal written, ${back}/3000 files restored` : 'before the journal'}${plan.killRecovery ? ', then during recovery' : ''}; tree = ${now === during ? 'pre-abort' : 'target'}; run ${run.status}`);
      if (run.preAbort) {
        expect(treeOf(run.preAbort)).toBe(during);
        await client.request(Undo, {});
        expect(tree(), `round ${round}: undo`).toBe(during);
      }
      // Leave the tree at a known state for the next round: the v0 files, nothing new.
      fill(3000, 'v0');
      for (let i = 3000; i < 3200; i++) rmSync(join(ws.dir, 'data', `d${i % 50}`, `f${i}.txt`), { force: true });
    }
    // At least one kill must have landed with the tree half restored, or this test proved nothing.
    expect(midRestoreKills).toBeGreaterThan(0);
  }, 180_000);
});
