/**
 * Whether an object is in a git store right now, loose or packed, asked of the disk and never of
 * a memory of having written it: beside the user's git (S1.6), `git gc --prune=now` deletes
 * unreachable loose objects and `git repack -a -d` drops unreachable packed ones at any moment.
 * Packs are looked up through PackReader's parsed indexes; `refresh()` lists the pack directory
 * again, so a pack deleted by a repack stops counting.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PackReader } from './packReader.js';

/** Looks objects up in an objects directory (loose files and pack indexes). */
export class ObjectPresence {
  private readonly objectsDir: string;
  private readonly packs: PackReader;

  /** `packs`: a PackReader of the same objects directory to share parsed indexes with. */
  constructor(objectsDir: string, packs?: PackReader) {
    this.objectsDir = objectsDir;
    this.packs = packs ?? new PackReader(objectsDir);
  }

  /** Lists the packs again: lookups then see packs written or deleted since. */
  refresh(): void {
    this.packs.relist();
  }

  /** True when the object exists loose or in a pack listed since the last `refresh()`. */
  has(oid: string): boolean {
    // The parsed indexes first: a checkpoint's new objects are mostly in its pack (gitObjects.ts
    // collecting), and a failed stat of a loose path costs more than an in-memory search.
    return this.inPack(oid) || existsSync(join(this.objectsDir, oid.slice(0, 2), oid.slice(2)));
  }

  /** True when a pack listed since the last `refresh()` holds the object. */
  inPack(oid: string): boolean {
    return this.packs.contains(oid);
  }
}
