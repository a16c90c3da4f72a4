/**
 * Options shared by the run commands (S7): which run a command acts on (`--run`, else
 * `$SHADOW_RUN_ID`, else the daemon's active run) and the start options of `start` and `run`.
 */
import { ShadowError } from '../../shared/errors.js';
import type { ParamsOf } from '../../shared/defineMethod.js';
import type { RunStart } from '../../shared/methods/runStart.js';
import type { OptionSpec, ParsedArgs } from './parseArgs.js';
import { stringOption } from './parseArgs.js';
import { durationOption } from './parseDuration.js';

/** The environment variable `shadowctl run` sets for its command, naming the run (S6.6). */
export const RUN_ID_ENV = 'SHADOW_RUN_ID';

/** The environment variable `shadowctl run --resume` sets for its command: the phase to resume in (S6.6). */
export const RESUME_PHASE_ENV = 'SHADOW_RESUME_PHASE';

/** `--run RUN`, taken by every command that moves a run along. */
export const RUN_OPTION: OptionSpec = { long: 'run', type: 'string', value: 'RUN', description: `the run (default: $${RUN_ID_ENV} if set, else the active run)` };

/**
 * The `run` param of a request: `--run`, else `$SHADOW_RUN_ID` (so a job started by
 * `shadowctl run` acts on its own run), else none (the daemon picks the active run).
 */
export function runTarget(args: ParsedArgs, env: NodeJS.ProcessEnv): { run?: string } {
  const run = stringOption(args, 'run') ?? (env[RUN_ID_ENV] || undefined);
  if (run === '') throw new ShadowError('USAGE', '--run expects a run id, got an empty string', { option: 'run' });
  return run === undefined ? {} : { run };
}

/** The options of `start` and `run` that shape a new run. */
export const RUN_START_OPTIONS: OptionSpec[] = [
  { long: 'name', type: 'string', value: 'N', description: 'name of the run (shown in status, reports and logs)' },
  { long: 'phases', type: 'string', value: 'a,b,c', description: 'ordered phase names, comma-separated' },
  { long: 'timeout', type: 'string', value: 'T', description: 'time limit: seconds, or 500ms, 10s, 10m, 1h; past it the run is cancelled (reason timeout)' },
  { long: 'parent', type: 'string', value: 'RUN', description: 'make the run a child of RUN (cancelled with it)' },
];

/** RunStart params from the start options; a bad --timeout or --phases is a usage error. */
export function runStartParams(args: ParsedArgs, command: string): ParamsOf<typeof RunStart> {
  const name = stringOption(args, 'name');
  const parent = stringOption(args, 'parent');
  const timeoutMs = durationOption(stringOption(args, 'timeout'), 'timeout', command);
  const phases = phaseList(stringOption(args, 'phases'), command);
  return {
    ...(name === undefined ? {} : { name }),
    ...(phases === undefined ? {} : { phases }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(parent === undefined ? {} : { parent }),
  };
}

/** `a, b,c` → ['a', 'b', 'c']; an empty name (`a,,b`) is a usage error. */
function phaseList(raw: string | undefined, command: string): string[] | undefined {
  if (raw === undefined) return undefined;
  const phases = raw.split(',').map((p) => p.trim());
  if (phases.some((p) => p === '')) {
    throw new ShadowError('USAGE', `${command}: --phases expects comma-separated non-empty names, got '${raw}'`, { command, option: 'phases', value: raw });
  }
  return phases;
}
