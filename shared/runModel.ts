/**
 * The vocabulary of runs and cancellation (S4, S5), zod-free so the CLI can use it at start-up.
 */

/** Why a run is cancelled (S5.2). */
export const CANCEL_REASONS = ['user_cancel', 'error', 'quality_failure', 'timeout', 'dependency_missing', 'shutdown'] as const;
/** A cancellation reason. */
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** What a cancel does to the working tree (S5.3). */
export const CANCEL_ACTIONS = ['remove_all', 'rollback', 'keep_for_review', 'keep_checkpoint'] as const;
/** A cancellation action. */
export type CancelAction = (typeof CANCEL_ACTIONS)[number];

/** What set a cancel off (S5.1). */
export const CANCEL_TRIGGERS = ['request', 'ctrl_c', 'sigterm', 'deadline', 'error_threshold', 'command_failed', 'abort_file', 'daemon_shutdown', 'parent'] as const;
/** A cancellation trigger. */
export type CancelTrigger = (typeof CANCEL_TRIGGERS)[number];

/** Run statuses (S4.4): running → cancelling → cancelled | failed | completed | interrupted. */
export const RUN_STATUSES = ['running', 'cancelling', 'cancelled', 'failed', 'completed', 'interrupted'] as const;
/** A run status. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses of a run that is over. */
export const FINAL_STATUSES: readonly RunStatus[] = ['cancelled', 'failed', 'completed', 'interrupted'];

/** The abort file any tool may write atomically in the workspace root (S5.1). */
export const ABORT_FILE = '.shadow-abort';

/** The review marker keep_for_review writes in the workspace root (S5.3). */
export const REVIEW_FILE = '.needs-review';

/** The ref holding a run's checkpoints. */
export function runRef(runId: string): string {
  return `refs/shadow/runs/${runId}`;
}
