/**
 * Moving a run along (S4.2, S4.3): start (base checkpoint), phases (phase-end checkpoints),
 * steps with artifacts, checkpoints, unsafe sections, error reports (the threshold cancels),
 * resource registration and finish. Every failure names the run, its phase and the values.
 */
import { basename } from 'node:path';
import type { ParsedParamsOf, ResultOf } from '../../shared/defineMethod.js';
import { ShadowError } from '../../shared/errors.js';
import type { Checkpoint, RunError, RunFinish, RunPhase, RunRegister, RunStart, RunStep, RunUnsafe } from '../../shared/methods/index.js';
import { runRef } from '../../shared/runModel.js';
import type { CheckpointMeta } from '../store/commitCodec.js';
import type { CheckpointWritten } from '../store/snapshotEngine.js';
import { removeAbortFile } from './abortFile.js';
import { fsClockNow, normalizeRunPath, originAtRegistration } from './cleanupResources.js';
import type { RunManager } from './runManager.js';
import { newRunId } from './runId.js';
import type { RunRecord } from './runRecord.js';
import { toSummary } from './runRecord.js';

/** Where a run is, for error messages (S5.11). */
function where(run: RunRecord): string {
  return `run ${run.id} (${run.name})${run.phase ? `, phase ${run.phase}` : ''}`;
}

/** Commits the working tree on the run's ref and counts it. Inside `exclusive`. */
async function commitOnRun(m: RunManager, run: RunRecord, subject: string, meta: Omit<CheckpointMeta, 'run'>): Promise<CheckpointWritten> {
  const c = await m.opts.engine.commitWorkingTree(run.ref, subject, { ...meta, run: run.id });
  run.lastCheckpoint = c.commit;
  run.checkpoints++;
  return c;
}

/** Starts a run: RUN_ACTIVE when a top-level run is active; clears a stale abort file; takes the base. */
export function startRun(m: RunManager, p: ParsedParamsOf<typeof RunStart>): Promise<ResultOf<typeof RunStart>> {
  const { engine, layout, logger } = m.opts;
  return engine.exclusive(async () => {
    // Checked inside the queue: two starts racing are serialized here.
    if (p.parent) m.resolveRunning(p.parent, 'start a child run of it');
    else {
      const active = m.activeTopLevel();
      if (active) {
        throw new ShadowError('RUN_ACTIVE', `Run ${active.id} (${active.name}) is ${active.status}${active.phase ? ` in phase ${active.phase}` : ''}: finish or cancel it first`, {
          run: active.id,
          name: active.name,
          status: active.status,
          phase: active.phase,
        });
      }
    }
    const phases = p.phases ?? [];
    const dup = phases.find((ph, i) => phases.indexOf(ph) !== i);
    if (dup) throw new ShadowError('INVALID_PARAMS', `Phase ${JSON.stringify(dup)} is declared twice in ${JSON.stringify(phases)}`, { phases, duplicate: dup });
    if (removeAbortFile(layout.workspace)) logger.info({}, 'stale abort file cleared at run start');
    const id = newRunId();
    const name = p.name ?? (p.command?.[0] ? basename(p.command[0]) : 'run');
    const base = await engine.commitWorkingTree(runRef(id), `base of run ${id} (${name})`, { kind: 'base', run: id });
    // Warm the reader's tree cache: a cancel later reads this tree, and should not pay for it then.
    await engine.reader.readFlatTree(base.tree);
    const now = Date.now();
    // After the base: a file born from here on is the run's (cleanup, S5.6).
    const fsStartedAt = fsClockNow(layout.stateDir);
    const run: RunRecord = {
      id,
      name,
      status: 'running',
      phase: null,
      phases: [...phases],
      checkpoints: 1,
      steps: 0,
      parent: p.parent ?? null,
      startedAt: now,
      fsStartedAt,
      deadline: p.timeoutMs ? now + p.timeoutMs : null,
      unsafe: 0,
      base: base.commit,
      lastCheckpoint: null,
      ref: runRef(id),
      completedSteps: [],
      currentStep: null,
      errors: 0,
      children: [],
      pids: [],
      lockFiles: [],
      tempPaths: [],
      command: p.command ?? null,
      endedAt: null,
      reason: null,
      trigger: null,
      action: null,
      message: null,
      inconsistent: false,
      preAbort: null,
      report: null,
      resumable: false,
    };
    if (phases.length) m.declaredPhases.add(id);
    if (p.parent) {
      const parent = m.find(p.parent);
      parent.children.push(id);
      m.save(parent);
    }
    m.add(run);
    logger.info({ run: id, name, base: base.commit, parent: run.parent, phases, deadline: run.deadline }, 'run started');
    return { run: id, base: base.commit, ref: run.ref, name, phases: [...phases] };
  });
}

/** Enters a phase; the phase being left ends with a phase-end checkpoint. */
export function enterPhase(m: RunManager, p: ParsedParamsOf<typeof RunPhase>): Promise<ResultOf<typeof RunPhase>> {
  return m.opts.engine.exclusive(async () => {
    const run = m.resolveRunning(p.run, `enter phase ${p.name}`);
    if (m.declaredPhases.has(run.id) && !run.phases.includes(p.name)) {
      throw new ShadowError('INVALID_PARAMS', `Unknown phase ${JSON.stringify(p.name)} for ${where(run)}: its phases are ${run.phases.join(', ')}`, {
        run: run.id,
        phase: run.phase,
        requested: p.name,
        phases: run.phases,
      });
    }
    let checkpoint: string | null = null;
    // Re-entering the current phase (a resumed job announcing SHADOW_RESUME_PHASE) ends nothing.
    if (run.phase !== null && run.phase !== p.name) checkpoint = (await commitOnRun(m, run, `end of phase ${run.phase}`, { kind: 'phase-end', phase: run.phase })).commit;
    if (!run.phases.includes(p.name)) run.phases.push(p.name);
    run.phase = p.name;
    run.currentStep = null;
    run.errors = 0;
    m.save(run);
    return { run: run.id, phase: p.name, index: run.phases.indexOf(p.name) + 1, total: run.phases.length, checkpoint };
  });
}

/** Records a completed step (with a checkpoint holding its artifacts). */
export function completeStep(m: RunManager, p: ParsedParamsOf<typeof RunStep>): Promise<ResultOf<typeof RunStep>> {
  return m.opts.engine.exclusive(async () => {
    const run = m.resolveRunning(p.run, `record step ${p.name}`);
    const artifacts = (p.artifacts ?? []).map(normalizeRunPath);
    const c = await commitOnRun(m, run, `step ${p.name}`, { kind: 'checkpoint', phase: run.phase, step: p.name });
    run.completedSteps.push({ name: p.name, phase: run.phase, artifacts, at: Date.now(), checkpoint: c.commit });
    run.steps = run.completedSteps.length;
    run.currentStep = null;
    run.errors = 0;
    m.save(run);
    return { run: run.id, step: p.name, artifacts, steps: run.steps };
  });
}

/** An explicit checkpoint inside a run (S4.3); resets the consecutive-error count. Inside `exclusive`. */
export async function checkpointRun(m: RunManager, run: RunRecord, p: ParsedParamsOf<typeof Checkpoint>): Promise<CheckpointWritten> {
  const current = m.resolveRunning(run.id, 'take a checkpoint');
  const c = await commitOnRun(m, current, p.message ?? `checkpoint of run ${run.id}`, { kind: 'checkpoint', phase: run.phase, step: run.currentStep });
  current.errors = 0;
  m.save(current);
  return c;
}

/** Opens or closes an unsafe section (S5.5); closing one is allowed while a cancel waits for it. */
export function markUnsafe(m: RunManager, p: ParsedParamsOf<typeof RunUnsafe>): ResultOf<typeof RunUnsafe> {
  const run = m.resolveRunning(p.run, `${p.section} an unsafe section`, p.section === 'end');
  if (p.section === 'begin') run.unsafe++;
  else {
    if (run.unsafe === 0) throw new ShadowError('INVALID_PARAMS', `No unsafe section is open in ${where(run)}`, { run: run.id, phase: run.phase, unsafe: 0 });
    run.unsafe--;
  }
  m.save(run);
  if (p.section === 'end') m.notifyUnsafe();
  return { run: run.id, depth: run.unsafe };
}

/** Counts an error; at `errorThreshold` consecutive ones the run is cancelled with reason error (S5.1). */
export async function reportError(m: RunManager, p: ParsedParamsOf<typeof RunError>): Promise<ResultOf<typeof RunError>> {
  const run = m.resolveRunning(p.run, 'report an error');
  const threshold = m.opts.config.errorThreshold;
  run.errors++;
  m.save(run);
  m.opts.logger.warn({ run: run.id, phase: run.phase, errors: run.errors, threshold, message: p.message }, 'run error reported');
  if (run.errors < threshold) return { run: run.id, errors: run.errors, threshold, cancelled: null };
  const message = `${run.errors} consecutive errors reached errorThreshold ${threshold}${run.phase ? ` in phase ${run.phase}` : ''}${p.message ? `; last: ${p.message}` : ''}`;
  const cancelled = await m.cancel({ run: run.id, reason: 'error', trigger: 'error_threshold', force: false, dryRun: false, message });
  return { run: run.id, errors: run.errors, threshold, cancelled };
}

/** Registers processes, lock files and temp paths the run owns (S4.1, S5.6). */
export function registerResources(m: RunManager, p: ParsedParamsOf<typeof RunRegister>): ResultOf<typeof RunRegister> {
  const run = m.resolveRunning(p.run, 'register resources');
  const stateRel = m.opts.layout.stateDirRel;
  const check = (raw: string): string => {
    const path = normalizeRunPath(raw);
    if (stateRel && (path === stateRel || path.startsWith(`${stateRel}/`) || stateRel.startsWith(`${path}/`))) {
      throw new ShadowError('PATH_INVALID', `Refusing ${JSON.stringify(raw)} for ${where(run)}: it holds Shadow's state folder ${stateRel}`, { run: run.id, path: raw, stateDir: stateRel });
    }
    return path;
  };
  const lockFiles = (p.lockFiles ?? []).map(check);
  const tempPaths = (p.tempPaths ?? []).map(check);
  if (p.pid !== undefined && !run.pids.includes(p.pid)) run.pids.push(p.pid);
  // What each path is now decides what cleanup may delete later (S5.6): judged once, at first registration.
  const origins = (run.resourceOrigins ??= {});
  for (const path of [...lockFiles, ...tempPaths]) origins[path] ??= originAtRegistration(m.opts.layout.workspace, path, run.fsStartedAt ?? run.startedAt);
  for (const f of lockFiles) if (!run.lockFiles.includes(f)) run.lockFiles.push(f);
  for (const t of tempPaths) if (!run.tempPaths.includes(t)) run.tempPaths.push(t);
  m.save(run);
  return { run: run.id };
}

/** Ends a run successfully: final checkpoint, status completed. */
export function finishRun(m: RunManager, p: ParsedParamsOf<typeof RunFinish>): Promise<ResultOf<typeof RunFinish>> {
  return m.opts.engine.exclusive(async () => {
    const run = m.resolveRunning(p.run, 'finish');
    const c = await commitOnRun(m, run, `final checkpoint of run ${run.id} (completed)`, { kind: 'final', phase: run.phase });
    Object.assign(run, { status: 'completed', endedAt: Date.now(), resumable: false, currentStep: null });
    m.save(run);
    m.opts.logger.info({ run: run.id, final: c.commit, steps: run.steps, summary: toSummary(run) }, 'run completed');
    return { run: run.id, status: run.status, final: c.commit };
  });
}
