/** The daemon process as the long-running scripts see it: is it alive, and stop it for sure. */

/** True while `pid` exists (kill(0) succeeds). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Asks the daemon of `ws` to shut down through the typed client (`ShadowClient`, `Shutdown` from
 * dist/client/index.js), waits up to `waitMs` for the process to go, then SIGKILLs it.
 */
export async function stopDaemon({ ShadowClient, Shutdown }, ws, env, pid, waitMs = 5000) {
  if (!pid || !alive(pid)) return;
  try {
    const c = await ShadowClient.connect({ workspace: ws, env, autoStart: false });
    await c.request(Shutdown, {}, { timeoutMs: 10_000 }).catch(() => null);
    c.close();
  } catch {
    // Killed below.
  }
  for (let waited = 0; waited < waitMs && alive(pid); waited += 50) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}
