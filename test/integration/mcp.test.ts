/**
 * `shadowctl mcp` end to end (issue 4 acceptance 8, seed 002): the MCP SDK's own client spawns
 * the built CLI over stdio against a real daemon; native git is the oracle for trees (S1.1).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTree } from '../helpers/gitOracle.js';
import { CLI_ENTRY } from '../helpers/shadowctl.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, readIn, writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await ws?.cleanup();
  ws = undefined;
});

/** A git workspace without auto snapshots, and an MCP client connected to `shadowctl -C ws mcp`. */
async function setup(extraEnv: Record<string, string> = {}): Promise<{ ws: TestWorkspace; mcp: Client }> {
  const w = makeTestWorkspace({ git: true });
  ws = w;
  writeIn(w, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
  writeIn(w, 'src/main.ts', 'committed\n');
  gitIn(w, ['add', '-A']);
  gitIn(w, ['commit', '-q', '-m', 'project']);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...w.env, ...extraEnv })) if (v !== undefined) env[k] = v;
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI_ENTRY, '-C', w.dir, 'mcp'], cwd: w.dir, env, stderr: 'pipe' });
  const mcp = new Client({ name: 'shadow-test', version: '0.0.0' });
  await mcp.connect(transport);
  client = mcp;
  return { ws: w, mcp };
}

/** Calls a tool and returns its result (tool errors included, not thrown). */
async function call(mcp: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await mcp.callTool({ name, arguments: args })) as CallToolResult;
}

/** The structured answer of a successful tool call. */
function ok<T = any>(r: CallToolResult): T { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (r.isError) throw new Error(`tool failed: ${JSON.stringify(r.content)}`);
  return r.structuredContent as T;
}

const tree = (w: TestWorkspace): string => nativeTree(w.dir, { repo: true, env: w.env });
const treeOf = (w: TestWorkspace, commit: string): string => gitIn(w, ['rev-parse', `${commit}^{tree}`]);

describe('shadowctl mcp (issue 4 #8, S5, S6.3, S7)', () => {
  it('lists the four tools; status names the daemon; checkpoint tree equals native git (S1.1)', async () => {
    const { ws: w, mcp } = await setup();
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['shadow_abort', 'shadow_checkpoint', 'shadow_resume_plan', 'shadow_status']);
    const abort = tools.find((t) => t.name === 'shadow_abort')!;
    expect(abort.inputSchema.properties).toHaveProperty('reason');

    const st = ok(await call(mcp, 'shadow_status'));
    expect(st.daemon.workspace).toBe(w.dir);
    expect(st.run).toBeNull();

    writeIn(w, 'src/new.ts', 'new\n');
    const cp = ok(await call(mcp, 'shadow_checkpoint', { message: 'from an agent' }));
    expect(cp).toMatchObject({ ref: 'refs/shadow/manual', run: null });
    expect(cp.tree).toBe(tree(w));
    expect(treeOf(w, cp.commit)).toBe(cp.tree);
    expect(gitIn(w, ['log', '-1', '--format=%s', cp.commit])).toBe('from an agent');
  });

  it('S5.3: shadow_abort with user_cancel puts the tree back to the run base; then NO_ACTIVE_RUN', async () => {
    const { ws: w, mcp } = await setup();
    writeIn(w, 'src/main.ts', 'user edit before the run\n');
    const started = await w.json<{ run: string; base: string }>(['start', '--name', 'agent']);
    expect(ok(await call(mcp, 'shadow_status')).run).toMatchObject({ id: started.run, status: 'running' });
    writeIn(w, 'src/main.ts', 'edited by the agent\n');
    writeIn(w, 'gen/out.ts', 'generated\n');

    const r = ok(await call(mcp, 'shadow_abort', { reason: 'user_cancel', message: 'going in circles' }));
    expect(r).toMatchObject({ run: started.run, status: 'cancelled', reason: 'user_cancel', action: 'remove_all', restoredTo: started.base });
    expect(r.removed).toEqual(['gen/out.ts']);
    expect(tree(w)).toBe(treeOf(w, started.base));
    expect(readIn(w, 'src/main.ts')).toBe('user edit before the run\n');

    const again = await call(mcp, 'shadow_abort', {});
    expect(again.isError).toBe(true);
    expect((again.structuredContent as { error: { code: string } }).error.code).toBe('NO_ACTIVE_RUN');
    expect((again.content[0] as { text: string }).text).toMatch(/^NO_ACTIVE_RUN: /);
  });

  it('S6.6: abort and checkpoint act on $SHADOW_RUN_ID when the server inherits it', async () => {
    const { ws: w, mcp } = await setup({ SHADOW_RUN_ID: 'r20000101000000-0000' });
    await w.json(['start', '--name', 'other']);
    for (const tool of ['shadow_abort', 'shadow_checkpoint']) {
      const r = await call(mcp, tool, {});
      expect(r.isError).toBe(true);
      expect((r.structuredContent as { error: { code: string } }).error.code).toBe('RUN_NOT_FOUND');
    }
    expect(ok(await call(mcp, 'shadow_status')).run.status).toBe('running');
  });

  it('S6.3: shadow_resume_plan of a cancelled run: completed, remaining, next, progress', async () => {
    const { ws: w, mcp } = await setup();
    const started = await w.json<{ run: string; base: string }>(['start', '--name', 'pipeline', '--phases', 'gen,test,ship']);
    await w.json(['phase', 'gen']);
    writeIn(w, 'out/gen.txt', 'generated\n');
    await w.json(['step', 'generate', '--artifact', 'out/gen.txt']);
    await w.json(['phase', 'test']);
    ok(await call(mcp, 'shadow_abort', { reason: 'timeout', message: 'too slow' }));

    const plan = ok(await call(mcp, 'shadow_resume_plan', { run: started.run }));
    expect(plan).toMatchObject({
      run: started.run,
      name: 'pipeline',
      status: 'cancelled',
      reason: 'timeout',
      phase: 'test',
      completed: ['gen'],
      remaining: ['test', 'ship'],
      next: 'test',
      completedSteps: ['generate'],
      progress: { phases: { completed: 1, total: 3 }, steps: { completed: 1, total: null }, percent: 33 },
    });
    expect(plan.checkpoint).toMatch(/^[0-9a-f]{40}$/);
    // The default run is the newest one: the same plan.
    expect(ok(await call(mcp, 'shadow_resume_plan'))).toEqual(plan);

    const missing = await call(mcp, 'shadow_resume_plan', { run: 'r00000000000000-0000' });
    expect(missing.isError).toBe(true);
    expect((missing.structuredContent as { error: { code: string } }).error.code).toBe('RUN_NOT_FOUND');
  });
});
