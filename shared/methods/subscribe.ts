import { defineMethod } from '../defineMethod.js';

/** Subscribes the connection to pushed events (see shared/events.ts). */
export const Subscribe = defineMethod('subscribe', 'Receive pushed events on this connection.', (z) => ({
  params: z.strictObject({
    /** Event names to receive; default: all. */
    events: z.array(z.string().max(64)).max(64).optional(),
  }),
  result: z.strictObject({ events: z.array(z.string()) }),
}));
