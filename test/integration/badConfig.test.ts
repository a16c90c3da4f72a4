/**
 * Issue #5, point 4: bad `shadow.config.json` files (S9) not covered by config.test.ts — a
 * directory, a non-object root, an empty file, negative numbers — fail every command fast with
 * CONFIG_INVALID naming the file (and key), the same way each time (no retry or crash loop), and
 * the next command after the fix works. Also a state folder that is not a directory.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestWorkspace } from '../helpers/testWorkspace.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';

let ws: TestWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

const CONFIG = 'shadow.config.json';

/** Three auto-starting commands in a row: each fails with the same code, exit 1, in bounded time. */
async function failsThreeTimes(w: TestWorkspace, code: string, mentions: string[]): Promise<void> {
  for (const args of [['status'], ['checkpoint'], ['status']]) {
    const started = Date.now();
    const r = await w.cli([...args, '--json'], { timeoutMs: 60_000 });
    expect(r.code, r.stdout).toBe(1); // a failure to fix: not 69 (unreachable), no retry loop
    const { error } = r.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe(code);
    for (const m of mentions) expect(error.message).toContain(m);
    // Generous (shared 2-core machine): a retry loop would hit the client's 15 s start deadline.
    expect(Date.now() - started).toBeLessThan(14_000);
  }
}

describe('issue #5 S9: bad config files fail fast and the same way every time', () => {
  it.each([
    ['a directory', (w: TestWorkspace) => mkdirSync(join(w.dir, CONFIG)), ''],
    ['JSON null', (w: TestWorkspace) => writeFileSync(join(w.dir, CONFIG), 'null'), ''],
    ['a JSON array', (w: TestWorkspace) => writeFileSync(join(w.dir, CONFIG), '[{"maxFileSize": "1KB"}]'), ''],
    ['empty', (w: TestWorkspace) => writeFileSync(join(w.dir, CONFIG), ''), ''],
    ['a negative duration', (w: TestWorkspace) => writeFileSync(join(w.dir, CONFIG), '{"autoSnapshot": {"quietPeriod": -1}}'), 'autoSnapshot.quietPeriod:'],
    ['a zero count', (w: TestWorkspace) => writeFileSync(join(w.dir, CONFIG), '{"maxLogFiles": 0}'), 'maxLogFiles:'],
    ['a null section', (w: TestWorkspace) => writeFileSync(join(w.dir, CONFIG), '{"retention": null}'), 'retention:'],
  ])('issue #5 S9: a config that is %s gives CONFIG_INVALID three times, then works once fixed', async (_what, breakIt, key) => {
    const w = makeTestWorkspace({ git: true });
    ws = w;
    breakIt(w);
    await failsThreeTimes(w, 'CONFIG_INVALID', [CONFIG, ...(key ? [key] : [])]);
    expect(existsSync(join(w.dir, '.git', 'shadow', 'daemon.lock'))).toBe(false);

    rmSync(join(w.dir, CONFIG), { recursive: true, force: true });
    writeFileSync(join(w.dir, CONFIG), '{"maxFileSize": "1MB"}\n');
    expect((await w.cli(['status', '--json'])).code).toBe(0);
  });

  it('issue #5 S1.3: a state folder that is a file gives WORKSPACE_INVALID, the same three times, then works once removed', async () => {
    const w = makeTestWorkspace({ git: false });
    ws = w;
    writeFileSync(join(w.dir, '.shadow'), 'not a folder');
    await failsThreeTimes(w, 'WORKSPACE_INVALID', ['.shadow']);
    rmSync(join(w.dir, '.shadow'));
    expect((await w.cli(['status', '--json'])).code).toBe(0);
  });

  it('issue #5 S4.4: a runs folder that is a file gives STATE_CORRUPT, the same three times, then works once removed', async () => {
    const w = makeTestWorkspace({ git: true });
    ws = w;
    mkdirSync(join(w.dir, '.git', 'shadow'), { recursive: true });
    writeFileSync(join(w.dir, '.git', 'shadow', 'runs'), 'not a folder');
    await failsThreeTimes(w, 'STATE_CORRUPT', ['runs']);
    rmSync(join(w.dir, '.git', 'shadow', 'runs'));
    expect((await w.cli(['status', '--json'])).code).toBe(0);
  });
});
