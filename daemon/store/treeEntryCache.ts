/**
 * Decoded trees by oid (entry name → oid), bounded, least recently used out. A git object never
 * changes under its oid, so an entry is never stale. The snapshot engine primes it with every
 * tree it writes, so the object guard's walk over the previous checkpoint's trees (its base,
 * objectGuard.ts) reads nothing from disk: ≈ 30 inflated loose objects per checkpoint at 10k files.
 */

/** Entries of one tree: name → oid. */
export type TreeNames = ReadonlyMap<string, string>;

/** Most trees kept (≈ 3 KB each for 20 entries: ≈ 12 MB at most). */
const MAX_TREES = 4096;

/** A bounded cache of decoded trees. */
export class TreeEntryCache {
  private readonly trees = new Map<string, TreeNames>();

  constructor(private readonly max = MAX_TREES) {}

  /** The entries of tree `oid`, if cached. */
  get(oid: string): TreeNames | undefined {
    const names = this.trees.get(oid);
    if (names) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.trees.delete(oid);
      this.trees.set(oid, names);
    }
    return names;
  }

  /** Remembers the entries of tree `oid`; returns them as cached. */
  set(oid: string, entries: Iterable<{ name: string; oid: string }>): TreeNames {
    const names = new Map<string, string>();
    for (const e of entries) names.set(e.name, e.oid);
    this.trees.delete(oid);
    this.trees.set(oid, names);
    if (this.trees.size > this.max) this.trees.delete(this.trees.keys().next().value as string);
    return names;
  }
}
