/**
 * Load (issue #5.3, S3.2: every request gets exactly one response, its own): a small run of
 * scripts/load.mjs — the same code as the full 50 × 200 benchmark — asserting correctness and
 * liveness, never timings; and many requests pipelined on one connection, each answer matched
 * to its request through a per-request token that native git reads back from the commit.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpoint, Diff, Log, Status } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';

const SCRIPT = join(fileURLToPath(new URL('.', import.meta.url)), '../../scripts/load.mjs');

let child: ChildProcess | undefined;
let ws: TestWorkspace | undefined;
let client: ShadowClient | undefined;
afterEach(async () => {
  // The script stops its own daemon; a test that timed out must not leave the script behind.
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  client?.close();
  client = undefined;
  await ws?.cleanup();
  ws = undefined;
});

/** Runs the load script and returns its exit code and parsed --json report. */
function runScript(args: string[]): Promise<{ code: number | null; report: Record<string, any>; stderr: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [SCRIPT, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = p;
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      try {
        resolve({ code, report: JSON.parse(out) as Record<string, any>, stderr: err }); // eslint-disable-line @typescript-eslint/no-explicit-any
      } catch {
        reject(new Error(`load.mjs exited ${code} without a JSON report: ${out} ${err}`));
      }
    });
  });
}

describe('load (issue #5.3, S3.2)', () => {
  it('S3.2 S1.1 S1.4: 10 clients × 30 mixed requests with a concurrent writer: every answer correct, daemon alive', async () => {
    const { code, report, stderr } = await runScript(['--clients', '10', '--requests', '30', '--files', '300']);
    expect(report.failures, stderr).toEqual([]);
    expect(report).toMatchObject({ ok: true, requests: 300, answered: 300, errors: 0, finalTreeMatchesGit: true, fsck: 'clean' });
    expect(report.daemon.aliveAtEnd).toBe(true);
    for (const m of ['status', 'checkpoint', 'log', 'diff']) expect(report.latencyMs[m].n).toBeGreaterThan(0);
    // Every checkpoint answered is on the manual chain (plus the script's initial and final ones).
    expect(report.manualChain).toBe(report.checkpoints + 2);
    expect(code).toBe(0);
  }, 300_000);

  it('S3.2: 120 requests pipelined on one connection each get their own answer', async () => {
    ws = makeTestWorkspace({ git: true });
    writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    for (let i = 0; i < 50; i++) writeIn(ws, `src/f${i}.ts`, `file ${i}\n`);
    client = await connectClient(ws);
    const c = client;
    const first = await c.request(Checkpoint, { message: 'first' });
    const pending: Promise<unknown>[] = [];
    const asked: { kind: string; tag: number }[] = [];
    for (let i = 0; i < 120; i++) {
      const kind = (['checkpoint', 'status', 'log', 'diff'] as const)[i % 4] as string;
      asked.push({ kind, tag: i });
      if (kind === 'checkpoint') pending.push(c.request(Checkpoint, { message: `pipelined ${i}` }));
      else if (kind === 'status') pending.push(c.request(Status, {}));
      else if (kind === 'log') pending.push(c.request(Log, { n: 1 + (i % 7), ref: 'manual' }));
      else pending.push(c.request(Diff, { checkpoint: first.commit }));
    }
    const answers = await Promise.all(pending);
    answers.forEach((a, i) => {
      const { kind, tag } = asked[i] as { kind: string; tag: number };
      if (kind === 'checkpoint') {
        const r = a as { commit: string; tree: string };
        // The commit named in this answer carries this request's message: no crossed replies.
        expect(gitIn(ws as TestWorkspace, ['log', '-1', '--format=%s', r.commit])).toBe(`pipelined ${tag}`);
        expect(gitIn(ws as TestWorkspace, ['rev-parse', `${r.commit}^{tree}`])).toBe(r.tree);
      } else if (kind === 'status') expect((a as { daemon: { pid: number } }).daemon.pid).toBe(c.hello.pid);
      else if (kind === 'log') {
        // At most n entries, and at least the checkpoints sent before it (the chain may hold more).
        const n = (a as { entries: unknown[] }).entries.length;
        expect(n).toBeLessThanOrEqual(1 + (tag % 7));
        expect(n).toBeGreaterThanOrEqual(Math.min(1 + (tag % 7), 1 + Math.ceil(tag / 4)));
      }
      else expect(a).toMatchObject({ checkpoint: first.commit, added: [], modified: [], deleted: [] });
    });
    // The manual chain holds every pipelined checkpoint exactly once (no lost or doubled ref update).
    const subjects = gitIn(ws, ['log', '--first-parent', '--format=%s', 'refs/shadow/manual']).split('\n');
    expect(subjects.pop()).toBe('first');
    expect(subjects.sort()).toEqual(asked.filter((q) => q.kind === 'checkpoint').map((q) => `pipelined ${q.tag}`).sort());
    expect((await c.request(Checkpoint, {})).tree).toBe(nativeTree(ws.dir, { repo: true, env: ws.env }));
  }, 120_000);
});
