#!/usr/bin/env node
/**
 * shadowd: one daemon per workspace (S2). `shadowd [-C DIR] [--pretty]` runs in the foreground;
 * shadowctl starts it in the background. Order matters: lock the workspace before touching the
 * socket (node-ipc unlinks an existing one), and start watching before the first scan.
 */
import { existsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { isShadowError, ShadowError } from '../shared/errors.js';
import { runtimeDir, socketPath as socketPathFor, STATE_FILES } from '../shared/paths.js';
import { SHADOW_VERSION } from '../shared/version.js';
import type { DaemonContext } from './handlers/daemonContext.js';
import { collectGarbage } from './gc/collectGarbage.js';
import { registerHandlers } from './handlers/registerHandlers.js';
import { loadConfig } from './loadConfig.js';
import { createDaemonLogger } from './logger.js';
import { assertSocketPathLength, ensureRuntimeDir } from './runtimeDir.js';
import { Dispatcher } from './server/dispatcher.js';
import { IpcServer } from './server/ipcServer.js';
import { RunManager } from './runs/runManager.js';
import { loadWorkspaceIgnoreRules } from './store/ignoreRules.js';
import { journalRecovery } from './store/journaledRestore.js';
import { SnapshotEngine } from './store/snapshotEngine.js';
import { StateFolder } from './stateFolder.js';
import { ensureStateDirs, resolveWorkspaceLayout } from './workspaceLayout.js';
import { acquireWorkspaceLock } from './workspaceLock.js';

/** Delay between start and the start-up retention pass. */
const STARTUP_GC_DELAY_MS = 3000;
/** How often the daemon checks that its state folder still exists (one stat per folder). */
const STATE_CHECK_MS = 1000;

const USAGE =
  'usage: shadowd [-C DIR] [--pretty]\n  Runs the Shadow daemon for DIR (default: the current directory) in the foreground.\n' +
  '       shadowd recover [--list | --from WS|STORE (--log | [--checkpoint C] --into DIR)]\n  Reads backup stores once and prints JSON (what shadowctl recover runs).\n';

/** Writes to stderr synchronously: safe right before exiting. */
function fatal(message: string): void {
  writeSync(2, `shadowd: ${message}\n`);
}

async function main(): Promise<number> {
  // A one-shot mode reading backup stores without a daemon (the workspace may be gone, issue #10.8).
  if (process.argv[2] === 'recover') return (await import('./recover/recoverMain.js')).recoverMain(process.argv.slice(3));
  let args;
  try {
    args = parseArgs({ options: { C: { type: 'string', short: 'C' }, pretty: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } }, strict: true });
  } catch (err) {
    fatal(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) return (writeSync(1, USAGE), 0);
  if (args.values.version) return (writeSync(1, `${SHADOW_VERSION}\n`), 0);

  const layout = resolveWorkspaceLayout(args.values.C ?? process.cwd());
  const config = loadConfig(layout.workspace);
  ensureStateDirs(layout);
  const lock = acquireWorkspaceLock(layout.stateDir, layout.workspace);
  const { logger, close: closeLog, reopen: reopenLog } = createDaemonLogger({
    logDir: join(layout.stateDir, STATE_FILES.logs),
    pretty: args.values.pretty ?? false,
    level: config.logLevel,
    maxSize: config.maxLogSize,
    maxFiles: config.maxLogFiles,
  });
  const rtDir = runtimeDir(process.env, process.getuid?.() ?? 0, tmpdir());
  ensureRuntimeDir(rtDir);
  const socketPath = socketPathFor(rtDir, layout.workspace);
  assertSocketPathLength(socketPath);

  const ignore = loadWorkspaceIgnoreRules({ root: layout.workspace, gitDir: layout.userGitDir, stateDirRel: layout.stateDirRel, configIgnore: config.ignore });
  let server: IpcServer | null = null;
  let runs: RunManager | null = null;
  const engine = new SnapshotEngine({
    layout,
    config,
    ignore,
    logger,
    onCheckpoint: (c) => server?.broadcast({ event: 'checkpoint', data: { commit: c.commit, tree: c.tree, ref: c.ref, run: c.run, files: c.files } }),
    onRootEntry: (name) => runs?.onRootEntry(name),
    // SHADOW_BACKUP=off: no backup store (issue #10.8); a deleted .git then takes the checkpoints with it.
    backupEnv: process.env.SHADOW_BACKUP === 'off' ? undefined : process.env,
    // The lock went with the deleted state folder: taken again, so no second daemon starts beside this one.
    onRepair: () => {
      // The repair made the folders again: streams still point into the deleted ones.
      state.reopened();
      try {
        acquireWorkspaceLock(layout.stateDir, layout.workspace);
      } catch (err) {
        logger.warn({ err: String(err) }, 'could not take the workspace lock again after the store was put back');
      }
    },
  });
  // A state folder deleted under the daemon is made again within a second, and the logs reopened (#10.13).
  const state = new StateFolder(layout);
  state.onRecreated(reopenLog);
  runs = new RunManager({ engine, ignore, config, layout, logger, state, emit: (event, data) => server?.broadcast({ event, data }) });
  const stateCheck = setInterval(() => {
    if (!state.incomplete()) return;
    // The store itself gone (a job's `rm -rf .git` or of `.shadow/`): never re-created from a timer,
    // which would race the job's delete ("Directory not empty") and hide the loss from the repair.
    // The next operation that needs the store puts it back from the backup (engine.exclusive).
    if (!existsSync(layout.kind === 'git' ? join(layout.workspace, '.git') : layout.objectsDir)) return;
    // Through the queue, so a repair from the backup (run records, refs) comes first.
    void engine
      .exclusive(() => state.ensureLogged(logger))
      .catch((err: unknown) => logger.error({ err: String(err) }, 'state folder could not be re-created'));
  }, STATE_CHECK_MS);
  stateCheck.unref();

  let shuttingDown: Promise<number> | null = null;
  let markStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => (markStopped = resolve));
  const ctx: DaemonContext = {
    layout,
    config,
    engine,
    ignore,
    logger,
    runs,
    socketPath,
    startedAt: Date.now(),
    problems: [],
    requestShutdown: (reason) => void shutdown(reason),
    isShuttingDown: () => shuttingDown !== null,
  };
  const dispatcher = new Dispatcher({
    zod: z,
    logger,
    hello: () => ({ version: SHADOW_VERSION, pid: process.pid, workspace: layout.workspace, capabilities: ['events', 'checkpoint', 'diff', 'restore', 'runs', 'cancel', 'undo'] }),
  });
  registerHandlers(dispatcher, ctx);

  const shutdown = (reason: string): Promise<number> => {
    shuttingDown ??= (async () => {
      logger.info({ reason }, 'shutting down');
      clearInterval(stateCheck);
      const force = setTimeout(() => {
        fatal(`graceful shutdown took longer than ${config.gracefulShutdownTimeout} ms; exiting`);
        lock.release();
        process.exit(1);
      }, config.gracefulShutdownTimeout);
      force.unref();
      server?.broadcast({ event: 'shutdown', data: { reason } });
      // S2.4: every active run is interrupted with a final checkpoint, resumable, before the exit.
      await runs?.shutdown();
      // Let the answer to a `shutdown` request reach its client before the server closes.
      await new Promise((r) => setImmediate(r));
      await server?.stop();
      await engine.close();
      logger.info({}, 'stopped');
      await closeLog();
      lock.release();
      clearTimeout(force);
      markStopped(0);
      return 0;
    })();
    return shuttingDown;
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM').then((code) => process.exit(code)));
  process.on('SIGINT', () => void shutdown('SIGINT').then((code) => process.exit(code)));
  process.on('uncaughtException', (err) => {
    fatal(`internal error: ${err.stack ?? String(err)}`);
    logger.fatal({ err: String(err), stack: err.stack }, 'uncaught exception');
    lock.release();
    process.exit(1);
  });

  try {
    // S2.5: a restore a crash interrupted is completed before anything else is served. Only
    // then does the daemon wait for its queue before listening; normally it listens at once.
    // A journal that cannot be trusted is refused, not applied: refusing to start would leave the
    // user with no daemon at all (and the same refusal at every start), while the tree is left
    // untouched and the pre-abort commit, if any, is still on refs/shadow/undo.
    const recover = journalRecovery(engine, ignore, (err, aside) => {
      fatal(`refused to complete the interrupted restore: ${err.message} [${err.code}]; journal ${aside ? `kept as ${aside}` : 'left in place'}; the working tree was not touched`);
      logger.error({ code: err.code, err: err.message, journal: aside }, 'interrupted restore refused; working tree left as it is');
      ctx.problems?.push({ code: err.code, message: `interrupted restore refused, working tree left as it is: ${err.message}`, details: { ...err.details, journal: aside } });
    });
    const recovered = (await engine.start(recover)) ?? null;
    if (recovered) {
      logger.warn(
        { op: recovered.op, run: recovered.run, target: recovered.target, preAbort: recovered.preAbort, restored: recovered.result.restored.length, removed: recovered.result.removed.length },
        'completed a restore interrupted by a crash',
      );
    }
    await runs.init(recovered);
    for (const bad of runs.corruptRecords) {
      ctx.problems?.push({ code: 'STATE_CORRUPT', message: `run record ${bad.file} is corrupt (${bad.reason}); ${bad.aside ? `kept as ${bad.aside}` : 'left in place'} and skipped`, details: { ...bad } });
    }
    // Retention (S1.7) once per start; a failure is logged, not fatal. Queued a few seconds after
    // start rather than at once, so the request that auto-started the daemon (typically a first
    // checkpoint) is not made to wait behind it; by then the first scan is usually done.
    const startupGc = setTimeout(() => {
      if (!shuttingDown) void collectGarbage(ctx).catch((err: unknown) => logger.warn({ err: String(err) }, 'start-up gc failed'));
    }, STARTUP_GC_DELAY_MS);
    startupGc.unref();
    server = new IpcServer({ socketPath, dispatcher, logger });
    await server.start();
  } catch (err) {
    lock.release();
    throw err;
  }
  logger.info({ pid: process.pid, workspace: layout.workspace, socket: socketPath, kind: layout.kind, version: SHADOW_VERSION }, 'shadowd ready');
  const code = await stopped;
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (isShadowError(err)) fatal(`${err.message} [${err.code}]`);
    else fatal(`internal error: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(err instanceof ShadowError && err.code === 'DAEMON_RUNNING' ? 3 : 1);
  },
);
