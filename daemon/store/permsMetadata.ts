/**
 * Permission bits of a checkpoint's files, kept in Shadow's own metadata (git trees store only
 * the exec bit). Each commit message carries one default per git mode (the most common bits, so
 * a tree of 100k files all 0664 costs one line) and one line per file that differs:
 *
 *   Shadow-Perms: 644 755
 *   Shadow-Perm: 600 "secrets.env"
 *
 * The lines live in the commit object itself, so they are reachable exactly as long as the
 * commit is (a blob named only in a message would be pruned by `git gc`). A restore applies the
 * bits exactly; a commit without them (written before this existed) keeps an overwritten file's
 * bits, with the exec bit the tree says, and gives a new file 0644 or 0755.
 */
import type { Stats } from 'node:fs';
import type { FileMode } from './flatTree.js';

/** Trailer naming the default bits of 100644 and 100755 files. */
export const PERMS_TRAILER = 'Shadow-Perms';
/** Trailer naming one file whose bits differ from its mode's default. */
export const PERM_TRAILER = 'Shadow-Perm';

/** The permission bits of a checkpoint's regular files. */
export interface CommitPerms {
  /** Bits of a 100644 file not listed in `exceptions`. */
  file: number;
  /** Bits of a 100755 file not listed in `exceptions`. */
  exec: number;
  /** path -> bits, for files that differ from their mode's default. */
  exceptions: Map<string, number>;
}

/** The permission bits Shadow records and restores: rwx for user, group, other (never setuid/setgid/sticky). */
export function permBits(mode: number): number {
  return mode & 0o777;
}

/** Visits every file: directory ('' = root), name, mode and bits. */
export type EachFile = (fn: (dir: string, name: string, rec: { mode: FileMode; perms: number }) => void) => void;

/**
 * Computes a commit's perms from every file's mode and bits (symlinks have none that matter).
 * Two passes and no allocation per file: it runs at every checkpoint, over the whole index.
 */
export function summarizePerms(each: EachFile): CommitPerms {
  const counts = { '100644': new Map<number, number>(), '100755': new Map<number, number>() };
  each((_dir, _name, rec) => {
    if (rec.mode === '120000') return;
    const m = counts[rec.mode];
    m.set(rec.perms, (m.get(rec.perms) ?? 0) + 1);
  });
  const top = (m: Map<number, number>, fallback: number): number => {
    let best = fallback;
    let n = m.get(fallback) ?? 0;
    for (const [bits, count] of m) if (count > n) [best, n] = [bits, count];
    return best;
  };
  const file = top(counts['100644'], 0o644);
  const exec = top(counts['100755'], 0o755);
  const exceptions = new Map<string, number>();
  each((dir, name, rec) => {
    if (rec.mode !== '120000' && rec.perms !== (rec.mode === '100755' ? exec : file)) exceptions.set(dir ? `${dir}/${name}` : name, rec.perms);
  });
  return { file, exec, exceptions };
}

/** The message lines of `perms`, exceptions sorted by path (deterministic commits). */
export function encodePerms(perms: CommitPerms): string[] {
  const lines = [`${PERMS_TRAILER}: ${octal(perms.file)} ${octal(perms.exec)}`];
  for (const path of [...perms.exceptions.keys()].sort()) lines.push(`${PERM_TRAILER}: ${octal(perms.exceptions.get(path) as number)} ${JSON.stringify(path)}`);
  return lines;
}

/** Reads perms back from a commit message's trailer lines; null when the commit has none (older commits). */
export function decodePerms(lines: string[]): CommitPerms | null {
  let out: CommitPerms | null = null;
  const exceptions = new Map<string, number>();
  for (const line of lines) {
    if (line.startsWith(`${PERMS_TRAILER}: `)) {
      const m = /^([0-7]{3,4}) ([0-7]{3,4})$/.exec(line.slice(PERMS_TRAILER.length + 2));
      if (m) out = { file: parseInt(m[1] as string, 8) & 0o777, exec: parseInt(m[2] as string, 8) & 0o777, exceptions };
    } else if (line.startsWith(`${PERM_TRAILER}: `)) {
      const m = /^([0-7]{3,4}) (".*")$/.exec(line.slice(PERM_TRAILER.length + 2));
      if (!m) continue;
      try {
        const path = JSON.parse(m[2] as string) as unknown;
        if (typeof path === 'string') exceptions.set(path, parseInt(m[1] as string, 8) & 0o777);
      } catch {
        // A line that is not ours: the path keeps its mode's default.
      }
    }
  }
  return out;
}

/**
 * The bits a restore gives `path` (a regular file of git mode `mode`): exactly the recorded ones;
 * without a record, an existing file's bits with the exec bit the tree says, else 0644/0755.
 */
export function restoredPerms(perms: CommitPerms | null, path: string, mode: FileMode, existing: Stats | null): number {
  const exec = mode === '100755';
  if (perms) return perms.exceptions.get(path) ?? (exec ? perms.exec : perms.file);
  if (existing?.isFile()) {
    const rw = existing.mode & 0o666;
    // The exec bit follows read: a 0600 file made executable is 0700, never 0711.
    return exec ? rw | ((rw & 0o444) >> 2) : rw;
  }
  return exec ? 0o755 : 0o644;
}

function octal(bits: number): string {
  return bits.toString(8).padStart(3, '0');
}
