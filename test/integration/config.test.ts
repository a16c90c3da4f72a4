/**
 * `shadow.config.json` end to end (S9): a bad file stops the daemon from starting, and the CLI
 * that auto-started it says which key is wrong; good values change the daemon's behaviour
 * (`autoSnapshot.quietPeriod` S2.2, `maxFileSize` S1.8).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativeTree } from '../helpers/gitOracle.js';
import { gitIn, makeTestWorkspace } from '../helpers/testWorkspace.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

let ws: TestWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

/** Pids of daemons whose command line names `workspace` (a zombie does not count). */
function daemonsServing(workspace: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.endsWith('daemon/main.js')) && args.includes(workspace)) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function writeConfig(w: TestWorkspace, text: string): void {
  writeFileSync(join(w.dir, 'shadow.config.json'), text);
}

function stateDir(w: TestWorkspace): string {
  return existsSync(join(w.dir, '.git')) ? join(w.dir, '.git', 'shadow') : join(w.dir, '.shadow');
}

describe('S9 configuration', () => {
  it.each([
    ['a duration that is not one', '{"autoSnapshot": {"quietPeriod": "soon"}}', 'autoSnapshot.quietPeriod'],
    ['a negative size', '{"maxFileSize": -1}', 'maxFileSize'],
    ['an unknown key', '{"autoSnapshot": {"enabled": true}, "quietPeriod": "2s"}', 'quietPeriod'],
    ['a nested unknown key', '{"retention": {"keepRun": 3}}', 'retention.keepRun'],
    ['a wrong type', '{"keepPartialWork": "yes"}', 'keepPartialWork'],
  ])('S9 %s makes status fail naming the key, and no daemon stays', async (_what, text, key) => {
    ws = makeTestWorkspace({ git: true });
    writeConfig(ws, text);

    const human = await ws.cli(['status']);
    expect(human.code).toBe(1); // a failure to fix, not an unreachable daemon (69)
    expect(human.stderr).toContain('shadow.config.json');
    expect(human.stderr).toContain(`${key}:`);

    const json = await ws.cli(['status', '--json']);
    expect(json.code).not.toBe(0);
    const { error } = json.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(`${key}:`);

    expect(daemonsServing(ws.dir)).toEqual([]);
    expect(existsSync(join(stateDir(ws), 'daemon.lock'))).toBe(false);
    expect((await ws.cli(['daemon', 'status'])).code).toBe(3);
  });

  it('S9 invalid JSON makes status fail naming the file and the line, and no daemon stays', async () => {
    ws = makeTestWorkspace({ git: false });
    writeConfig(ws, '{\n  "maxFileSize": "1KB",\n  "ignore": ["*.log"\n}\n');
    const r = await ws.cli(['status', '--json']);
    expect(r.code).not.toBe(0);
    const { error } = r.json<{ error: { message: string } }>();
    expect(error.message).toMatch(/shadow\.config\.json:4:\d+: invalid JSON/);
    expect(daemonsServing(ws.dir)).toEqual([]);

    // Fixing the file is enough: the next command starts a daemon.
    writeConfig(ws, '{\n  "maxFileSize": "1KB",\n  "ignore": ["*.log"]\n}\n');
    const ok = await ws.cli(['status']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(daemonsServing(ws.dir)).toHaveLength(1);
  });

  it('S9 S1.8 maxFileSize "1KB": a 2 KB file is reported uncaptured and left out of the tree', async () => {
    ws = makeTestWorkspace({ git: true });
    writeConfig(ws, JSON.stringify({ maxFileSize: '1KB', autoSnapshot: { enabled: true, quietPeriod: '2s' } }));
    writeFileSync(join(ws.dir, 'small.txt'), 'x'.repeat(1024));
    writeFileSync(join(ws.dir, 'big.bin'), 'y'.repeat(2048));

    const cp = await ws.json<{ tree: string; commit: string; uncaptured: { path: string; reason: string }[] }>(['checkpoint']);
    expect(cp.uncaptured.map((u) => u.path)).toEqual(['big.bin']);
    const files = gitIn(ws, ['ls-tree', '-r', '--name-only', cp.commit]).split('\n');
    expect(files).toContain('small.txt');
    expect(files).toContain('shadow.config.json');
    expect(files).not.toContain('big.bin');
    // The same tree as native git's with the big file left aside.
    expect(cp.tree).toBe(treeWithout(ws, 'big.bin'));
  });

  it('S9 S2.2 autoSnapshot.quietPeriod "500ms" is honoured', async () => {
    ws = makeTestWorkspace({ git: true });
    writeConfig(ws, '{"autoSnapshot": {"quietPeriod": "500ms"}}');
    expect((await ws.cli(['daemon', 'start'])).code).toBe(0);
    let head = await waitFor(() => autoHead(ws!), 'the first auto snapshot', 15_000);

    // With the default 2 s an auto snapshot can never follow a change sooner than 2 s (timers
    // never fire early); the best of three tries must beat that, however loaded the machine.
    let best = Infinity;
    for (let i = 0; i < 3 && best >= 2000; i++) {
      const t0 = Date.now();
      writeFileSync(join(ws.dir, `change-${i}.txt`), `change ${i}\n`);
      const prev = head;
      head = await waitFor(() => {
        const h = autoHead(ws!);
        return h && h !== prev ? h : null;
      }, 'an auto snapshot of the change', 15_000);
      best = Math.min(best, Date.now() - t0);
      expect(gitIn(ws, ['rev-parse', `${head}^{tree}`])).toBe(nativeTree(ws.dir, { repo: true }));
    }
    expect(best).toBeGreaterThanOrEqual(450);
    expect(best).toBeLessThan(2000);
  });
});

/** The commit on refs/shadow/auto, or null. */
function autoHead(w: TestWorkspace): string | null {
  try {
    return gitIn(w, ['rev-parse', '--verify', '-q', 'refs/shadow/auto']) || null;
  } catch {
    return null;
  }
}

/** Native git's tree of the workspace without one path (a throwaway index, then rm --cached). */
function treeWithout(w: TestWorkspace, path: string): string {
  const index = join(w.runtimeDir, 'oracle-index');
  const env = { GIT_INDEX_FILE: index };
  gitIn(w, ['add', '-A'], env);
  gitIn(w, ['rm', '-q', '--cached', '--', path], env);
  return gitIn(w, ['write-tree'], env);
}
