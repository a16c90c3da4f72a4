/**
 * inotify exhaustion (issue #5, S1.4, S2.2): when the daemon runs out of inotify watches (ENOSPC)
 * or instances (EMFILE), at start-up or later as directories appear, it says so once in its log
 * with the sysctl to raise, `status` shows the `scanning` backend, every checkpoint still equals
 * native git's tree and auto snapshots keep coming by polling.
 *
 * Real limits, no mocks: the built daemon runs in a fresh user namespace whose per-namespace
 * limit (/proc/sys/user/max_inotify_watches, max_inotify_instances) is lowered. The limit is
 * charged to that namespace only, so the rest of the machine (other tests) is not affected.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShadowClient as ShadowClientType } from '../../client/shadowClient.js';
import type { ResultOf } from '../../shared/defineMethod.js';
import { Checkpoint, Status } from '../../shared/methods/index.js';
import { nativeTree } from '../helpers/gitOracle.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';
import { waitFor } from '../helpers/waitFor.js';

const DAEMON_ENTRY = fileURLToPath(new URL('../../dist/daemon/main.js', import.meta.url));
const QUIET = '300ms';

/** Why a user namespace with its own inotify limits cannot be made here, or null when it can. */
function namespaceUnavailable(): string | null {
  try {
    execFileSync('unshare', ['--user', '--map-root-user', 'sh', '-c', 'echo 7 > /proc/sys/user/max_inotify_watches && test "$(cat /proc/sys/user/max_inotify_watches)" = 7'], { stdio: 'ignore' });
    return null;
  } catch (err) {
    return `unshare --user --map-root-user with a writable /proc/sys/user/max_inotify_watches is unavailable: ${String(err)}`;
  }
}
const unavailable = namespaceUnavailable();
if (unavailable) console.warn(`inotifyLimit.test.ts skipped: ${unavailable}`);

let ws: TestWorkspace | undefined;
let daemon: ChildProcess | undefined;
let client: ShadowClientType | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
  ws = undefined;
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  daemon = undefined;
});

/** Starts the built daemon in a new user namespace whose inotify limits are `limits`, and connects. */
async function startLimitedDaemon(w: TestWorkspace, limits: { watches?: number; instances?: number }): Promise<ShadowClientType> {
  const sets = [
    limits.watches === undefined ? '' : `echo ${limits.watches} > /proc/sys/user/max_inotify_watches && `,
    limits.instances === undefined ? '' : `echo ${limits.instances} > /proc/sys/user/max_inotify_instances && `,
  ].join('');
  // `$0 "$@"`: the node binary and its arguments pass through the shell unquoted-safe.
  daemon = spawn('unshare', ['--user', '--map-root-user', 'sh', '-c', `${sets}exec "$0" "$@"`, process.execPath, DAEMON_ENTRY, '-C', w.dir], {
    env: { ...process.env, ...w.env },
    stdio: 'ignore',
  });
  const { ShadowClient } = (await import('../../dist/client/index.js')) as unknown as { ShadowClient: typeof ShadowClientType };
  // Never auto-start: a second daemon outside the namespace would not be limited.
  return waitFor(
    () => ShadowClient.connect({ workspace: w.dir, env: { ...process.env, ...w.env }, autoStart: false }).catch(() => null),
    'the namespaced daemon to answer',
    30_000,
    100,
  );
}

/** Everything in the daemon's log files. */
function logText(w: TestWorkspace): string {
  const dir = join(w.dir, '.git', 'shadow', 'logs');
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

/** The daemon log's lines (pino JSON) that are the inotify-limit warning. */
function limitWarnings(w: TestWorkspace): { level: number; msg: string; code: string }[] {
  return logText(w)
    .split('\n')
    .filter((l) => l.includes('inotify limit reached'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; code: string });
}

/** Makes a repository workspace with `dirs` directories of two files each and a short quiet period. */
function workspaceWithDirs(dirs: number): TestWorkspace {
  const w = makeTestWorkspace({ git: true });
  writeFileSync(join(w.dir, 'shadow.config.json'), JSON.stringify({ autoSnapshot: { enabled: true, quietPeriod: QUIET } }));
  for (let i = 0; i < dirs; i++) {
    writeIn(w, `src/d${i}/a.txt`, `a ${i}\n`);
    writeIn(w, `src/d${i}/b.txt`, `b ${i}\n`);
  }
  return w;
}

const treeNow = (w: TestWorkspace): string => nativeTree(w.dir, { repo: true, env: w.env });
const autoTree = (w: TestWorkspace): string | null => {
  try {
    return gitIn(w, ['rev-parse', '-q', '--verify', 'refs/shadow/auto^{tree}']);
  } catch {
    return null;
  }
};
const status = (c: ShadowClientType): Promise<ResultOf<typeof Status>> => c.request(Status, {});

/** Edits only an unwatchable directory can see: proves a checkpoint and an auto snapshot do not depend on events. */
async function expectScanningCapturesEverything(w: TestWorkspace, c: ShadowClientType, tag: string): Promise<void> {
  // Edits everywhere: existing files, a deletion, a deep new tree (its directories cannot be watched).
  writeIn(w, 'src/d0/a.txt', `changed ${tag}\n`);
  writeIn(w, `src/d3/new-${tag}.txt`, 'new\n');
  execFileSync('rm', [join(w.dir, 'src/d1/b.txt')]);
  writeIn(w, `deep-${tag}/x/y/z/w/leaf.txt`, `leaf ${tag}\n`);
  writeIn(w, `src/d2/sub-${tag}/q/file.bin`, Buffer.from([0, 1, 2, 3]));
  const cp = await c.request(Checkpoint, { message: `after edits ${tag}` });
  expect(cp.rescanned).toBe(true);
  expect(cp.tree).toBe(treeNow(w));

  // An auto snapshot with no request: only polling can see an edit inside a directory created
  // after the limit was reached (no watch could be added for it). First let any quiet-period
  // timer armed by the edits above fire, so it cannot be what catches the next edit.
  await waitFor(() => autoTree(w) === cp.tree, `an auto snapshot of the checkpointed tree (${tag})`, 30_000, 100);
  writeIn(w, `deep-${tag}/x/y/z/w/leaf.txt`, `leaf ${tag} edited without any request\n`);
  const want = treeNow(w);
  await waitFor(() => autoTree(w) === want, `an auto snapshot of the edit (${tag})`, 30_000, 100);
}

describe.skipIf(unavailable !== null)('inotify limits (issue #5, S1.4, S2.2)', () => {
  it('S1.4 S2.2: watches exhausted at start-up (ENOSPC): one clear warning, status says scanning, checkpoints and auto snapshots stay exact', async () => {
    ws = workspaceWithDirs(40);
    client = await startLimitedDaemon(ws, { watches: 20 });
    const s = await waitFor(async () => {
      const r = await status(client!);
      return r.watcher.backend === 'scanning' ? r : null;
    }, 'status to report scanning', 30_000, 100);
    expect(s.watcher.mode).toBe('scan');
    expect(s.watcher.reason).toMatch(/ENOSPC.*max_user_watches/);

    // The CLI shows it too, in JSON and for people.
    const j = await ws.json<ResultOf<typeof Status>>(['status']);
    expect(j.watcher).toMatchObject({ backend: 'scanning', mode: 'scan' });
    const h = await ws.cli(['status']);
    expect(h.stdout).toMatch(/Watcher\s+scanning, no file events.*ENOSPC/);

    await expectScanningCapturesEverything(ws, client, 'start');

    const warnings = limitWarnings(ws);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40); // pino's warn
    expect(warnings[0]!.code).toBe('ENOSPC');
    expect(warnings[0]!.msg).toContain('sysctl fs.inotify.max_user_watches=');
  });

  it('S1.4 S2.2: watches exhausted later, as new directories appear: falls back to scanning without missing a change', async () => {
    // Watches: the cookie folder, the root, `src` and its 10 directories = 13; three to spare.
    ws = workspaceWithDirs(10);
    client = await startLimitedDaemon(ws, { watches: 16 });
    const first = await client.request(Checkpoint, { message: 'first' });
    expect(first.tree).toBe(treeNow(ws));
    await waitFor(() => logText(ws!).includes('watcher ready'), 'the watcher to be ready', 30_000, 100);
    expect((await status(client)).watcher.backend).toBe('inotify');
    expect(limitWarnings(ws)).toHaveLength(0);

    for (let i = 0; i < 10; i++) writeIn(ws, `later/n${i}/f.txt`, `later ${i}\n`);
    await waitFor(async () => (await status(client!)).watcher.backend === 'scanning', 'status to report scanning', 30_000, 100);
    await expectScanningCapturesEverything(ws, client, 'later');
    // Edits inside the directories that could not be watched.
    for (let i = 0; i < 10; i++) writeIn(ws, `later/n${i}/f.txt`, `later ${i} edited\n`);
    const cp = await client.request(Checkpoint, { message: 'edits in unwatched directories' });
    expect(cp.tree).toBe(treeNow(ws));

    const warnings = limitWarnings(ws);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('sysctl fs.inotify.max_user_watches=');
  });

  it('S1.4: no inotify instance at all (EMFILE): the sync cookie cannot hang a checkpoint; status and log name max_user_instances', async () => {
    ws = workspaceWithDirs(5);
    client = await startLimitedDaemon(ws, { instances: 0 });
    const s = await waitFor(async () => {
      const r = await status(client!);
      return r.watcher.backend === 'scanning' ? r : null;
    }, 'status to report scanning', 30_000, 100);
    expect(s.watcher.reason).toMatch(/EMFILE.*max_user_instances/);
    await expectScanningCapturesEverything(ws, client, 'emfile');
    const warnings = limitWarnings(ws);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('sysctl fs.inotify.max_user_instances=');
    // The cookie's own watch failed: checkpoints scanned at once instead of waiting for it.
    expect(logText(ws)).not.toContain('sync cookie did not arrive');
  });
});
