/**
 * Bounds the auto-snapshot chain (S1.7): `refs/shadow/auto` is a first-parent chain that grows
 * with every quiet period. When it is longer than the bound, the newest commits are re-created
 * with the oldest kept one as a root commit: same trees, authors, committers, times and messages,
 * only the parent lines change. The ref then moves by compare-and-swap; the dropped commits are
 * unreachable (git's own gc, or the plain store's prune, collects them).
 */
import { objectsReadyForRef } from '../store/objectGuard.js';
import { REFS } from '../store/snapshotEngine.js';
import type { SnapshotEngine } from '../store/snapshotEngine.js';

/** What compacting the auto chain did. */
export interface AutoChainResult {
  /** Commits no longer on the chain. */
  dropped: number;
  /** Commits on the chain afterwards. */
  kept: number;
}

/** The first-parent chain from the auto ref, newest first, at most `limit` commits. */
async function chainOf(engine: SnapshotEngine, head: string | null, limit: number): Promise<string[]> {
  const chain: string[] = [];
  for (let oid = head; oid && chain.length < limit; ) {
    chain.push(oid);
    oid = (await engine.reader.readCommit(oid)).parents[0] ?? null;
  }
  return chain;
}

/** Number of commits on the auto chain, counting at most `limit`. */
export async function autoChainLength(engine: SnapshotEngine, limit: number): Promise<number> {
  return (await chainOf(engine, engine.refs.read(REFS.auto), limit)).length;
}

/** A raw commit with its first parent replaced (null: none, a root commit); all else byte-identical. */
export function reparentCommit(raw: Uint8Array, parent: string | null): Buffer {
  const text = Buffer.from(raw).toString('utf8');
  const end = text.indexOf('\n\n');
  const head = (end < 0 ? text : text.slice(0, end)).split('\n');
  const rest = end < 0 ? '' : text.slice(end);
  const out: string[] = [];
  let first = true;
  for (const line of head) {
    if (line.startsWith('parent ')) {
      // Only the first parent is the chain; others (none are written today) stay.
      if (first && parent) out.push(`parent ${parent}`);
      else if (!first) out.push(line);
      first = false;
      continue;
    }
    out.push(line);
    if (line.startsWith('tree ') && first && parent && !head.some((l) => l.startsWith('parent '))) {
      out.push(`parent ${parent}`);
      first = false;
    }
  }
  return Buffer.from(out.join('\n') + rest, 'utf8');
}

/**
 * Keeps the newest `max` auto snapshots. Must run inside `engine.exclusive` (nothing else may
 * move the ref meanwhile; the update is a compare-and-swap anyway).
 */
export async function compactAutoChain(engine: SnapshotEngine, max: number): Promise<AutoChainResult> {
  const head = engine.refs.read(REFS.auto);
  const chain = await chainOf(engine, head, Number.MAX_SAFE_INTEGER);
  if (!head || chain.length <= max) return { dropped: 0, kept: chain.length };
  const kept = chain.slice(0, max).reverse();
  let parent: string | null = null;
  const written: { type: 'commit'; bytes: Uint8Array }[] = [];
  for (const oid of kept) {
    const bytes = reparentCommit(await engine.reader.readObject(oid, 'commit'), parent);
    parent = engine.writer.write('commit', bytes);
    engine.nested.carry(oid, parent); // the copy names the same nested repositories (#10.7)
    written.push({ type: 'commit', bytes });
  }
  // The new commits are unreachable until the ref moves: a user's `git gc --prune=now` running
  // meanwhile would delete them (S1.6). Wait it out, rewrite what it took, then move the ref.
  await objectsReadyForRef(engine.guard, written);
  engine.refs.update(REFS.auto, parent as string, head);
  engine.forgetLatest();
  return { dropped: chain.length - max, kept: max };
}
