/** What every request handler may use: the workspace's store and the daemon's identity. */
import type { ShadowConfig } from '../../shared/config.js';
import type { WireError } from '../../shared/errors.js';
import type { Logger } from 'pino';
import type { RunManager } from '../runs/runManager.js';
import type { IgnoreRules } from '../store/ignoreRules.js';
import type { SnapshotEngine } from '../store/snapshotEngine.js';
import type { WorkspaceLayout } from '../workspaceLayout.js';

/** Shared state of a running daemon, handed to handlers. */
export interface DaemonContext {
  layout: WorkspaceLayout;
  config: ShadowConfig;
  engine: SnapshotEngine;
  ignore: IgnoreRules;
  logger: Logger;
  /** The workspace's runs (S4) and their cancellation (S5). */
  runs: RunManager;
  socketPath: string;
  startedAt: number;
  /** Starts a graceful shutdown after the current response is sent. */
  requestShutdown(reason: string): void;
  /** True once shutdown began: new work is refused. */
  isShuttingDown(): boolean;
  /** Problems found in the state folder at start (S2.5, S4.4), shown by `status`; optional for tests. */
  problems?: WireError[];
}
