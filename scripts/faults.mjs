#!/usr/bin/env node
/**
 * Fault injection (issue #5): SIGKILLs the built daemon during checkpoints, ref updates, restores
 * and cancels, and checks every recovery (docs/RELIABILITY.md). Build first (`npm run build`).
 *
 *   node scripts/faults.mjs [--kills 60] [--seed N] [--files 3000] [--phases checkpoint,ref,restore,cancel] [--json] [--keep] [--quiet] [--dist DIR]
 *
 * Prints the seed (pass it back with --seed to replay the same kills) and a table per phase;
 * exits 1 when any recovery check failed. `--dist` runs another build than ./dist (e.g. a copy made
 * with `tsc -p tsconfig.build.json --outDir`, so that rebuilds of ./dist during the run do not matter).
 */
import process from 'node:process';
import { parseArgs } from 'node:util';
import { formatReport, PHASE_NAMES, runFaults } from './faultsCore.mjs';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '60' },
    seed: { type: 'string' },
    files: { type: 'string', default: '3000' },
    phases: { type: 'string', default: PHASE_NAMES.join(',') },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    dist: { type: 'string' },
  },
});

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const phases = values.phases.split(',').filter(Boolean);
for (const p of phases) if (!PHASE_NAMES.includes(p)) throw new Error(`unknown phase ${p}; phases: ${PHASE_NAMES.join(', ')}`);
process.stderr.write(`faults: seed ${seed} (replay with --seed ${seed})\n`);
const report = await runFaults({
  kills: Number(values.kills),
  seed,
  files: Number(values.files),
  phases,
  keep: values.keep,
  dist: values.dist,
  log: values.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
process.exitCode = report.failures ? 1 : 0;
