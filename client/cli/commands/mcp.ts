/** `shadowctl mcp`: serve the Model Context Protocol over stdio for AI agents (issue 4, seed 002). */
import type { Command, CommandResult } from '../command.js';
import { RUN_ID_ENV } from '../runOptions.js';

/** The mcp command. */
export const command: Command = {
  spec: {
    name: 'mcp',
    usage: 'mcp',
    summary: 'Serve the Model Context Protocol over stdio: tools for agents to abort, checkpoint, read status and resume plans.',
    description:
      'Meant to be started by an agent host (see README, "Agents (MCP)"); it runs until stdin closes.\n' +
      'Tools: shadow_abort {reason?, message?}, shadow_checkpoint {message?}, shadow_status {},\n' +
      'shadow_resume_plan {run?}. Errors come back as tool errors: "CODE: message" (e.g. NO_ACTIVE_RUN).\n' +
      'abort and checkpoint act on $SHADOW_RUN_ID when set (an agent under `shadowctl run`), else the active run.\n' +
      'The daemon is reached (and started if needed) on each tool call. stdout carries the protocol only.',
    options: [],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl -C ~/project mcp'],
  },
  async run(_args, ctx): Promise<CommandResult> {
    // Loaded here, not at the top: the SDK and zod would slow every other command's start-up.
    const { serveMcp } = await import('../../mcp/shadowMcpServer.js');
    const run = ctx.env[RUN_ID_ENV] || undefined;
    await serveMcp({ connect: () => ctx.connect(), ...(run === undefined ? {} : { run }) });
    // Nothing to print: stdout belonged to the protocol.
    return { json: {}, lines: [] };
  },
};
