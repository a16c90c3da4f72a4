/**
 * Checkpoint commits: plain git commits whose message ends with trailers (S1.5), so
 * `git log refs/shadow/auto` shows run, phase, step, kind and reason without Shadow installed.
 */
import type { CommitPerms } from './permsMetadata.js';
import { decodePerms, encodePerms } from './permsMetadata.js';

/** Kinds of checkpoint commits (S1.5). */
export type CheckpointKind = 'base' | 'checkpoint' | 'phase-end' | 'pre-abort' | 'final' | 'auto';

/** Metadata carried as trailers. */
export interface CheckpointMeta {
  kind: CheckpointKind;
  run?: string | null;
  phase?: string | null;
  step?: string | null;
  reason?: string | null;
}

/** Everything needed to write a checkpoint commit. */
export interface CommitInput {
  tree: string;
  parents: string[];
  subject: string;
  meta: CheckpointMeta;
  /** Unix seconds; default now. */
  time?: number;
  /** Permission bits of the tree's files, written as trailers after the metadata. */
  perms?: CommitPerms;
}

const IDENT = 'Shadow <shadow@localhost>';
const TRAILERS: [keyof CheckpointMeta, string][] = [
  ['kind', 'Shadow-Kind'],
  ['run', 'Shadow-Run'],
  ['phase', 'Shadow-Phase'],
  ['step', 'Shadow-Step'],
  ['reason', 'Shadow-Reason'],
];

/** A subject or trailer value must stay on one line; NUL has no place in a commit message either. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\0]+/g, ' ').trim();
}

/** Encodes the content of a commit object. */
export function encodeCommit(input: CommitInput): Buffer {
  const time = input.time ?? Math.floor(Date.now() / 1000);
  const lines = [`tree ${input.tree}`];
  for (const p of input.parents) lines.push(`parent ${p}`);
  lines.push(`author ${IDENT} ${time} +0000`, `committer ${IDENT} ${time} +0000`, '');
  const subject = oneLine(input.subject) || input.meta.kind;
  lines.push(subject, '');
  for (const [key, name] of TRAILERS) {
    const value = input.meta[key];
    if (value) lines.push(`${name}: ${oneLine(String(value))}`);
  }
  if (input.perms) lines.push(...encodePerms(input.perms));
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

/** A decoded checkpoint commit. */
export interface DecodedCommit {
  tree: string;
  parents: string[];
  time: number;
  subject: string;
  meta: { kind: string | null; run: string | null; phase: string | null; step: string | null; reason: string | null };
  /** Permission bits of the tree's files; null for a commit written without them. */
  perms: CommitPerms | null;
}

/** Decodes a commit object's content, reading Shadow trailers from the message. */
export function decodeCommit(content: Uint8Array): DecodedCommit {
  const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  const message = split < 0 ? '' : text.slice(split + 2);
  let tree = '';
  const parents: string[] = [];
  let time = 0;
  for (const line of head.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('committer ')) time = Number(/ (\d+) [+-]\d{4}$/.exec(line)?.[1] ?? 0);
  }
  const meta: DecodedCommit['meta'] = { kind: null, run: null, phase: null, step: null, reason: null };
  // Trailers are read after the subject line only: a client's checkpoint message is the subject,
  // and "Shadow-Run: x" typed there must not pass for metadata (issue #5, hostile input).
  const body = message.split('\n').slice(1);
  for (const line of body) {
    for (const [key, name] of TRAILERS) {
      if (line.startsWith(`${name}: `)) meta[key] = line.slice(name.length + 2);
    }
  }
  return { tree, parents, time, subject: message.split('\n')[0] ?? '', meta, perms: decodePerms(body) };
}
