/** Names of events the daemon pushes to subscribers (S3.2). */
export const EVENT_NAMES = ['checkpoint', 'restore', 'watcher', 'shutdown', 'run', 'cancel'] as const;
/** One pushable event name. */
export type EventName = (typeof EVENT_NAMES)[number];
