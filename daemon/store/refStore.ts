/**
 * Shadow's refs under refs/shadow/, written with git's lock protocol (S1.6): create
 * `<ref>.lock` exclusively, check the old value, write, rename over the ref. isomorphic-git's
 * writeRef locks within one process only, so it is not used here. Reads honour packed-refs,
 * because the user's `git pack-refs --all` or `git gc` moves our refs there.
 *
 * Callers name refs as `refs/shadow/<name>` whatever the worktree; the store keeps them in this
 * worktree's namespace (WorkspaceLayout.refNamespace): a linked worktree's under
 * `refs/shadow/worktrees/<id>/`, which no other worktree reads, lists, moves or deletes.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ShadowError } from '../../shared/errors.js';
import { faultPoint } from '../faultPoint.js';

/** The namespace every Shadow ref lives in (S1.2). */
export const SHADOW_REF_PREFIX = 'refs/shadow/';

/** Where linked worktrees' namespaces live: never a ref name of its own in any worktree. */
const WORKTREES_PREFIX = `${SHADOW_REF_PREFIX}worktrees/`;

const OID = /^[0-9a-f]{40}$/;

/** When this process started: a lock file older than that was not taken by this daemon. */
const PROCESS_START_MS = Date.now() - process.uptime() * 1000;
/** A ref lock from before this daemon started is stale once this old: git holds ref locks for milliseconds. */
const STALE_FROM_BEFORE_START_MS = 1000;
/** Any ref lock this old is stale, whoever took it. */
const STALE_MS = 30_000;

/** Reads and updates refs in a git dir (the common dir: where refs and packed-refs live). */
export class RefStore {
  private readonly gitDir: string;

  /** Where this worktree's refs are stored: SHADOW_REF_PREFIX, or `refs/shadow/worktrees/<id>/`. */
  private readonly namespace: string;

  /** `<gitDir>/<namespace>`: only locks below it may be judged stale and removed. */
  private readonly shadowRefsDir: string;

  constructor(gitDir: string, namespace: string = SHADOW_REF_PREFIX) {
    this.gitDir = gitDir;
    this.namespace = namespace;
    this.shadowRefsDir = join(gitDir, namespace);
  }

  /** Full ref name for a short name: 'auto' → 'refs/shadow/auto'. */
  static qualify(name: string): string {
    return name.startsWith('refs/') ? name : SHADOW_REF_PREFIX + name;
  }

  /**
   * Where `ref` is stored: `refs/shadow/<name>` in this worktree's namespace, other refs as they
   * are; null for a name under refs/shadow/worktrees/ (other worktrees' refs are never ours).
   */
  stored(ref: string): string | null {
    if (!ref.startsWith(SHADOW_REF_PREFIX)) return ref;
    if (ref.startsWith(WORKTREES_PREFIX)) return null;
    return this.namespace + ref.slice(SHADOW_REF_PREFIX.length);
  }

  /** The ref's oid, or null if it does not exist (loose first, then packed-refs, like git). */
  read(ref: string): string | null {
    const stored = this.stored(ref);
    return stored === null ? null : this.readStored(stored);
  }

  private readStored(ref: string): string | null {
    try {
      const value = readFileSync(join(this.gitDir, ref), 'utf8').trim();
      if (OID.test(value)) return value;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
    }
    return this.packed().get(ref) ?? null;
  }

  /**
   * Every ref under `prefix` with its oid, loose refs overriding packed ones. Under refs/shadow/:
   * this worktree's refs only, by their `refs/shadow/<name>` names; any other prefix (`refs/`:
   * what keeps objects reachable) lists the store as it is, every worktree's refs included.
   */
  list(prefix = SHADOW_REF_PREFIX): Map<string, string> {
    if (!prefix.startsWith(SHADOW_REF_PREFIX)) return this.listStored(prefix);
    const stored = this.stored(prefix);
    const out = new Map<string, string>();
    if (stored === null) return out;
    for (const [ref, oid] of this.listStored(stored)) {
      const name = SHADOW_REF_PREFIX + ref.slice(this.namespace.length);
      if (!name.startsWith(WORKTREES_PREFIX)) out.set(name, oid);
    }
    return out;
  }

  private listStored(prefix: string): Map<string, string> {
    const out = new Map<string, string>();
    // Loose refs first, packed-refs after, as git reads them: `git pack-refs` writes packed-refs
    // before it deletes the loose files, so a ref moving between the two is seen in one or the
    // other. Read packed-refs first and a ref packed meanwhile would be in neither.
    const walk = (rel: string): void => {
      let names: string[];
      try {
        names = readdirSync(join(this.gitDir, rel));
      } catch {
        return;
      }
      for (const name of names) {
        if (name.endsWith('.lock')) continue;
        const child = `${rel}/${name}`;
        const value = this.readLoose(child);
        if (value === 'dir') walk(child);
        else if (value) out.set(child, value);
      }
    };
    walk(prefix.replace(/\/$/, ''));
    for (const [ref, oid] of this.packed()) if (ref.startsWith(prefix) && !out.has(ref)) out.set(ref, oid);
    return out;
  }

  /**
   * Sets `ref` to `newOid` if it currently equals `expectedOld` (null: must not exist).
   * Waits briefly for a lock held by someone else (git itself holds locks for milliseconds).
   */
  update(ref: string, newOid: string, expectedOld: string | null, timeoutMs = 2000): void {
    const path = join(this.gitDir, this.writable(ref, 'write'));
    const lock = `${path}.lock`;
    mkdirSync(dirname(path), { recursive: true });
    const fd = this.takeLock(lock, ref, timeoutMs);
    faultPoint('ref.locked');
    let renamed = false;
    try {
      const current = this.read(ref);
      if (current !== expectedOld) {
        throw new ShadowError('REF_LOCKED', `${ref} moved under us: expected ${expectedOld ?? 'no ref'}, found ${current ?? 'no ref'}`, { ref, expected: expectedOld, found: current });
      }
      writeSync(fd, `${newOid}\n`);
      fsyncSync(fd);
      closeSync(fd);
      renameSync(lock, path);
      renamed = true;
      faultPoint('ref.renamed');
    } finally {
      if (!renamed) abandonLock(fd, lock);
    }
  }

  /** Deletes a loose ref file only (packed entries stay); `delete` removes a ref for good. */
  deleteLoose(ref: string): void {
    const path = join(this.gitDir, this.writable(ref, 'delete'));
    if (existsSync(path)) unlinkSync(path);
  }

  /** Where `ref` is stored; INTERNAL unless it is one of this worktree's refs under refs/shadow/. */
  private writable(ref: string, verb: string): string {
    const stored = ref.startsWith(SHADOW_REF_PREFIX) ? this.stored(ref) : null;
    if (stored === null) throw new ShadowError('INTERNAL', `Refusing to ${verb} ${ref}: not one of this worktree's refs under ${SHADOW_REF_PREFIX}`, { ref });
    return stored;
  }

  /**
   * Deletes refs under refs/shadow/ (S1.7), loose and packed, like `git update-ref -d`: each
   * ref's `.lock` is held throughout; packed entries go first (packed-refs rewritten under
   * `packed-refs.lock`, every other line kept byte for byte), then the loose files, so a stale
   * packed value never resurfaces. Returns the refs that existed.
   */
  delete(refs: string[], timeoutMs = 2000): string[] {
    const stored = refs.map((ref) => this.writable(ref, 'delete'));
    const held: string[] = [];
    try {
      for (const [i, ref] of refs.entries()) {
        const lock = `${join(this.gitDir, stored[i] as string)}.lock`;
        if (!existsSync(dirname(lock))) {
          held.push('');
          continue;
        }
        closeSync(this.takeLock(lock, ref, timeoutMs));
        held.push(lock);
      }
      const existed = refs.filter((ref) => this.read(ref) !== null);
      this.removePacked(new Set(stored), timeoutMs);
      for (const ref of refs) this.deleteLoose(ref);
      return existed;
    } finally {
      for (const lock of held) {
        if (!lock) continue;
        try {
          unlinkSync(lock);
        } catch {
          // the lock is ours; nothing else to do
        }
      }
    }
  }

  /** Rewrites packed-refs without `refs` (and their peeled `^` lines), if it names any. */
  private removePacked(refs: Set<string>, timeoutMs: number): void {
    const file = join(this.gitDir, 'packed-refs');
    if (![...this.packed().keys()].some((ref) => refs.has(ref))) return;
    const lock = `${file}.lock`;
    const fd = this.takeLock(lock, 'packed-refs', timeoutMs);
    let renamed = false;
    try {
      // Re-read under the lock: git may have repacked between our check and the lock.
      const lines = readFileSync(file, 'utf8').split('\n');
      const out: string[] = [];
      let dropping = false;
      for (const line of lines) {
        if (line.startsWith('^')) {
          if (!dropping) out.push(line);
          continue;
        }
        const ref = line.split(' ')[1];
        dropping = !line.startsWith('#') && ref !== undefined && OID.test(line.slice(0, 40)) && refs.has(ref);
        if (!dropping) out.push(line);
      }
      writeSync(fd, out.join('\n'));
      fsyncSync(fd);
      closeSync(fd);
      renameSync(lock, file);
      renamed = true;
    } finally {
      if (!renamed) abandonLock(fd, lock);
    }
  }

  private takeLock(lock: string, ref: string, timeoutMs: number): number {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return openSync(lock, 'wx', 0o644);
      } catch (err) {
        // `git pack-refs --prune` deletes directories it emptied (refs/shadow/runs/ once every run
        // ref is packed), possibly between our mkdir and this open (S1.6): make it again.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && Date.now() <= deadline) {
          try {
            mkdirSync(dirname(lock), { recursive: true });
          } catch (mkdirErr) {
            // removed again while mkdir looked at it: the next open tells
            if ((mkdirErr as NodeJS.ErrnoException).code !== 'ENOENT') throw mkdirErr;
          }
          continue;
        }
        if ((err as NodeJS.ErrnoException).code === 'EEXIST' && lock.startsWith(this.shadowRefsDir) && breakStaleLock(lock)) continue;
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) {
          throw new ShadowError('REF_LOCKED', `Cannot lock ${ref}: ${lock} exists (another git process is updating it)`, { ref, lock }, { cause: err });
        }
        // A synchronous spin is acceptable: git holds ref locks for microseconds to milliseconds.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
  }

  private readLoose(rel: string): string | 'dir' | null {
    try {
      const value = readFileSync(join(this.gitDir, rel), 'utf8').trim();
      return OID.test(value) ? value : null;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EISDIR' ? 'dir' : null;
    }
  }

  private packed(): Map<string, string> {
    const out = new Map<string, string>();
    let text: string;
    try {
      text = readFileSync(join(this.gitDir, 'packed-refs'), 'utf8');
    } catch {
      return out;
    }
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#') || line.startsWith('^')) continue;
      const [oid, ref] = line.split(' ');
      if (oid && ref && OID.test(oid)) out.set(ref, oid);
    }
    return out;
  }
}

/**
 * Removes the `.lock` of a refs/shadow/ ref whose owner died holding it (S2.5): a daemon
 * SIGKILLed between creating the lock and renaming it leaves one, and nothing else ever removes
 * it, so every later checkpoint on that ref failed with REF_LOCKED (found by scripts/faults.mjs).
 * Stale: taken before this daemon started (one daemon per workspace: the dead one's) and over a
 * second old, or over 30 s old whoever took it. True when the lock is gone (try again).
 */
function breakStaleLock(lock: string): boolean {
  const st = statSync(lock, { throwIfNoEntry: false });
  if (!st) return true;
  const age = Date.now() - st.mtimeMs;
  if (!((st.mtimeMs < PROCESS_START_MS && age > STALE_FROM_BEFORE_START_MS) || age > STALE_MS)) return false;
  try {
    unlinkSync(lock);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
  }
  return true;
}

/** Gives up a lock we hold without committing it: close (if still open) and remove the .lock file. */
function abandonLock(fd: number, lock: string): void {
  try {
    closeSync(fd);
  } catch {
    // already closed after the write
  }
  try {
    unlinkSync(lock);
  } catch {
    // the lock is ours; nothing else to do
  }
}
