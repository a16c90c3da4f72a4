/**
 * The packs Shadow itself wrote into the object store, one name a line in the state folder. In a
 * git repository the pack directory is the user's too: only packs named here are ever merged or
 * deleted (packMerge.ts), never one of the user's (a clone's pack, a `.keep` or `.promisor` pack).
 * Appending a line is one small write per pack; the list is rewritten only by a merge. A lost or
 * damaged list only means some of our packs are never merged by us (the user's `git gc` still
 * repacks them); a name whose pack is gone (the user's gc repacked it) is dropped when read.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeTempFile } from '../writeTempFile.js';

const PACK_NAME = /^pack-[0-9a-f]{40}$/;

/** One pack of the list, as found on disk. */
export interface OwnPack {
  /** `pack-<sha>` (no extension). */
  name: string;
  /** Size of the .pack file in bytes. */
  size: number;
  /** Modification time of the .pack file (ms since the epoch). */
  mtimeMs: number;
}

/** The list of packs Shadow wrote. */
export class OwnPacks {
  constructor(
    private readonly file: string,
    private readonly packDir: string,
  ) {}

  /** Records a pack just written (its .pack path). */
  add(packPath: string): void {
    appendFileSync(this.file, `${basename(packPath, '.pack')}\n`, { mode: 0o600 });
  }

  /** The listed packs that still exist, each once, oldest first. */
  list(): OwnPack[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    const out: OwnPack[] = [];
    const seen = new Set<string>();
    for (const line of text.split('\n')) {
      const name = line.trim();
      if (!PACK_NAME.test(name) || seen.has(name)) continue;
      seen.add(name);
      try {
        // Seen through its index, as git does; the .pack must be there too.
        if (!existsSync(join(this.packDir, `${name}.idx`))) continue;
        const st = statSync(join(this.packDir, `${name}.pack`));
        out.push({ name, size: st.size, mtimeMs: st.mtimeMs });
      } catch {
        // gone (repacked by the user's git): no longer ours to track
      }
    }
    return out;
  }

  /** Rewrites the list as exactly `names` (atomically). */
  replace(names: string[]): void {
    const tmp = writeTempFile(this.file, names.map((n) => `${n}\n`).join(''));
    renameSync(tmp, this.file);
  }
}
