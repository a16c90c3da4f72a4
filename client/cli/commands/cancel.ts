/** `shadowctl cancel [--reason R] [--action A] [--force] [--run RUN] [--dry-run]`: cancel a run (S7, S5). */
import { isShadowError, ShadowError } from '../../../shared/errors.js';
import { Cancel } from '../../../shared/methods/cancel.js';
import type { CancelAction, CancelReason } from '../../../shared/runModel.js';
import { CANCEL_ACTIONS, CANCEL_REASONS } from '../../../shared/runModel.js';
import { cancelLines, cancelWarnings } from '../cancelReport.js';
import type { Command, CommandResult } from '../command.js';
import { EXIT } from '../exitCodes.js';
import { stringOption } from '../parseArgs.js';
import { RUN_OPTION, runTarget } from '../runOptions.js';

/** The cancel command. */
export const command: Command = {
  spec: {
    name: 'cancel',
    usage: 'cancel [--reason R] [--action A] [--force] [--run RUN] [--dry-run]',
    summary: 'Cancel a run: stop its processes, then restore, keep or mark files per the action.',
    description:
      `Reasons: ${CANCEL_REASONS.join(', ')} (default user_cancel).\n` +
      `Actions: ${CANCEL_ACTIONS.join(', ')} (default: the reason's policy).\n` +
      'Before anything destructive the tree is snapshotted (pre-abort): `shadowctl undo` restores it.\n' +
      'With nothing active: exit 3 and { run: null, reason: "no_active_run", message }.\n' +
      '--json: { run, status, reason, trigger, action, removed, restored, preserved, preAbort, report,\n' +
      'cancelled, inconsistent, ... }.',
    options: [
      { long: 'reason', type: 'string', value: 'R', description: 'why the run is cancelled (default user_cancel)' },
      { long: 'action', type: 'string', value: 'A', description: "what to do with the files (default: the reason's policy)" },
      { long: 'force', type: 'boolean', description: 'do not wait for an unsafe section to end (marks the run inconsistent)' },
      { long: 'dry-run', type: 'boolean', description: 'print the exact plan and change nothing' },
      { long: 'message', short: 'm', type: 'string', value: 'MSG', description: 'a note recorded in the report and the cancellation log' },
      RUN_OPTION,
    ],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl cancel', 'shadowctl cancel --reason error --action keep_for_review', 'shadowctl cancel --dry-run'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const reason = enumOption(args.values, 'reason', CANCEL_REASONS) as CancelReason | undefined;
    const action = enumOption(args.values, 'action', CANCEL_ACTIONS) as CancelAction | undefined;
    const message = stringOption(args, 'message');
    const params = {
      ...runTarget(args, ctx.env),
      ...(reason ? { reason } : {}),
      ...(action ? { action } : {}),
      ...(args.values.force ? { force: true } : {}),
      ...(args.values['dry-run'] ? { dryRun: true } : {}),
      ...(message === undefined ? {} : { message }),
    };
    const client = await ctx.connect();
    try {
      const r = await client.request(Cancel, params);
      return { json: r, lines: cancelLines(r, ctx), warnings: cancelWarnings(r) };
    } catch (err) {
      // S5.10: nothing to cancel is an answer, not a failure: its own reason and exit code.
      if (isShadowError(err) && err.code === 'NO_ACTIVE_RUN') {
        const text = `Nothing to cancel: no run is active in ${ctx.workspace}.`;
        return { json: { run: null, reason: 'no_active_run', message: text }, lines: [text], exitCode: EXIT.nothing };
      }
      throw err;
    } finally {
      client.close();
    }
  },
};

/** A string option restricted to `allowed`; anything else is a usage error listing them. */
function enumOption(values: Record<string, unknown>, name: string, allowed: readonly string[]): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new ShadowError('USAGE', `cancel: --${name} expects one of ${allowed.join(', ')}, got '${String(v)}'`, { command: 'cancel', option: name, value: v, allowed });
  }
  return v;
}
