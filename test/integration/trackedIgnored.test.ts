/**
 * #10.1 (S1.1): the capture set in a repository is git's, with the user's index. Tracked files
 * that an ignore rule matches (in an ignored directory too) are captured and restored; a file
 * that stops being tracked is ignored again; the index's oids are reused when git's stat still
 * holds, even when the object is missing from the store (then written from the file); a split
 * index is read with its shared index; an index Shadow cannot read is reported with its code and
 * the capture goes on without it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cancel, Checkpoint, RunStart, Status } from '../../shared/methods/index.js';
import type { ShadowClient } from '../helpers/connectClient.js';
import { connectClient } from '../helpers/connectClient.js';
import { git, nativeTree } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
let client: ShadowClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await ws?.cleanup();
});

const read = (rel: string): string => readFileSync(join(ws.dir, rel), 'utf8');
/** S1.1's oracle: `git add -A && git write-tree` from a copy of the user's index. */
const tree = (): string => nativeTree(ws.dir, { repo: true, env: ws.env, userIndex: true });
const lsTree = (commit: string): string[] => gitIn(ws, ['ls-tree', '-r', '--name-only', commit]).split('\n');

/** The daemon's "first scan done" log line (pino JSON in <state>/logs/daemon.log), or undefined. */
function firstScanLine(): { hashed: number; reused: number } | undefined {
  const log = join(ws.dir, '.git/shadow/logs/daemon.log');
  if (!existsSync(log)) return undefined;
  for (const text of readFileSync(log, 'utf8').split('\n')) {
    if (text.includes('"first scan done"')) return JSON.parse(text) as { hashed: number; reused: number };
  }
  return undefined;
}

/** A repository whose committed files include some that its .gitignore matches. */
function setupRepo(): void {
  ws = makeTestWorkspace({ git: true });
  writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
  writeIn(ws, '.gitignore', '*.local\nbuild/\n');
  writeIn(ws, 'src/main.ts', 'main\n');
  writeIn(ws, 'settings.local', 'committed settings\n');
  writeIn(ws, 'build/keep.txt', 'committed build file\n');
  writeIn(ws, 'build/junk.o', 'ignored, untracked\n');
  gitIn(ws, ['add', '-A']);
  gitIn(ws, ['add', '-f', 'settings.local', 'build/keep.txt']);
  gitIn(ws, ['commit', '-q', '-m', 'project']);
}

describe('tracked files are captured even when ignored (#10.1, S1.1)', () => {
  it('#10.1 a tracked file an ignore rule matches, and one in an ignored directory, are captured and restored by cancel (S1.1)', async () => {
    setupRepo();
    client = await connectClient(ws);
    const s = await client.request(RunStart, { name: 'job' });
    expect(gitIn(ws, ['rev-parse', `${s.base}^{tree}`])).toBe(tree());
    expect(lsTree(s.base)).toEqual(expect.arrayContaining(['settings.local', 'build/keep.txt']));
    expect(lsTree(s.base)).not.toContain('build/junk.o');
    // The job overwrites both tracked-but-ignored files (no watcher event inside build/).
    writeIn(ws, 'settings.local', 'the job wrote this\n');
    writeIn(ws, 'build/keep.txt', 'the job wrote this too\n');
    writeIn(ws, 'build/junk.o', 'ignored, rewritten by the job\n');
    const c = await client.request(Checkpoint, {});
    expect(c.tree).toBe(tree());
    const r = await client.request(Cancel, { reason: 'user_cancel' });
    expect(r.status).toBe('cancelled');
    expect(r.restored).toEqual(expect.arrayContaining(['settings.local', 'build/keep.txt']));
    expect(read('settings.local')).toBe('committed settings\n');
    expect(read('build/keep.txt')).toBe('committed build file\n');
    // Ignored and untracked: never touched by a restore (S1.8).
    expect(read('build/junk.o')).toBe('ignored, rewritten by the job\n');
  });

  it('#10.1 a file that stops being tracked (git rm --cached) is ignored again; tracked again, captured again (S1.1)', async () => {
    setupRepo();
    client = await connectClient(ws);
    const first = await client.request(Checkpoint, {});
    expect(lsTree(first.commit)).toEqual(expect.arrayContaining(['settings.local', 'build/keep.txt']));
    gitIn(ws, ['rm', '-q', '--cached', 'settings.local', 'build/keep.txt']);
    const second = await client.request(Checkpoint, {});
    expect(second.tree).toBe(tree());
    expect(lsTree(second.commit)).not.toContain('settings.local');
    expect(lsTree(second.commit)).not.toContain('build/keep.txt');
    gitIn(ws, ['add', '-f', 'build/keep.txt']);
    const third = await client.request(Checkpoint, {});
    expect(third.tree).toBe(tree());
    expect(lsTree(third.commit)).toContain('build/keep.txt');
  });

  it("#10.1 the first checkpoint in an existing repository reuses the index's oids instead of hashing (S1.1, S1.4)", async () => {
    ws = makeTestWorkspace({ git: true });
    writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
    const past = new Date(Date.now() - 120_000);
    // More files than a bulk scan writes loose: hashing them all would write a pack (gitObjects.ts).
    for (let i = 0; i < 150; i++) {
      writeIn(ws, `lib/f${i}.js`, `module.exports = ${i};\n`);
      utimesSync(join(ws.dir, `lib/f${i}.js`), past, past);
    }
    utimesSync(join(ws.dir, 'shadow.config.json'), past, past);
    gitIn(ws, ['add', '-A']);
    gitIn(ws, ['commit', '-q', '-m', 'lib']);
    // A blob the index names but the store lacks (as in a partial clone): written from the file.
    const oid = gitIn(ws, ['rev-parse', ':lib/f7.js']);
    rmSync(join(ws.dir, '.git/objects', oid.slice(0, 2), oid.slice(2)));
    writeIn(ws, 'new.txt', 'untracked, never hashed by git\n');
    client = await connectClient(ws);
    const c = await client.request(Checkpoint, {});
    // Everything but the untracked file came from the index (git's racy rule holds for the rest).
    expect(c.files).toBe(152);
    const line = await waitFor(() => firstScanLine(), 'the first scan log line');
    expect(line.reused).toBe(151);
    expect(line.hashed).toBe(1);
    expect(c.tree).toBe(nativeTree(ws.dir, { repo: true, env: ws.env }));
    expect(gitIn(ws, ['cat-file', '-t', oid])).toBe('blob');
    gitIn(ws, ['fsck', '--no-dangling']);
  });

  it("#10.1 a linked worktree's own index decides what it tracks (S1.1)", async () => {
    ws = makeTestWorkspace();
    const main = makeTempDir('shadow-main-');
    try {
      const g = (args: string[], cwd = main.dir): string => git(cwd, args, ws.env);
      g(['init', '-q', '-b', 'main']);
      writeIn({ ...ws, dir: main.dir }, '.gitignore', '*.local\n');
      writeIn({ ...ws, dir: main.dir }, 'a.txt', 'a\n');
      g(['add', '-A']);
      g(['commit', '-q', '-m', 'one']);
      g(['worktree', 'add', '-q', ws.dir]);
      writeIn(ws, 'shadow.config.json', JSON.stringify({ autoSnapshot: { enabled: false } }));
      writeIn(ws, 'y.local', 'force-added in the linked worktree\n');
      g(['add', '-f', 'y.local'], ws.dir);
      // The main worktree's index never tracks y.local: only the linked one's may decide.
      client = await connectClient(ws);
      const c = await client.request(Checkpoint, {});
      expect(lsTree(c.commit)).toContain('y.local');
      expect(c.tree).toBe(tree());
    } finally {
      main.cleanup();
    }
  });

  it('#10.1 a split index is read with its shared index (S1.1)', async () => {
    setupRepo();
    gitIn(ws, ['update-index', '--split-index']);
    writeIn(ws, 'more.local', 'force-added after the split\n');
    gitIn(ws, ['add', '-f', 'more.local']);
    client = await connectClient(ws);
    const c = await client.request(Checkpoint, {});
    expect(c.tree).toBe(tree());
    expect(lsTree(c.commit)).toEqual(expect.arrayContaining(['settings.local', 'build/keep.txt', 'more.local']));
    expect((await client.request(Status, {})).problems ?? []).toEqual([]);
  });

  it('#10.1 an index Shadow does not read is a coded problem in status; the capture goes on without it (S1.1)', async () => {
    setupRepo();
    // Version 5 does not exist: refused whole (GIT_INDEX_UNSUPPORTED), never half read.
    const file = join(ws.dir, '.git/index');
    const saved = readFileSync(file);
    const bytes = Buffer.from(saved);
    bytes.writeUInt32BE(5, 4);
    createHash('sha1').update(bytes.subarray(0, bytes.length - 20)).digest().copy(bytes, bytes.length - 20);
    writeFileSync(file, bytes);
    client = await connectClient(ws);
    const c = await client.request(Checkpoint, {});
    // Without the index: git's ignore rules alone, as with a throwaway index.
    expect(c.tree).toBe(nativeTree(ws.dir, { repo: true, env: ws.env }));
    const st = await client.request(Status, {});
    expect(st.problems?.map((p) => p.code)).toContain('GIT_INDEX_UNSUPPORTED');
    // The index back as git wrote it: used again at the next checkpoint.
    writeFileSync(file, saved);
    const again = await client.request(Checkpoint, {});
    expect(again.tree).toBe(tree());
    expect((await client.request(Status, {})).problems ?? []).toEqual([]);
  });
});
