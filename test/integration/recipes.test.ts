/**
 * The README's "Recipes" section, run command for command (issue #4 acceptance 9): the blocks
 * are read from README.md by their `<!-- recipe: NAME -->` / `<!-- recipe-file: NAME -->`
 * markers, so the docs and this test cannot drift apart. Commands run through /bin/sh in the
 * workspace with `shadowctl` on PATH; native git is the oracle for every outcome.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { git, nativeTree } from '../helpers/gitOracle.js';
import { CLI_ENTRY } from '../helpers/shadowctl.js';
import { makeTempDir } from '../helpers/tempDir.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, readIn, writeIn } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** The body of the code block right after `<!-- KIND: NAME -->` in the README. */
function block(kind: 'recipe' | 'recipe-file', name: string): string {
  const m = new RegExp(`<!-- ${kind}: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!m?.[1]) throw new Error(`README.md has no block marked ${kind}: ${name}`);
  return m[1];
}

let ws: TestWorkspace | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
  for (const c of cleanups.splice(0)) c();
});

/** A directory holding a `shadowctl` wrapper for the built CLI, to put first on PATH. */
function shadowctlBin(): string {
  const { dir, cleanup } = makeTempDir('shadow-bin-');
  cleanups.push(cleanup);
  // exec, so a signal sent to the shell's pid reaches shadowctl itself.
  writeFileSync(join(dir, 'shadowctl'), `#!/bin/sh\nexec '${process.execPath}' '${CLI_ENTRY}' "$@"\n`);
  chmodSync(join(dir, 'shadowctl'), 0o755);
  return dir;
}

/** A git workspace whose shell environment finds `shadowctl` on PATH. */
function setup(): { w: TestWorkspace; env: NodeJS.ProcessEnv } {
  const w = makeTestWorkspace({ git: true });
  ws = w;
  const env: NodeJS.ProcessEnv = { ...process.env, ...w.env, NO_COLOR: '1', PATH: `${shadowctlBin()}:${process.env.PATH ?? ''}` };
  delete env.NODE_OPTIONS; // vitest's loader flags must not leak into the CLI
  delete env.SHADOW_RUN_ID;
  return { w, env };
}

/** Outcome of a shell script. */
interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts `script` with /bin/sh in the workspace; `done` settles when it exits. */
function shStart(w: TestWorkspace, env: NodeJS.ProcessEnv, script: string): { child: ChildProcess; done: Promise<ShResult> } {
  const child = spawn('/bin/sh', ['-c', script], { cwd: w.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<ShResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code: code ?? 128 + (signal === 'SIGTERM' ? 15 : 9), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
  return { child, done };
}

/** Runs `script` with /bin/sh in the workspace and waits for it. */
function sh(w: TestWorkspace, env: NodeJS.ProcessEnv, script: string): Promise<ShResult> {
  return shStart(w, env, script).done;
}

/** Writes a README file block into the workspace as an executable script. */
function writeScript(w: TestWorkspace, name: string): void {
  writeIn(w, name, block('recipe-file', name), 0o755);
}

/** The run id in shadowctl run's summary line. */
function runIdOf(stderr: string): string {
  const m = /\b(r\d{14}-[0-9a-f]+)\b/.exec(stderr);
  if (!m?.[1]) throw new Error(`no run id in: ${stderr}`);
  return m[1];
}

/** The run's persisted record, read from the state folder. */
function runRecord(w: TestWorkspace, run: string): { status: string; reason: string | null; message?: string | null } {
  return JSON.parse(readFileSync(join(w.dir, '.git', 'shadow', 'runs', `${run}.json`), 'utf8')) as never;
}

/** Native git's tree of the workspace now (S1.1). */
function treeNow(w: TestWorkspace): string {
  return nativeTree(w.dir, { repo: true, env: w.env });
}

describe('README recipes (issue #4 acceptance 9)', () => {
  it('wrap a code generator (S4, S5): failure rolls back and passes its exit code; success keeps the output', async () => {
    const { w, env } = setup();
    writeIn(w, 'src/api.ts', 'export const v = 1;\n');
    writeIn(w, 'notes.txt', 'uncommitted work from before the run\n');
    // The generator: rewrites src/api.ts, adds src/gen/, deletes notes.txt; exits 3 when asked to fail.
    writeIn(w, 'codegen.sh', '#!/bin/sh\nmkdir -p src/gen\necho "export const gen = 1;" > src/gen/a.ts\necho "export const v = 2;" > src/api.ts\nrm notes.txt\n[ -z "$CODEGEN_FAIL" ] || exit 3\n', 0o755);
    const cmd = block('recipe', 'codegen');
    const before = treeNow(w);

    const failed = await sh(w, { ...env, CODEGEN_FAIL: '1' }, cmd);
    expect(failed.code, failed.stderr).toBe(3);
    expect(treeNow(w)).toBe(before);
    expect(existsSync(join(w.dir, 'src', 'gen'))).toBe(false);
    expect(runRecord(w, runIdOf(failed.stderr))).toMatchObject({ status: 'failed', reason: 'error' });

    const ok = await sh(w, env, cmd);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readIn(w, 'src/gen/a.ts')).toBe('export const gen = 1;\n');
    expect(existsSync(join(w.dir, 'notes.txt'))).toBe(false);
    const run = runIdOf(ok.stderr);
    expect(runRecord(w, run).status).toBe('completed');
    // The final checkpoint holds exactly the generator's output.
    expect(gitIn(w, ['rev-parse', `refs/shadow/runs/${run}^{tree}`])).toBe(treeNow(w));
  });

  it('let an agent abort itself (S5.1): the abort file cancels the run for review, files kept, message logged', async () => {
    const { w, env } = setup();
    writeScript(w, 'agent.sh');
    const r = await sh(w, env, block('recipe', 'agent'));
    expect(r.code, r.stderr).toBe(143);
    const run = runIdOf(r.stderr);
    expect(runRecord(w, run)).toMatchObject({ status: 'cancelled', reason: 'quality_failure' });
    // keep_for_review: nothing touched, the agent's work is still there for a human to judge.
    expect(readIn(w, 'feature.txt')).toBe('half-done refactor\n');
    expect(existsSync(join(w.dir, '.shadow-abort'))).toBe(false);
    expect(git(w.dir, ['status', '--porcelain', '--', 'feature.txt'], w.env)).toBe('?? feature.txt');

    const review = await sh(w, env, block('recipe', 'agent-review'));
    expect(review.code, review.stderr).toBe(0);
    expect(review.stdout).toContain('A feature.txt');
    const cancels = JSON.parse(review.stdout.slice(review.stdout.indexOf('{"entries"'))) as { entries: Record<string, unknown>[] };
    expect(cancels.entries).toHaveLength(1); // -n 1
    expect(cancels.entries[0]).toMatchObject({ run, reason: 'quality_failure', trigger: 'abort_file', action: 'keep_for_review' });
    expect(cancels.entries[0]?.message).toContain('tests failed: 3 of 120');
  });

  /**
   * Runs the pipeline recipe until it is interrupted inside build (SIGTERM, or the README's
   * `--timeout 1h` shortened to 3 s), then its resume block; checks fetch ran exactly once.
   */
  async function pipelineRecipe(interrupt: 'sigterm' | 'timeout'): Promise<void> {
    const { w, env } = setup();
    writeScript(w, 'pipeline.sh');
    // Each step appends its name to trace.txt; build hangs on the first attempt until interrupted.
    for (const p of ['fetch', 'build', 'publish']) {
      const hang = p === 'build' ? '[ -z "$BUILD_HANGS" ] || exec sleep 60\n' : '';
      writeIn(w, `steps/${p}.sh`, `#!/bin/sh\necho ${p} >> trace.txt\n${hang}echo ${p} > ${p}.out\n`, 0o755);
    }
    let start = block('recipe', 'pipeline-start').trim();
    if (interrupt === 'timeout') {
      expect(start).toContain('--timeout 1h');
      start = start.replace('--timeout 1h', '--timeout 3s'); // long enough to reach build under load
    }
    // `exec`: a signal goes to shadowctl run itself, as from a service manager or `kill`.
    const first = shStart(w, { ...env, BUILD_HANGS: '1' }, `exec ${start}`);
    await waitFor(() => existsSync(join(w.dir, 'trace.txt')) && readIn(w, 'trace.txt').includes('build'), 'the build phase');
    if (interrupt === 'sigterm') first.child.kill('SIGTERM');
    const interrupted = await first.done;
    expect(interrupted.code, interrupted.stderr).toBe(interrupt === 'sigterm' ? 143 : 124);
    const run = runIdOf(interrupted.stderr);
    expect(runRecord(w, run).reason).toBe(interrupt === 'sigterm' ? 'shutdown' : 'timeout');
    const checkpoint = gitIn(w, ['rev-parse', `refs/shadow/runs/${run}`]);
    expect(gitIn(w, ['show', `${checkpoint}:trace.txt`])).toBe('fetch\nbuild');

    const resumed = await sh(w, env, block('recipe', 'pipeline-resume'));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(run); // resume --list named it
    expect(readIn(w, 'trace.txt')).toBe('fetch\nbuild\nbuild\npublish\n'); // fetch ran once
    expect(['fetch.out', 'build.out', 'publish.out'].every((f) => existsSync(join(w.dir, f)))).toBe(true);
    expect(runRecord(w, run).status).toBe('completed');
    expect(gitIn(w, ['rev-parse', `refs/shadow/runs/${run}^{tree}`])).toBe(treeNow(w));
  }

  it('resume a pipeline (S6): interrupted by SIGTERM (143), `run --resume` finishes only the remaining phases', async () => {
    await pipelineRecipe('sigterm');
  });

  it('resume a pipeline (S6): past its --timeout (124), `run --resume` finishes only the remaining phases', async () => {
    await pipelineRecipe('timeout');
  });

  it('recover from a bad git checkout (S8, S3): the last auto snapshot before it brings the work back', async () => {
    const { w, env } = setup();
    writeIn(w, 'notes.txt', 'committed\n');
    gitIn(w, ['add', 'notes.txt']);
    gitIn(w, ['commit', '-q', '-m', 'notes']);
    gitIn(w, ['branch', 'other-branch']);
    const hooks = await sh(w, env, block('recipe', 'hooks'));
    expect(hooks.code, hooks.stderr).toBe(0);

    writeIn(w, 'notes.txt', 'committed\nprecious uncommitted edits\n');
    const edited = treeNow(w);
    // The daemon's auto snapshot (2 s of quiet) captures the edit.
    await waitFor(async () => (await w.json<{ entries: { tree: string }[] }>(['log', '--ref', 'auto', '-n', '1'])).entries[0]?.tree === edited, 'the auto snapshot of the edit', 15_000, 100);

    gitIn(w, ['checkout', '-q', '-f', 'other-branch']);
    expect(readIn(w, 'notes.txt')).toBe('committed\n');
    // The post-checkout hook's checkpoint, taken after git changed the files: not the lost work.
    const after = await waitFor(async () => {
      const log = await w.json<{ entries: { subject: string; tree: string }[] }>(['log', '-n', '5']);
      return log.entries.find((e) => e.subject === 'after git checkout');
    }, 'the after-git-checkout checkpoint');
    expect(after.tree).not.toBe(edited);
    // The auto snapshot 2 s after the checkout (the tree now) tops the auto list, as the README warns.
    const now = treeNow(w);
    await waitFor(async () => (await w.json<{ entries: { tree: string }[] }>(['log', '--ref', 'auto', '-n', '1'])).entries[0]?.tree === now, 'the auto snapshot after the checkout', 15_000, 100);

    // The README's rule: among the auto snapshots, newest first, the first whose diff shows M notes.txt.
    const { entries } = await w.json<{ entries: { commit: string; tree: string }[] }>(['log', '--ref', 'auto', '-n', '3']);
    let found: { commit: string; tree: string } | undefined;
    for (const e of entries) {
      const d = await w.json<{ modified: string[] }>(['diff', e.commit]);
      if (d.modified.includes('notes.txt')) {
        found = e;
        break;
      }
    }
    expect(found?.tree).toBe(edited); // the oracle agrees: it holds exactly the lost edits

    // The README's commands, with its placeholder commit replaced by the one found above.
    const script = block('recipe', 'recover').replaceAll('1a2b3c4', found?.commit.slice(0, 7) ?? 'missing');
    const r = await sh(w, env, script);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('auto snapshot');
    expect(r.stdout).toMatch(/^M notes\.txt$/m);
    expect(readIn(w, 'notes.txt')).toBe('committed\nprecious uncommitted edits\n');
    expect(treeNow(w)).toBe(edited);
    expect(gitIn(w, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('other-branch');
    expect(gitIn(w, ['hash-object', 'notes.txt'])).toBe(gitIn(w, ['rev-parse', `${found?.commit}:notes.txt`]));
  });
});
