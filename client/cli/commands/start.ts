/** `shadowctl start [--name N] [--phases a,b,c] [--timeout T] [--parent RUN]`: start a run for scripts and agents (S7, S4.2). */
import { RunStart } from '../../../shared/methods/runStart.js';
import type { Command, CommandResult } from '../command.js';
import { shortOid } from '../output.js';
import { RUN_ID_ENV, RUN_START_OPTIONS, runStartParams } from '../runOptions.js';

/** The start command. */
export const command: Command = {
  spec: {
    name: 'start',
    usage: 'start [--name N] [--phases a,b,c] [--timeout T] [--parent RUN]',
    summary: 'Start a run: take its base checkpoint; later commands move it along.',
    description:
      'At most one top-level run is active per workspace (else RUN_ACTIVE, naming it). Export the id as\n' +
      `${RUN_ID_ENV} so phase, step, checkpoint, error, finish and cancel act on this run.\n` +
      '--json: { run, base, ref, name, phases }.',
    options: RUN_START_OPTIONS,
    minPositionals: 0,
    maxPositionals: 0,
    examples: [
      'shadowctl start --name migrate --phases schema,data --timeout 10m',
      `export ${RUN_ID_ENV}=$(shadowctl start --json | jq -r .run)`,
    ],
  },
  async run(args, ctx): Promise<CommandResult> {
    const params = runStartParams(args, 'start');
    const client = await ctx.connect();
    try {
      const r = await client.request(RunStart, params);
      const phases = r.phases.length ? ` (phases ${r.phases.join(' → ')})` : '';
      return {
        json: r,
        lines: [`Run ${ctx.style.bold(r.run)} '${r.name}' started at base ${shortOid(r.base)}${phases}`, `${RUN_ID_ENV}=${r.run}`],
      };
    } finally {
      client.close();
    }
  },
};
