/**
 * `shadowctl run`'s engine (S4, S5.1, S6.6): start a run, spawn the command in its own process
 * group with SHADOW_RUN_ID, and end the run the way the command ended — finish on exit 0,
 * cancel (error / command_failed) on failure, cancel on Ctrl+C (user_cancel / ctrl_c) or SIGTERM
 * (shutdown / sigterm). The daemon enforces the deadline and terminates the group; the exit code
 * comes from the run's final state (runOutcome.ts).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { MethodDef, ParamsOf, ResultOf } from '../../shared/defineMethod.js';
import { isShadowError, toShadowError } from '../../shared/errors.js';
import type { ShadowError } from '../../shared/errors.js';
import { Cancel } from '../../shared/methods/cancel.js';
import { RunGet } from '../../shared/methods/runGet.js';
import { RunFinish, RunRegister } from '../../shared/methods/runProgress.js';
import { Resume } from '../../shared/methods/resume.js';
import { RunStart } from '../../shared/methods/runStart.js';
import type { CancelReason, CancelTrigger } from '../../shared/runModel.js';
import { FINAL_STATUSES } from '../../shared/runModel.js';
import type { ShadowClient } from '../shadowClient.js';
import type { CancelOutcome } from './cancelReport.js';
import { shadowctlPrefix } from './cancelReport.js';
import type { CommandContext } from './command.js';
import { exitCodeFor } from './exitCodes.js';
import type { CommandExit, HandledSignal, RunDetail, RunOutcome } from './runOutcome.js';
import { commandStatus, runExitCode, summaryLine } from './runOutcome.js';
import { RESUME_PHASE_ENV, RUN_ID_ENV } from './runOptions.js';

/** The cancel each handled signal asks for (S5.2 picks the action: remove_all, keep_checkpoint). */
const SIGNAL_CANCELS: Record<HandledSignal, { reason: CancelReason; trigger: CancelTrigger }> = {
  SIGINT: { reason: 'user_cancel', trigger: 'ctrl_c' },
  SIGTERM: { reason: 'shutdown', trigger: 'sigterm' },
};
/** After the run is cancelled, how long the command's group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** How long to wait for a run the daemon is still cancelling to reach a final status. */
const SETTLE_TIMEOUT_MS = 120_000;
const SETTLE_POLL_MS = 50;

/** Options of superviseRun. */
export interface SuperviseOptions {
  /** --json: the command's stdout goes to stderr so stdout carries exactly one JSON object. */
  json: boolean;
  /** `run --resume` (S6.6): resume this run (default the newest resumable) instead of starting one. */
  resume?: { run?: string };
}

/** Runs `start.command` as a run to its end; returns the outcome (exit code included). */
export async function superviseRun(ctx: CommandContext, start: ParamsOf<typeof RunStart> & { command: string[] }, opts: SuperviseOptions): Promise<RunOutcome> {
  const session = new DaemonSession(() => ctx.connect());
  const errors: ShadowError[] = [];
  // Shared with the signal handlers, hence an object (closures mutate it between awaits).
  const st = {
    phase: 'starting' as 'starting' | 'running' | 'ending',
    runId: null as string | null,
    interrupt: null as HandledSignal | null,
    child: null as ChildProcess | null,
    childGone: false,
    cancelling: null as Promise<CancelOutcome | null> | null,
  };

  /**
   * On a terminal the command stays in the foreground process group, so it can read the
   * terminal (agents and prompts) and Ctrl+C reaches all of it directly. Elsewhere it gets its own
   * group, so the daemon (and we) can terminate the whole tree it starts.
   */
  const ownGroup = !process.stdin.isTTY;

  /** Signals the command: its whole group when it has one, else the process itself. */
  const signalGroup = (sig: NodeJS.Signals) => {
    if (!st.child?.pid || st.childGone) return;
    const target = ownGroup ? -st.child.pid : st.child.pid;
    try {
      process.kill(target, sig);
      // A member stopped by SIGTTIN/SIGTSTP would not act on the signal until continued.
      if (sig !== 'SIGKILL') process.kill(target, 'SIGCONT');
    } catch {
      // ESRCH: the group is gone already.
    }
  };

  const startCancel = (sig: HandledSignal) => {
    st.cancelling = tolerate(session.request(Cancel, { run: st.runId!, ...SIGNAL_CANCELS[sig] }), errors).then((r) => {
      // The cancel is done: nothing of the command may keep writing into the restored tree.
      if (!st.childGone) {
        signalGroup('SIGTERM');
        setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS).unref();
      }
      return r;
    });
  };

  const onSignal = (sig: HandledSignal) => {
    if (st.interrupt !== null || st.phase === 'ending') {
      // A second Ctrl+C must not kill shadowctl half-way through a cancel.
      ctx.notice(`shadowctl: ${st.phase === 'ending' ? 'finishing' : 'cancelling'} run ${st.runId ?? ''}…`);
      return;
    }
    st.interrupt = sig;
    ctx.notice(`shadowctl: ${sig === 'SIGINT' ? 'Ctrl+C' : 'SIGTERM'}: cancelling run ${st.runId ?? ''}…`);
    if (st.phase !== 'running') return; // still starting: handled once the run exists
    // The terminal already sent Ctrl+C to a command in its foreground group: don't send it twice.
    if (ownGroup || sig !== 'SIGINT') signalGroup(sig);
    startCancel(sig);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  try {
    const { runId, resumePhase } = await begin(session, start, opts);
    st.runId = runId;
    st.phase = 'running';
    let exit: CommandExit;
    if (st.interrupt !== null) {
      startCancel(st.interrupt);
      exit = { code: null, signal: null, spawnError: null };
    } else {
      const [cmd, ...argv] = start.command;
      const child = spawn(cmd!, argv, {
        // -C names the workspace: run there, as git -C does, so the job's own shadowctl calls find it.
        cwd: ctx.workspaceExplicit ? ctx.workspace : ctx.cwd,
        // A resumed job learns where to pick up (S6.6); the phase is empty when none was declared.
        env: { ...ctx.env, [RUN_ID_ENV]: runId, ...(resumePhase === null ? {} : { [RESUME_PHASE_ENV]: resumePhase }) },
        stdio: ['inherit', opts.json ? 2 : 'inherit', 'inherit'],
        detached: ownGroup,
      });
      st.child = child;
      const exited = waitForExit(child).then((e) => ((st.childGone = true), e));
      if (child.pid !== undefined) await register(session, runId, child.pid, errors, () => signalGroup('SIGTERM'), ctx);
      exit = await exited;
      // Sharing the terminal's foreground group, the command got the same Ctrl+C as we did, and
      // its death may be handled before our own SIGINT handler runs: it is that Ctrl+C, not a failure.
      if (st.interrupt === null && !ownGroup && exit.signal === 'SIGINT') onSignal('SIGINT');
    }
    st.phase = 'ending';

    let cancel: CancelOutcome | null = null;
    let final: string | null = null;
    const code = commandStatus(exit);
    if (st.interrupt !== null) {
      cancel = st.cancelling ? await st.cancelling : null;
    } else if (code !== 0) {
      // Unless the run was ended meanwhile (deadline, a cancel from elsewhere), a failure rolls back.
      const now = await tolerate(session.request(RunGet, { run: runId }), errors);
      if (now?.run.status === 'running') {
        const message = `command ${start.command.join(' ')} failed with exit status ${code}`;
        cancel = await tolerate(session.request(Cancel, { run: runId, reason: 'error', trigger: 'command_failed', message }), errors);
      }
    } else {
      final = (await tolerate(session.request(RunFinish, { run: runId }), errors))?.final ?? null;
    }
    const detail = await settledRun(session, runId, errors);
    const exitCode = errors.length && code === 0 && !detail ? exitCodeFor(errors[0]) : runExitCode(st.interrupt, detail, code);
    const outcome: RunOutcome = {
      run: runId,
      status: detail?.status ?? cancel?.status ?? (final ? 'completed' : 'unknown'),
      reason: detail?.reason ?? cancel?.reason ?? null,
      trigger: detail?.trigger ?? cancel?.trigger ?? null,
      action: detail?.action ?? cancel?.action ?? null,
      resumable: detail?.resumable ?? false,
      exitCode,
      command: exit,
      cancel,
      final: final ?? null,
      errors: errors.map((e) => ({ code: e.code, message: e.message })),
    };
    for (const e of errors) ctx.notice(`shadowctl: warning: ${e.message}`);
    ctx.notice(summaryLine(outcome, shadowctlPrefix(ctx)));
    return outcome;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    session.close();
  }
}

/** Starts the run, or resumes it from its last checkpoint (`run --resume`); the phase to resume in, if resumed. */
async function begin(session: DaemonSession, start: ParamsOf<typeof RunStart>, opts: SuperviseOptions): Promise<{ runId: string; resumePhase: string | null }> {
  if (!opts.resume) return { runId: (await session.request(RunStart, start)).run, resumePhase: null };
  const r = await session.request(Resume, { ...opts.resume, mode: 'continue' });
  return { runId: r.run, resumePhase: r.plan?.next ?? '' };
}

/** Registers the command's pid; when the run already ended (deadline hit first), stops the command ourselves. */
async function register(session: DaemonSession, run: string, pid: number, errors: ShadowError[], stop: () => void, ctx: CommandContext): Promise<void> {
  try {
    await session.request(RunRegister, { run, pid });
  } catch (err) {
    const e = toShadowError(err);
    if (e.code === 'RUN_NOT_RUNNING' || e.code === 'RUN_NOT_FOUND') {
      ctx.notice(`shadowctl: run ${run} ended before its command was registered: stopping the command`);
      stop();
    } else {
      errors.push(e);
    }
  }
}

/** Resolves once the child exits, or could not be spawned at all. */
function waitForExit(child: ChildProcess): Promise<CommandExit> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, spawnError: null }));
    child.once('error', (err: NodeJS.ErrnoException) => {
      // 'error' without a pid: the command never started (ENOENT, EACCES).
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError: err.code ?? err.message });
    });
  });
}

/** RunGet until the run reaches a final status (the daemon may still be cancelling it). */
async function settledRun(session: DaemonSession, run: string, errors: ShadowError[]): Promise<RunDetail | null> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const r = await tolerate(session.request(RunGet, { run }), errors);
    if (!r || FINAL_STATUSES.includes(r.run.status) || Date.now() > deadline) return r?.run ?? null;
    await new Promise((res) => setTimeout(res, SETTLE_POLL_MS));
  }
}

/** The request's result; null when the run is no longer running (a race we expect), other errors collected. */
async function tolerate<T>(p: Promise<T>, errors: ShadowError[]): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (isShadowError(err) && (err.code === 'RUN_NOT_RUNNING' || err.code === 'NO_ACTIVE_RUN')) return null;
    errors.push(toShadowError(err));
    return null;
  }
}

/** One connection kept for the whole run, reconnected once if the daemon dropped it (e.g. restarted). */
class DaemonSession {
  private client: ShadowClient | null = null;

  constructor(private readonly connect: () => Promise<ShadowClient>) {}

  /** Sends a request, reconnecting once on CONNECTION_CLOSED. */
  async request<M extends MethodDef>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    for (let attempt = 0; ; attempt++) {
      this.client ??= await this.connect();
      try {
        return await this.client.request(method, params);
      } catch (err) {
        if (attempt > 0 || !isShadowError(err) || err.code !== 'CONNECTION_CLOSED') throw err;
        this.client.close();
        this.client = null;
      }
    }
  }

  /** Closes the connection. */
  close(): void {
    this.client?.close();
    this.client = null;
  }
}
