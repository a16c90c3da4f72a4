/**
 * The Model Context Protocol server behind `shadowctl mcp` (issue 4, seed 002): tools an agent
 * calls to abort its run, checkpoint, read status and read a resume plan. It is a thin layer over
 * the typed client: each tool call opens its own connection, so a restarted daemon is simply
 * reached (or auto-started) again on the next call. Loaded only by the mcp command: the SDK and
 * zod are heavy for every other shadowctl start-up.
 */
import type { Readable, Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { toShadowError } from '../../shared/errors.js';
import { Cancel } from '../../shared/methods/cancel.js';
import { Checkpoint } from '../../shared/methods/checkpoint.js';
import { RunGet } from '../../shared/methods/runGet.js';
import { Status } from '../../shared/methods/status.js';
import { CANCEL_REASONS } from '../../shared/runModel.js';
import { SHADOW_VERSION } from '../../shared/version.js';
import type { ShadowClient } from '../shadowClient.js';
import { resumePlan } from './resumePlan.js';

/** Tool names, as agents see them. */
export const MCP_TOOLS = ['shadow_abort', 'shadow_checkpoint', 'shadow_status', 'shadow_resume_plan'] as const;

/** Where the server gets daemon connections and its stdio. */
export interface McpServeOptions {
  /** Connects to the workspace's daemon (the CLI context's connect). */
  connect(): Promise<ShadowClient>;
  /** The run abort and checkpoint act on ($SHADOW_RUN_ID); default: the daemon's active run. */
  run?: string;
  /** Input stream of the protocol; default process.stdin. */
  stdin?: Readable;
  /** Output stream of the protocol; default process.stdout. */
  stdout?: Writable;
}

/** Builds the MCP server with Shadow's tools registered. */
export function createShadowMcpServer(connect: () => Promise<ShadowClient>, runId?: string): McpServer {
  // An agent started by `shadowctl run` inherits SHADOW_RUN_ID, and so does the server its host spawns: it acts on that run.
  const target = runId === undefined ? {} : { run: runId };
  const server = new McpServer({ name: 'shadow', version: SHADOW_VERSION });
  /** Runs one daemon request on its own connection and shapes the answer as a tool result. */
  const call = async (work: (client: ShadowClient) => Promise<object>): Promise<CallToolResult> => {
    try {
      const client = await connect();
      try {
        return toolResult(await work(client));
      } finally {
        client.close();
      }
    } catch (err) {
      return toolError(err);
    }
  };

  server.registerTool(
    'shadow_abort',
    {
      title: 'Abort the active run',
      description:
        'Cancel the active Shadow run (the one named by $SHADOW_RUN_ID when the server got it): stop its processes and put the files back per the reason\'s policy ' +
        '(user_cancel: everything back to the run\'s base; error: roll back to the last checkpoint; ' +
        'timeout/shutdown: keep a checkpoint so the run can be resumed). Before anything destructive the ' +
        'tree is snapshotted, so `shadowctl undo` restores it. Returns the cancel result (removed, restored, ' +
        'preserved paths, report). Fails with NO_ACTIVE_RUN when no run is active.',
      inputSchema: {
        reason: z.enum(CANCEL_REASONS).default('user_cancel').describe('Why the run is aborted.'),
        message: z.string().max(10_000).optional().describe('A note recorded in the cancel report and log.'),
      },
    },
    ({ reason, message }) => call((c) => c.request(Cancel, { ...target, reason, ...(message === undefined ? {} : { message }) })),
  );

  server.registerTool(
    'shadow_checkpoint',
    {
      title: 'Take a checkpoint',
      description:
        'Snapshot the working tree now as a commit on a hidden refs/shadow/* ref (the active run\'s ref inside a run). ' +
        'Returns commit, tree, ref, run, files and any files that could not be captured.',
      inputSchema: { message: z.string().max(10_000).optional().describe('Subject line of the checkpoint commit.') },
    },
    ({ message }) => call((c) => c.request(Checkpoint, { ...target, ...(message === undefined ? {} : { message }) })),
  );

  server.registerTool(
    'shadow_status',
    {
      title: 'Shadow status',
      description: 'The daemon (pid, version, workspace), the watcher, the latest checkpoint and the active run (null when none).',
      inputSchema: {},
    },
    () => call((c) => c.request(Status, {})),
  );

  server.registerTool(
    'shadow_resume_plan',
    {
      title: 'Resume plan of a run',
      description:
        'What resuming a run would do: completed and remaining phases, the next phase, completed steps, ' +
        'progress percentage, the checkpoint it continues from, its status and reason. Default run: the active one, else the newest.',
      inputSchema: { run: z.string().max(100).optional().describe('Run id (default: the active run, else the newest).') },
    },
    ({ run }) => call(async (c) => resumePlan((await c.request(RunGet, run === undefined ? {} : { run })).run)),
  );
  return server;
}

/** Serves the MCP tools over stdio until the client closes stdin. */
export async function serveMcp(opts: McpServeOptions): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const server = createShadowMcpServer(opts.connect, opts.run);
  // The SDK's stdio transport never notices the end of stdin; the host closing it is the signal to quit.
  const ended = new Promise<void>((resolve) => {
    stdin.on('end', () => resolve());
    stdin.on('close', () => resolve());
  });
  await server.connect(new StdioServerTransport(stdin, opts.stdout ?? process.stdout));
  await ended;
  await server.close();
}

/** A successful tool result: the answer as JSON text and as structured content. */
function toolResult(value: object): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}

/** A tool error carrying the ShadowError's code, message and details. */
function toolError(err: unknown): CallToolResult {
  const e = toShadowError(err);
  return {
    isError: true,
    content: [{ type: 'text', text: `${e.code}: ${e.message}` }],
    structuredContent: { error: e.toWire() },
  };
}
