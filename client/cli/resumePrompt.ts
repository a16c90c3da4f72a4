/**
 * The interactive choice of `shadowctl resume` on a terminal (S6.5): shows the run (id, cancel
 * time, phase k/n, completed steps) and asks [C]ontinue / [R]estart / [S]tart from a phase /
 * [D]iscard. Only the question runs here; the command sends the chosen resume.
 */
import { createInterface } from 'node:readline/promises';
import type { ResultOf } from '../../shared/defineMethod.js';
import type { ResumeList, ResumeMode } from '../../shared/methods/resume.js';

/** A run as run.resumable lists it. */
export type ResumableRun = ResultOf<typeof ResumeList>['runs'][number];

/** What the person chose; null when they quit (empty answer, q, end of input). */
export type ResumeChoice = { mode: ResumeMode; phase?: string } | null;

/** The lines describing a run before the question. */
export function describeRun(run: ResumableRun): string[] {
  const when = run.endedAt === null ? 'unknown time' : new Date(run.endedAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const k = run.phase === null ? 0 : run.phases.indexOf(run.phase) + 1;
  const phase = run.phases.length ? `phase ${k}/${run.phases.length}${run.phase ? ` (${run.phase})` : ''}` : 'no phases';
  return [
    `Run ${run.id} '${run.name}' ${run.status}${run.reason ? ` (${run.reason})` : ''} at ${when}`,
    `Stopped in ${phase}, ${run.progress.percent}% done`,
    `Completed steps: ${run.completedSteps.length ? run.completedSteps.join(', ') : '(none)'}`,
  ];
}

/** Asks on the terminal; `output` gets the description and the questions. */
export async function promptResume(run: ResumableRun, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<ResumeChoice> {
  const rl = createInterface({ input, output, terminal: true });
  // End of input (Ctrl+D) answers "quit" rather than leaving the question pending.
  const ask = (q: string): Promise<string> => new Promise((resolve) => {
    rl.once('close', () => resolve(''));
    rl.question(q).then((a) => resolve(a.trim()), () => resolve(''));
  });
  try {
    output.write(`${describeRun(run).join('\n')}\n`);
    for (;;) {
      const a = (await ask('[C]ontinue / [R]estart / [S]tart from a phase / [D]iscard / [Q]uit? ')).toLowerCase();
      if (a === '' || a === 'q') return null;
      if (a === 'c') return { mode: 'continue' };
      if (a === 'r') return { mode: 'restart' };
      if (a === 'd') {
        const sure = (await ask(`Discard run ${run.id}, its record and refs/shadow/runs/${run.id}? [y/N] `)).toLowerCase();
        return sure === 'y' || sure === 'yes' ? { mode: 'discard' } : null;
      }
      if (a === 's') {
        if (!run.phases.length) {
          output.write('This run declared no phases.\n');
          continue;
        }
        const list = run.phases.map((p, i) => `${i + 1}) ${p}`).join('  ');
        const p = await ask(`Start from which phase? ${list}: `);
        const phase = /^\d+$/.test(p) ? run.phases[Number(p) - 1] : run.phases.find((x) => x === p);
        if (phase) return { mode: 'from_phase', phase };
        output.write(`No phase ${JSON.stringify(p)}.\n`);
        continue;
      }
      output.write('Please answer c, r, s, d or q.\n');
    }
  } finally {
    rl.close();
  }
}
