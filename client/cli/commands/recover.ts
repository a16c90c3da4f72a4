/**
 * `shadowctl recover`: lists the backup stores kept outside work trees and restores a checkpoint
 * of a deleted or damaged workspace into a directory (issue #10.8). It needs no daemon (the
 * workspace may be gone): it runs the daemon binary once, `shadowd recover ...`, which reads the
 * git objects (shadowctl loads no git code), and prints its answer.
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { WireError } from '../../../shared/errors.js';
import { ShadowError } from '../../../shared/errors.js';
import type { Command, CommandResult } from '../command.js';
import { shortOid } from '../output.js';
import { positiveIntOption, stringOption } from '../parseArgs.js';

/** One backup store as `shadowd recover --list` reports it. */
interface Backup {
  store: string;
  workspace: string;
  workspaceExists: boolean;
  kind: string;
  newest: { commit: string; ref: string; time: number } | null;
  updatedAt: number;
}

/** A duration in words, coarse: "5 min", "3 h", "2 days". */
function age(seconds: number): string {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/** Runs `shadowd recover ARGS` and returns its parsed JSON answer; its `error` becomes a thrown ShadowError. */
async function runRecover(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Record<string, unknown>> {
  const { spawn } = await import('node:child_process');
  const entry = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
  const child = spawn(process.execPath, [entry, 'recover', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', (c) => done(c));
  });
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(Buffer.concat(out).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new ShadowError('INTERNAL', `shadowd recover exited ${code} without an answer: ${Buffer.concat(err).toString('utf8').trim() || '(no stderr)'}`, { code });
  }
  if (parsed.error) throw ShadowError.fromWire(parsed.error as WireError);
  return parsed;
}

/** The recover command. */
export const command: Command = {
  spec: {
    name: 'recover',
    usage: 'recover [--list] | --from WS|STORE --log | --from WS|STORE [--checkpoint C] --into DIR',
    summary: 'List backup stores, or restore a checkpoint of a deleted or damaged workspace into a directory.',
    description:
      'Every checkpoint is also kept outside the work tree, in $XDG_DATA_HOME/shadow/<name>-<id>.git\n' +
      '(default ~/.local/share/shadow; $SHADOW_BACKUP_DIR overrides), so a project whose .git, .shadow/\n' +
      'or whole directory was deleted can still be recovered. Without options: one line per backup\n' +
      'store (workspace, newest checkpoint, age). --from takes the workspace path (even deleted),\n' +
      'the store path or its folder name. --into must be a new or empty directory: nothing is\n' +
      'overwritten. The default checkpoint is the newest on any shadow ref; --checkpoint takes a ref\n' +
      '(auto, undo, runs/RUN), a commit id or prefix, with ~N. No daemon is needed.\n' +
      '--json: { backups: [...] } | { entries: [...] } | { store, workspace, checkpoint, into, files }.',
    options: [
      { long: 'list', type: 'boolean', description: 'list the backup stores (the default)' },
      { long: 'from', type: 'string', value: 'WS|STORE', description: 'the backup store: its workspace path, store path or folder name' },
      { long: 'log', type: 'boolean', description: 'list the checkpoints of the --from store, newest first' },
      { long: 'max-count', short: 'n', type: 'string', value: 'N', description: 'with --log: at most N checkpoints (default 20)' },
      { long: 'checkpoint', type: 'string', value: 'C', description: 'the checkpoint to restore (default: the newest)' },
      { long: 'into', type: 'string', value: 'DIR', description: 'the new or empty directory to write the files into' },
    ],
    minPositionals: 0,
    maxPositionals: 0,
    examples: ['shadowctl recover', 'shadowctl recover --from ~/src/app --log', 'shadowctl recover --from ~/src/app --into ~/src/app-recovered', 'shadowctl recover --from ~/src/app --checkpoint undo --into /tmp/app'],
  },
  async run(args, ctx): Promise<CommandResult> {
    const from = stringOption(args, 'from');
    const into = stringOption(args, 'into');
    const checkpoint = stringOption(args, 'checkpoint');
    const n = positiveIntOption(args, 'max-count', 'recover');
    if ((into !== undefined || args.values.log || checkpoint !== undefined) && from === undefined) {
      throw new ShadowError('USAGE', 'recover: --from WS|STORE is required (shadowctl recover lists the stores)', { command: 'recover', option: 'from' });
    }
    if (from !== undefined && !args.values.log && into === undefined && !args.values.list) {
      throw new ShadowError('USAGE', 'recover: give --into DIR to restore, or --log to list the checkpoints', { command: 'recover', option: 'into' });
    }
    const forwarded: string[] = [];
    if (from === undefined || args.values.list) forwarded.push('--list');
    else {
      forwarded.push('--from', from);
      if (args.values.log) forwarded.push('--log', '-n', String(n ?? 20));
      else forwarded.push('--into', resolve(ctx.cwd, into as string), ...(checkpoint !== undefined ? ['--checkpoint', checkpoint] : []));
    }
    const r = await runRecover(forwarded, ctx.env, ctx.cwd);
    const now = Date.now() / 1000;
    if (Array.isArray(r.backups)) {
      const backups = r.backups as Backup[];
      const lines = backups.length
        ? backups.map((b) => `${b.workspace}${b.workspaceExists ? '' : ' (deleted)'}  ${b.newest ? `${shortOid(b.newest.commit)} ${b.newest.ref.replace('refs/shadow/', '')} ${age(now - b.newest.time)} ago` : 'no checkpoint'}  ${b.store}`)
        : ['No backup stores yet.'];
      return { json: r, lines };
    }
    if (Array.isArray(r.entries)) {
      const entries = r.entries as { commit: string; ref: string; time: number; subject: string }[];
      return { json: r, lines: entries.map((e) => `${shortOid(e.commit)}  ${age(now - e.time)} ago  ${e.ref.replace('refs/shadow/', '')}  ${e.subject}`) };
    }
    const c = r.checkpoint as { commit: string; subject: string };
    return { json: r, lines: [`Recovered ${r.files as number} files of checkpoint ${shortOid(c.commit)} (${c.subject}) into ${r.into as string}.`] };
  },
};
