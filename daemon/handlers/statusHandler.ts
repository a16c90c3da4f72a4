import type { ResultOf } from '../../shared/defineMethod.js';
import type { Status } from '../../shared/methods/index.js';
import type { WireError } from '../../shared/errors.js';
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

/** The state-folder problems found at start, and the git index's if it cannot be used (S1.1). */
function problemsOf(ctx: DaemonContext): { problems?: WireError[] } {
  const index = ctx.engine.gitIndexProblem;
  const problems = [...(ctx.problems ?? []), ...(index ? [index] : [])];
  return problems.length ? { problems } : {};
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
    ...problemsOf(ctx),
  };
}
