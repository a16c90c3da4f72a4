import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ShadowError } from '../../shared/errors.js';
import type { GitIndexEntry } from '../../daemon/store/gitIndex.js';
import { findGitIndexPath, gitIndexEntry, NO_STAGE_0, parseGitIndex } from '../../daemon/store/gitIndex.js';
import { GitIndexTracker } from '../../daemon/store/gitIndexTracker.js';
import { git } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir('shadow-gitindex-'));
  git(dir, ['init', '-q']);
  git(dir, ['config', 'user.email', 't@t']);
  git(dir, ['config', 'user.name', 't']);
});
afterEach(() => cleanup());

/** A tree with deep, long and shared-prefix names, a symlink and an executable. */
function populate(): void {
  mkdirSync(join(dir, 'src/deep/deeper'), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(join(dir, 'src', `file-${i}.ts`), `export const v${i} = ${i};\n`);
  writeFileSync(join(dir, 'src/deep/deeper', `${'long-name-'.repeat(24)}.txt`), 'long\n');
  writeFileSync(join(dir, 'src/deep/é café.md'), 'accents\n');
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('src/file-1.ts', join(dir, 'link'));
  git(dir, ['add', '-A']);
}

/** `git ls-files -s` as path → "mode oid". */
function lsFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of git(dir, ['ls-files', '-s', '-z']).split('\0')) {
    const m = /^(\d+) ([0-9a-f]{40}) (\d)\t(.*)$/s.exec(line);
    if (m) out.set(m[4] as string, `${m[1]} ${m[2]}`);
  }
  return out;
}

function parse(): ReturnType<typeof parseGitIndex> {
  return parseGitIndex(readFileSync(join(dir, '.git/index')), 'index');
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ShadowError ? err.code : `not a ShadowError: ${String(err)}`;
  }
  return undefined;
}

describe('git index reader (#10.1, S1.1)', () => {
  for (const version of [2, 3, 4]) {
    it(`#10.1 reads index version ${version} like git ls-files (S1.1)`, () => {
      populate();
      git(dir, ['update-index', '--index-version', String(version)]);
      if (version === 3) {
        // An extended-flags entry forces version 3 for real.
        writeFileSync(join(dir, 'later.txt'), 'x\n');
        git(dir, ['add', '-N', 'later.txt']);
      }
      const parsed = parse();
      expect(parsed.version).toBe(version);
      const expected = lsFiles();
      expect([...parsed.paths].sort()).toEqual([...expected.keys()].sort());
      const entry = (path: string): GitIndexEntry | undefined => {
        const i = findGitIndexPath(parsed, path);
        return i < 0 || parsed.offsets[i] === NO_STAGE_0 ? undefined : gitIndexEntry(parsed.buf, parsed.offsets[i] as number);
      };
      for (const path of parsed.paths) expect(`${entry(path)?.mode.toString(8)} ${entry(path)?.oid}`).toBe(expected.get(path));
      if (version === 3) expect(entry('later.txt')?.unusable).toBe(true);
      // The recorded stat is the file's own (git hashed it with this stat).
      const st = lstatSync(join(dir, 'src/file-3.ts'));
      const e = entry('src/file-3.ts');
      expect(e && [e.size, e.mtimeMs, e.ctimeMs, e.ino]).toEqual([st.size, st.mtimeMs, st.ctimeMs, st.ino % 2 ** 32]);
    });
  }

  it('#10.1 a conflicted path is tracked, with no oid to reuse (S1.1)', () => {
    writeFileSync(join(dir, 'c.txt'), 'base\n');
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-qm', 'base']);
    git(dir, ['checkout', '-qb', 'other']);
    writeFileSync(join(dir, 'c.txt'), 'other\n');
    git(dir, ['commit', '-qam', 'other']);
    git(dir, ['checkout', '-q', '-']);
    writeFileSync(join(dir, 'c.txt'), 'main\n');
    git(dir, ['commit', '-qam', 'main']);
    try {
      git(dir, ['merge', '-q', 'other']);
    } catch {
      // the conflict is the point
    }
    const parsed = parse();
    expect(parsed.paths).toEqual(['c.txt']);
    expect(parsed.offsets[0]).toBe(NO_STAGE_0);
    const tracker = new GitIndexTracker(join(dir, '.git/index'));
    tracker.reload();
    expect(tracker.has('c.txt')).toBe(true);
    expect(tracker.reusableOid('c.txt', lstatSync(join(dir, 'c.txt')), '100644')).toBeNull();
  });

  it('#10.1 a sparse index is read: sparse directory entries are neither tracked files nor reused (S1.1)', () => {
    populate();
    git(dir, ['commit', '-qm', 'one']);
    git(dir, ['sparse-checkout', 'init', '--cone', '--sparse-index']);
    git(dir, ['sparse-checkout', 'set', 'src/deep']);
    const parsed = parse();
    expect(parsed.sparse).toBe(true);
    expect(parsed.paths).toContain('run.sh');
    expect(parsed.paths).toContain('src/deep/é café.md');
    for (const p of parsed.paths) expect(p.endsWith('/')).toBe(false);
  });

  for (const version of [2, 4]) {
    it(`#10.1 a split index (version ${version}) is merged with its shared index like git ls-files (S1.1)`, () => {
      populate();
      git(dir, ['update-index', '--index-version', String(version)]);
      git(dir, ['update-index', '--split-index']);
      // Replacements (changed entries), deletions, additions, and a mode change.
      for (let i = 0; i < 40; i += 3) writeFileSync(join(dir, 'src', `file-${i}.ts`), `changed ${i}\n`);
      git(dir, ['rm', '-qf', 'src/file-1.ts', 'src/file-31.ts']);
      writeFileSync(join(dir, 'src/aaa-new.ts'), 'n\n');
      writeFileSync(join(dir, 'zzz-new.txt'), 'n\n');
      git(dir, ['add', '-A', 'src', 'zzz-new.txt']);
      git(dir, ['update-index', '--chmod=+x', 'src/file-5.ts']);
      expect(readFileSync(join(dir, '.git/index')).includes(Buffer.from('link'))).toBe(true);
      const parsed = parseGitIndex(readFileSync(join(dir, '.git/index')), 'index', (name) => readFileSync(join(dir, '.git', name)));
      const expected = lsFiles();
      expect(parsed.paths).toEqual([...expected.keys()].sort());
      for (const [i, path] of parsed.paths.entries()) {
        const e = gitIndexEntry(parsed.buf, parsed.offsets[i] as number);
        expect(`${e.mode.toString(8)} ${e.oid}`).toBe(expected.get(path));
      }
      // Without its shared index: refused with a code, never half read.
      expect(codeOf(parse)).toBe('GIT_INDEX_UNSUPPORTED');
      const tracker = new GitIndexTracker(join(dir, '.git/index'));
      tracker.reload();
      expect(tracker.problem).toBeNull();
      expect(tracker.has('zzz-new.txt')).toBe(true);
      expect(tracker.has('src/file-1.ts')).toBe(false);
      for (const name of readdirSync(join(dir, '.git')).filter((n) => n.startsWith('sharedindex.'))) rmSync(join(dir, '.git', name));
      // git itself cannot read it now; its stat changes, so the tracker reads it again.
      utimesSync(join(dir, '.git/index'), new Date(), new Date(Date.now() + 5000));
      tracker.reload();
      expect(tracker.problem?.code).toBe('GIT_INDEX_CORRUPT');
      expect(tracker.size).toBe(0);
    });
  }

  it('#10.1 a damaged index is refused with GIT_INDEX_CORRUPT (S1.1)', () => {
    populate();
    const file = join(dir, '.git/index');
    const bytes = readFileSync(file);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    expect(codeOf(() => parseGitIndex(bytes, file))).toBe('GIT_INDEX_CORRUPT');
    expect(codeOf(() => parseGitIndex(bytes.subarray(0, 40), file))).toBe('GIT_INDEX_CORRUPT');
  });

  it("#10.1 an oid is reused only for git's stat and a non-racy entry (S1.1)", () => {
    populate();
    const file = join(dir, 'src/file-5.ts');
    // Older than the index: not racy.
    utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    git(dir, ['add', '-A']);
    const tracker = new GitIndexTracker(join(dir, '.git/index'));
    expect(tracker.reload()?.changed.length).toBe(lsFiles().size);
    const oid = lsFiles().get('src/file-5.ts')?.split(' ')[1];
    expect(tracker.reusableOid('src/file-5.ts', lstatSync(file), '100644')).toBe(oid);
    expect(tracker.reusableOid('src/file-5.ts', lstatSync(file), '100755')).toBeNull();
    // Same size, new mtime: not git's stat any more.
    writeFileSync(file, readFileSync(file, 'utf8').replace('5', '6'));
    expect(tracker.reusableOid('src/file-5.ts', lstatSync(file), '100644')).toBeNull();
    // Unchanged index stat: not parsed again.
    expect(tracker.reload()).toBeNull();
    git(dir, ['rm', '-q', '--cached', 'run.sh']);
    expect(tracker.reload()?.changed).toEqual(['run.sh']);
  });

  it('#10.1 an entry written as late as the index itself is racy and never reused (S1.1)', () => {
    populate();
    const tracker = new GitIndexTracker(join(dir, '.git/index'));
    tracker.reload();
    const file = join(dir, 'src/file-7.ts');
    const idx = lstatSync(join(dir, '.git/index'));
    // Give the file the index's own mtime and record that stat in the index entry: racy.
    utimesSync(file, idx.atime, idx.mtime);
    git(dir, ['update-index', 'src/file-7.ts']);
    utimesSync(join(dir, '.git/index'), idx.atime, idx.mtime);
    tracker.reload();
    expect(tracker.reusableOid('src/file-7.ts', lstatSync(file), '100644')).toBeNull();
  });
});
