/**
 * Issue #10 item 9: a cancel's cleanup of registered lock files and temp paths (S5.6) never
 * undoes the restore and never deletes what existed before the run: a path of the run's base
 * checkpoint, a path the restore brought back, an ignored file the user had. It deletes only
 * what the run provably made, and the cancel's answer and report say what was kept and why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cancel, RunRegister, RunStart } from '../../shared/methods/index.js';
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

const write = (rel: string, content: string): void => writeIn(ws, rel, content);
const read = (rel: string): string => readFileSync(join(ws.dir, rel), 'utf8');
const exists = (rel: string): boolean => existsSync(join(ws.dir, rel));

describe('#10.9 cleanup after a cancel', () => {
  it('#10.9 cleanup keeps what existed before the run and what the restore brought back; deletes only what the run made (S5.6, S5.4)', async () => {
    ws = makeTestWorkspace({ git: true });
    write('shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    write('.gitignore', '*.tmp\ncache/\n');
    write('build.lock', 'committed lock\n');
    gitIn(ws, ['add', '-A']);
    gitIn(ws, ['commit', '-q', '-m', 'project']);
    // The user's own ignored files, in no commit: a cleanup that deletes them loses them for good.
    write('cache/user-data.bin', 'the user\'s cache\n');
    write('old.tmp', 'the user\'s scratch\n');
    client = await connectClient(ws);
    const s = await client.request(RunStart, { name: 'job' });

    // The job registers its paths before making them (and some that were there already).
    await client.request(RunRegister, { tempPaths: ['cache', 'old.tmp', 'new.tmp', 'out'], lockFiles: ['build.lock', 'job.lock'] });
    write('build.lock', 'held by the job\n');
    write('job.lock', String(process.pid));
    write('cache/job-output.bin', 'made by the job\n');
    write('new.tmp', 'made by the job\n');
    write('out/a/b.txt', 'made by the job\n');
    write('old.tmp', 'the user\'s scratch, appended by the job\n');

    const dry = await client.request(Cancel, { reason: 'user_cancel', dryRun: true });
    expect(Object.keys(dry.cleanup.kept).sort()).toEqual(['build.lock', 'cache', 'cache/user-data.bin', 'old.tmp']);
    expect(exists('new.tmp') && exists('job.lock')).toBe(true); // a dry run deletes nothing

    const r = await client.request(Cancel, { reason: 'user_cancel' });
    expect(r.restoredTo).toBe(s.base);
    // The restore brought build.lock back; cleanup did not undo that.
    expect(read('build.lock')).toBe('committed lock\n');
    expect(nativeTree(ws.dir, { repo: true, env: ws.env })).toBe(gitIn(ws, ['rev-parse', `${s.base}^{tree}`]));
    // Ignored files of the user, from before the run: kept.
    expect(read('cache/user-data.bin')).toBe('the user\'s cache\n');
    expect(read('old.tmp')).toBe('the user\'s scratch, appended by the job\n');
    // What the job made: gone.
    for (const p of ['cache/job-output.bin', 'new.tmp', 'out', 'job.lock']) expect([p, exists(p)]).toEqual([p, false]);
    expect(r.cleanup.tempPaths.sort()).toEqual(['new.tmp', 'out']);
    expect(r.cleanup.lockFiles).toEqual(['job.lock']);
    expect(r.cleanup.kept).toEqual({
      'build.lock': "in the run's base checkpoint (existed before the run)",
      cache: 'holds entries that are kept',
      'cache/user-data.bin': 'existed before the run (born before it started)',
      'old.tmp': 'existed before the run (seen at registration)',
    });
    // The report says it too (S5.7).
    expect(readFileSync(r.report as string, 'utf8')).toContain('- kept `cache/user-data.bin` (existed before the run');
  });

  it('#10.9 keep_checkpoint leaves a lock file of the base in place; the run\'s own temp paths go (S5.6)', async () => {
    ws = makeTestWorkspace({ git: true });
    write('shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    write('.gitignore', 'tmp/\n');
    write('data.lock', 'from before the run\n');
    client = await connectClient(ws);
    await client.request(RunStart, {});
    write('tmp/x/part', 'scratch');
    await client.request(RunRegister, { tempPaths: ['tmp'], lockFiles: ['data.lock'] });
    const r = await client.request(Cancel, { reason: 'timeout' }); // keep_checkpoint: the tree stays
    expect(read('data.lock')).toBe('from before the run\n');
    expect(r.cleanup.kept['data.lock']).toMatch(/^in the run's base checkpoint/);
    expect(r.cleanup.kept).toEqual({ 'data.lock': expect.any(String) });
    expect(exists('tmp')).toBe(false);
    expect(r.cleanup.tempPaths).toEqual(['tmp']);
  });
});
