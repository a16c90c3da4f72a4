/**
 * Pacing of long scans (S2.2 responsiveness): a scan runs inside the store's queue and calls the
 * slicer between two directory reads and between two files examined; the slicer yields to the event loop
 * every SLICE_MS so status, hello and cancel requests are answered meanwhile, bounds the blobs
 * collected for the scan's pack, and stops the scan when the daemon shuts down.
 */
import { ShadowError } from '../../shared/errors.js';
import type { LooseObjectWriter } from './gitObjects.js';

/** Longest stretch a scan keeps the event loop before yielding. */
export const SLICE_MS = 20;

/**
 * A function to await between two units of scanning: it writes out the collected blobs when they
 * pass the pack size, yields once SLICE_MS have passed since the last yield, and then throws
 * SHUTTING_DOWN when `shouldStop` says so (the caller must then commit nothing). Resolves true
 * when it yielded (the disk may have changed meanwhile).
 */
export function makeSlicer(root: string, writer: LooseObjectWriter, shouldStop: () => boolean): () => Promise<boolean> {
  const pause = makeYielder();
  return async () => {
    if (writer.backlogged()) await writer.flush();
    if (!(await pause())) return false;
    if (shouldStop()) throw new ShadowError('SHUTTING_DOWN', `Scan of ${root} stopped: the daemon is shutting down`, { workspace: root });
    return true;
  };
}

/**
 * A function to await between two small units of synchronous work (a checkpoint's object checks,
 * say): it yields to the event loop once SLICE_MS have passed since the last yield, and resolves
 * true when it did. Cheap enough to call per item.
 */
export function makeYielder(): () => Promise<boolean> {
  let sliceStart = performance.now();
  return async () => {
    if (performance.now() - sliceStart < SLICE_MS) return false;
    await new Promise<void>((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
    return true;
  };
}
