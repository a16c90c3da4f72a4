/**
 * Which directories' `.gitignore` changed during a scan, so the scanner re-reads them under their
 * new rules (S1.1 parity): indexed `.gitignore` files are noticed by their oid; ignored ones (a
 * `.gitignore` holding `*`) never enter the index, so their stat is tracked here.
 */
import type { Stats } from 'node:fs';
import { joinPath } from './snapshotIndex.js';

/** The pending set of directories whose ignore rules changed, and the ignored `.gitignore` files seen. */
export class IgnoreFileChanges {
  /** Directories whose rules must be re-read and whose entries rescanned. */
  readonly dirs = new Set<string>();
  /** Ignored `.gitignore` files: dir → stat signature. */
  private readonly hidden = new Map<string, string>();

  /** An ignored `.gitignore` in `dir`: a first sighting or a changed stat marks `dir` changed. */
  noteHidden(dir: string, st: Stats): void {
    const signature = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.mode}`;
    if (this.hidden.get(dir) === signature) return;
    this.hidden.set(dir, signature);
    this.dirs.add(dir);
  }

  /** `dir` was read and had no ignored `.gitignore`: one it had before is gone. */
  hiddenAbsent(dir: string): void {
    if (this.hidden.delete(dir)) this.dirs.add(dir);
  }

  /** `path` (a file or a directory subtree) left the workspace or the index. */
  forget(path: string, removedPaths: string[]): void {
    for (const p of removedPaths) if (p === '.gitignore' || p.endsWith('/.gitignore')) this.dirs.add(p.slice(0, Math.max(0, p.lastIndexOf('/'))));
    // An ignored .gitignore gone with its file or directory: its cached rules must not outlive it.
    for (const dir of [...this.hidden.keys()]) {
      if (joinPath(dir, '.gitignore') === path || dir === path || dir.startsWith(`${path}/`)) {
        this.hidden.delete(dir);
        this.dirs.add(dir);
      }
    }
  }

  /** Takes the pending directories. */
  take(): string[] {
    const out = [...this.dirs];
    this.dirs.clear();
    return out;
  }
}
