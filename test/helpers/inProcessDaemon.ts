/**
 * The daemon's request path built in memory on a temp workspace: real config, store, engine,
 * runs and handlers behind a Dispatcher, with no socket and no process. Property tests drive it
 * frame by frame, so every handler runs for real while failures stay in the test process.
 */
import pino from 'pino';
import { z } from 'zod';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import type { ShadowConfig } from '../../shared/config.js';
import type { DaemonContext } from '../../daemon/handlers/daemonContext.js';
import { registerHandlers } from '../../daemon/handlers/registerHandlers.js';
import { RunManager } from '../../daemon/runs/runManager.js';
import { Dispatcher } from '../../daemon/server/dispatcher.js';
import { loadWorkspaceIgnoreRules } from '../../daemon/store/ignoreRules.js';
import { SnapshotEngine } from '../../daemon/store/snapshotEngine.js';
import { ensureStateDirs, resolveWorkspaceLayout } from '../../daemon/workspaceLayout.js';

/** A daemon's dispatcher and context living in the test process. */
export interface InProcessDaemon {
  /** Every method wired to its real handler; results are validated against their schemas. */
  dispatcher: Dispatcher;
  /** The handlers' shared state. */
  ctx: DaemonContext;
  /** Reasons of the shutdown requests received (the request is recorded, never carried out). */
  shutdownRequests: string[];
  /** Interrupts active runs, stops the watcher and closes logs. */
  close(): Promise<void>;
}

/** Builds and starts the daemon's request path for `workspace` (as daemon/main.ts does, minus the socket). */
export async function startInProcessDaemon(workspace: string, overrides: Partial<ShadowConfig> = {}): Promise<InProcessDaemon> {
  const layout = resolveWorkspaceLayout(workspace);
  const config: ShadowConfig = { ...DEFAULT_CONFIG, ...overrides };
  ensureStateDirs(layout);
  const logger = pino({ level: 'silent' });
  const ignore = loadWorkspaceIgnoreRules({ root: layout.workspace, gitDir: layout.userGitDir, stateDirRel: layout.stateDirRel, configIgnore: config.ignore });
  let runs: RunManager | null = null;
  const engine = new SnapshotEngine({ layout, config, ignore, logger, onRootEntry: (name) => runs?.onRootEntry(name) });
  runs = new RunManager({ engine, ignore, config, layout, logger, emit: () => undefined });
  const shutdownRequests: string[] = [];
  const ctx: DaemonContext = {
    layout,
    config,
    engine,
    ignore,
    logger,
    runs,
    socketPath: '/nonexistent/in-process.sock',
    startedAt: Date.now(),
    requestShutdown: (reason) => void shutdownRequests.push(reason),
    isShuttingDown: () => false,
  };
  const dispatcher = new Dispatcher({
    zod: z,
    logger,
    validateResults: true,
    hello: () => ({ version: 'test', pid: process.pid, workspace: layout.workspace, capabilities: ['events'] }),
  });
  registerHandlers(dispatcher, ctx);
  await engine.start();
  await runs.init(null);
  const manager = runs;
  return {
    dispatcher,
    ctx,
    shutdownRequests,
    async close() {
      await manager.shutdown();
      await engine.close();
    },
  };
}
