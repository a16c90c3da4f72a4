import { defineMethod } from '../defineMethod.js';
import { CANCEL_ACTIONS, CANCEL_REASONS, CANCEL_TRIGGERS } from '../runModel.js';
import { cancelResult } from '../schemas.js';

/** Cancels a run (S5): NO_ACTIVE_RUN when there is none. */
export const Cancel = defineMethod('cancel', 'Cancel a run: terminate, restore/keep per action, report.', (z) => ({
  params: z.strictObject({
    run: z.string().max(100).optional(),
    reason: z.enum(CANCEL_REASONS).default('user_cancel'),
    /** Overrides the reason's configured action. */
    action: z.enum(CANCEL_ACTIONS).optional(),
    /** Skip the wait for an unsafe section to end (S5.5). */
    force: z.boolean().default(false),
    /** Answer with the exact plan and change nothing (S5.12). */
    dryRun: z.boolean().default(false),
    trigger: z.enum(CANCEL_TRIGGERS).default('request'),
    message: z.string().max(10_000).optional(),
  }),
  result: cancelResult(z),
}));
