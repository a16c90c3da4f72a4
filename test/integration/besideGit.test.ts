/**
 * Shadow beside the user's own git (S1.6, S1.2; issue #5 point 2).
 *
 * 1. Deterministic regressions: the snapshot index caches blob and tree oids; after the user's
 *    `git gc --prune=now` deleted them (they were reachable only from a checkpoint whose ref
 *    moved away), a checkpoint reusing them must write them again, not name missing objects.
 * 2. The stress scenario of scripts/besideGit.mjs, short: checkpoints and run start/cancel
 *    cycles while another loop runs gc --prune=now, pack-refs --all, commit, checkout, stash.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let ws: TestWorkspace | undefined;
let client: ShadowClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
  ws = undefined;
});

/**
 * No auto snapshots: one landing between the diff and the gc would make the pruned blob
 * reachable and hide the case, and one landing during fsck (which lists loose objects before it
 * reads the refs) would read as a "missing commit".
 */
function quiet(w: TestWorkspace): void {
  writeIn(w, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
}

/** `git fsck --full` output and status (dangling objects are expected: unreferenced checkpoints). */
function fsck(w: TestWorkspace): { code: number; out: string } {
  try {
    return { code: 0, out: gitIn(w, ['fsck', '--full', '--no-dangling', '--no-progress']) };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('beside the user git: pruned objects the index still caches (S1.6)', () => {
  it('S1.6 a checkpoint after gc --prune=now deleted cached trees and blobs rewrites them; fsck stays clean', async () => {
    ws = makeTestWorkspace({ git: true });
    quiet(ws);
    for (let i = 0; i < 5; i++) writeIn(ws, `a/sub/f${i}.txt`, `one ${i}\n`);
    writeIn(ws, 'b/keep.txt', 'unchanged\n');
    client = await connectClient(ws);
    const m1 = await client.request(Checkpoint, { message: 'first' });
    writeIn(ws, 'a/sub/f0.txt', 'two, only ever in the second checkpoint\n');
    const m2 = await client.request(Checkpoint, { message: 'second' });
    // The ref moves back (as retention rewriting a chain would): m2, its tree a/ and a/sub and
    // the blob of f0 are now unreachable, and the user's gc deletes them. The daemon's index
    // still names them: the files did not change.
    gitIn(ws, ['update-ref', 'refs/shadow/manual', m1.commit, m2.commit]);
    gitIn(ws, ['gc', '--prune=now', '--quiet']);
    expect(() => gitIn(ws as TestWorkspace, ['cat-file', '-e', `${m2.tree}`])).toThrow();

    const m3 = await client.request(Checkpoint, { message: 'third' });
    expect(m3.tree).toBe(m2.tree); // same content, same tree: written again, not re-invented
    gitIn(ws, ['cat-file', '-e', `${m3.commit}^{tree}`]);
    expect(gitIn(ws, ['show', `${m3.commit}:a/sub/f0.txt`])).toBe('two, only ever in the second checkpoint');
    expect(gitIn(ws, ['rev-list', '--objects', '--missing=print', m3.commit]).split('\n').filter((l) => l.startsWith('?'))).toEqual([]);
    expect(fsck(ws)).toEqual({ code: 0, out: '' });
  });

  it('S1.6 a blob hashed but never committed, then pruned, is written again by the next checkpoint', async () => {
    ws = makeTestWorkspace({ git: true });
    quiet(ws);
    writeIn(ws, 'x.txt', 'base\n');
    client = await connectClient(ws);
    await client.request(Checkpoint, { message: 'base' });
    writeIn(ws, 'x.txt', 'edited, hashed by diff only\n');
    // `diff` refreshes the index (hashing and writing the new blob) without committing it.
    const diff = await ws.cli(['diff', 'manual', '--json']);
    expect(diff.stdout).toContain('x.txt');
    gitIn(ws, ['gc', '--prune=now', '--quiet']);
    const c = await client.request(Checkpoint, { message: 'after gc' });
    expect(gitIn(ws, ['show', `${c.commit}:x.txt`])).toBe('edited, hashed by diff only');
    expect(fsck(ws)).toEqual({ code: 0, out: '' });
  });
});

describe('beside the user git: stress (S1.6, S1.2)', () => {
  it('S1.6 S1.2 checkpoints and cancels beside gc --prune=now, pack-refs --all, commit, checkout, stash: nothing lost, user ops succeed, fsck clean', () => {
    // The script exits 1 on failure; its JSON summary names every failure either way.
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/besideGit.mjs'), '--seconds', '12', '--seed', '7', '--json'], {
      encoding: 'utf8',
      timeout: 170_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const out = r.stdout.trim();
    expect(out, r.stderr).not.toBe('');
    const summary = JSON.parse(out.split('\n').pop() as string) as { ok: boolean; failures: string[]; checkpoints: number; runs: number; user: Record<string, number> };
    expect(summary.failures).toEqual([]);
    expect(summary.ok).toBe(true);
    expect(summary.checkpoints).toBeGreaterThan(0);
    expect(summary.runs).toBeGreaterThan(0);
    expect(summary.user.gc ?? 0).toBeGreaterThan(0);
  }, 180_000);
});
