import type { ShadowClient as ShadowClientType } from '../../client/shadowClient.js';
import type { TestWorkspace } from './testWorkspace.js';

/** The built typed client class (tests run against dist/, like every user). */
export type ShadowClient = ShadowClientType;

/** Connects the built typed client to the test workspace's daemon, starting it if needed. */
export async function connectClient(ws: TestWorkspace): Promise<ShadowClient> {
  const { ShadowClient } = (await import('../../dist/client/index.js')) as unknown as { ShadowClient: typeof ShadowClientType };
  return ShadowClient.connect({ workspace: ws.dir, env: { ...process.env, ...ws.env } });
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected a rejection, got a result');
}
