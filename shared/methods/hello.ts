import { defineMethod } from '../defineMethod.js';

/** Handshake: must be the first request on a connection. */
export const Hello = defineMethod('hello', 'Handshake: protocol version and capabilities.', (z) => ({
  params: z.strictObject({
    /** The protocol version the client speaks. */
    protocol: z.number().int(),
    /** Free-form client name, for logs. */
    client: z.string().max(200).optional(),
  }),
  result: z.strictObject({
    protocol: z.number().int(),
    version: z.string(),
    pid: z.number().int(),
    workspace: z.string(),
    /** Feature names the daemon supports, e.g. "events", "restore". */
    capabilities: z.array(z.string()),
  }),
}));
