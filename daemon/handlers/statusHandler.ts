import type { ResultOf } from '../../shared/defineMethod.js';
import type { Status } from '../../shared/methods/index.js';
import { SHADOW_VERSION } from '../../shared/version.js';
import type { DaemonContext } from './daemonContext.js';

/** The daemon's identity as `status` and `daemon status` report it. */
export function daemonInfo(ctx: DaemonContext): ResultOf<typeof Status>['daemon'] {
  return {
    pid: process.pid,
    workspace: ctx.layout.workspace,
    socket: ctx.socketPath,
    version: SHADOW_VERSION,
    stateDir: ctx.layout.stateDir,
    uptimeMs: Date.now() - ctx.startedAt,
  };
}

/** `status`: answers at once, without waiting for the store's queue (S2.2: responsive in storms). */
export async function handleStatus(ctx: DaemonContext): Promise<ResultOf<typeof Status>> {
  const { pendingRescan: reason, degraded } = ctx.engine.watcher;
  return {
    daemon: daemonInfo(ctx),
    run: ctx.runs.statusRun(),
    watcher: { mode: reason ? 'scan' : 'events', pending: ctx.engine.watcher.pendingCount, reason, backend: degraded ? 'scanning' : 'inotify' },
    lastCheckpoint: await ctx.engine.latestCached(),
    files: ctx.engine.index.size,
    ...(ctx.problems?.length ? { problems: ctx.problems } : {}),
  };
}
