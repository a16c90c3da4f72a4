/** `shadowctl daemon start|stop|status`: manage the workspace's daemon (S7, S2.1). */
import { createConnection } from 'node:net';
import { isShadowError, ShadowError } from '../../../shared/errors.js';
import { Shutdown } from '../../../shared/methods/shutdown.js';
import { Status } from '../../../shared/methods/status.js';
import { isAlive } from '../../processAlive.js';
import type { ShadowClient } from '../../shadowClient.js';
import type { Command, CommandContext, CommandResult } from '../command.js';
import { EXIT } from '../exitCodes.js';

/** How long `daemon stop` waits for the socket to go quiet; above the default graceful shutdown (5 s). */
const STOP_DEADLINE_MS = 20_000;
const STOP_POLL_MS = 50;

/** The daemon command. */
export const command: Command = {
  spec: {
    name: 'daemon',
    usage: 'daemon start|stop|status',
    summary: "Start, stop or identify the workspace's daemon.",
    description:
      'start   ensure a daemon serves the workspace (fine if one already does); print its pid and socket\n' +
      'stop    ask it to shut down gracefully and wait until its socket is gone (fine if none runs)\n' +
      'status  print its identity without starting one; exit 3 when none runs\n' +
      '--json: { daemon: { pid, workspace, socket, version, ... } | null, ... }.',
    options: [],
    minPositionals: 1,
    maxPositionals: 1,
    examples: ['shadowctl daemon start', 'shadowctl daemon status --json'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const sub = args.positionals[0];
    if (sub === 'start') return start(ctx);
    if (sub === 'stop') return stop(ctx);
    if (sub === 'status') return status(ctx);
    throw new ShadowError('USAGE', `daemon: unknown subcommand '${sub}' (expected start, stop or status)`, { subcommand: sub });
  },
};

/** Connects without starting a daemon; null when none answers. */
async function connectIfRunning(ctx: CommandContext): Promise<ShadowClient | null> {
  try {
    return await ctx.connect({ autoStart: false });
  } catch (err) {
    // CONNECTION_CLOSED: a dying daemon accepted, then went away; as good as not running.
    if (isShadowError(err) && (err.code === 'DAEMON_UNREACHABLE' || err.code === 'CONNECTION_CLOSED')) return null;
    throw err;
  }
}

async function start(ctx: CommandContext): Promise<CommandResult> {
  // Probe first only to tell "started" from "already running"; connect() does the real work.
  let client = await connectIfRunning(ctx);
  const started = client === null;
  client ??= await ctx.connect({ autoStart: true });
  try {
    const { pid, workspace, version } = await client.ready();
    const daemon = { pid, workspace, socket: client.socketPath, version };
    return {
      json: { daemon, started },
      lines: [`${started ? 'Daemon started' : 'Daemon already running'}: pid ${pid}`, `Socket ${daemon.socket}`],
    };
  } finally {
    client.close();
  }
}

async function stop(ctx: CommandContext): Promise<CommandResult> {
  const client = await connectIfRunning(ctx);
  if (client === null) {
    return { json: { stopped: false, pid: null, workspace: ctx.workspace }, lines: [`No daemon running for ${ctx.workspace}.`] };
  }
  const socket = client.socketPath;
  let pid = (await client.ready()).pid;
  try {
    pid = (await client.request(Shutdown, {})).pid;
  } catch (err) {
    // It may close the connection before answering, or already be on its way out: wait either way.
    if (!(isShadowError(err) && (err.code === 'CONNECTION_CLOSED' || err.code === 'SHUTTING_DOWN'))) throw err;
  } finally {
    client.close();
  }
  // Wait for the socket to go quiet, then for the process itself: it may still be flushing logs
  // into the state folder, and `daemon stop && rm -rf .shadow` must be safe.
  const deadline = Date.now() + STOP_DEADLINE_MS;
  while ((await socketAnswers(socket)) || isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new ShadowError('TIMEOUT', `Daemon pid ${pid} has not exited ${STOP_DEADLINE_MS / 1000} s after shutdown (socket ${socket})`, {
        pid,
        socket,
        timeoutMs: STOP_DEADLINE_MS,
      });
    }
    await new Promise((r) => setTimeout(r, STOP_POLL_MS));
  }
  return { json: { stopped: true, pid, workspace: ctx.workspace, socket }, lines: [`Daemon stopped (pid ${pid}).`] };
}

async function status(ctx: CommandContext): Promise<CommandResult> {
  const client = await connectIfRunning(ctx);
  if (client === null) {
    return { json: { daemon: null, workspace: ctx.workspace }, lines: [`No daemon running for ${ctx.workspace}.`], exitCode: EXIT.nothing };
  }
  try {
    const { daemon } = await client.request(Status, {});
    return {
      json: { daemon },
      lines: [`Daemon pid ${daemon.pid}, v${daemon.version}, serving ${daemon.workspace}`, `Socket ${daemon.socket}`, `State  ${daemon.stateDir}`],
    };
  } finally {
    client.close();
  }
}

/** True when something accepts a connection on the Unix socket `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
