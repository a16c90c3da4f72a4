/**
 * Restore and diff end to end through shadowctl (S1.8): the tree after a restore equals the
 * checkpoint's tree as native git computes it; nothing ignored, outside or unrelated is touched.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTree } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';
import type { TestWorkspace } from '../helpers/testWorkspace.js';
import { gitIn, makeTestWorkspace, writeIn } from '../helpers/testWorkspace.js';

let ws: TestWorkspace;
const extra: (() => void)[] = [];
afterEach(async () => {
  await ws?.cleanup();
  for (const f of extra.splice(0)) f();
});

const write = (path: string, content: string | Buffer, mode?: number): void => writeIn(ws, path, content, mode);

/** A tree with every kind of entry the restore must bring back. */
function seed(): void {
  write('.gitignore', '*.log\nbuild/\n');
  write('src/main.ts', 'export const a = 1;\n');
  write('src/util/deep/x.txt', 'deep\n');
  write('bin/run.sh', '#!/bin/sh\necho hi\n', 0o755);
  write('docs/readme.md', 'docs\n');
  write('swap/file-to-dir', 'was a file\n');
  mkdirSync(join(ws.dir, 'swap/dir-to-file'), { recursive: true });
  write('swap/dir-to-file/inner.txt', 'inner\n');
  write('swap/file-to-link', 'plain\n');
  symlinkSync('../src/main.ts', join(ws.dir, 'swap/link-to-file'));
  write('bin/exec-off', 'x\n', 0o755);
  write('bin/exec-on', 'y\n', 0o644);
  write('empty', '');
}

/** Every kind of change the issue lists. */
function mutate(): void {
  write('src/main.ts', 'export const a = 2; // edited\n');
  write('src/new/added.ts', 'new\n');
  write('added-root.txt', 'added\n');
  rmSync(join(ws.dir, 'docs'), { recursive: true });
  rmSync(join(ws.dir, 'src/util'), { recursive: true });
  chmodSync(join(ws.dir, 'bin/exec-off'), 0o644);
  chmodSync(join(ws.dir, 'bin/exec-on'), 0o755);
  unlinkSync(join(ws.dir, 'swap/file-to-dir'));
  write('swap/file-to-dir/now-a-dir.txt', 'dir now\n');
  rmSync(join(ws.dir, 'swap/dir-to-file'), { recursive: true });
  write('swap/dir-to-file', 'file now\n');
  unlinkSync(join(ws.dir, 'swap/file-to-link'));
  symlinkSync('../bin/run.sh', join(ws.dir, 'swap/file-to-link'));
  unlinkSync(join(ws.dir, 'swap/link-to-file'));
  write('swap/link-to-file', 'a file now\n');
  write('app.log', 'ignored log\n');
  write('build/out.bin', 'ignored build output\n');
}

describe.each([{ git: true }, { git: false }])('restore (S1.8), git=$git', ({ git }) => {
  it('brings the whole tree back to the checkpoint, exactly (tree oid), leaving ignored files alone', async () => {
    ws = makeTestWorkspace({ git });
    seed();
    const cp = await ws.json<{ commit: string; tree: string }>(['checkpoint', '-m', 'before']);
    expect(cp.tree).toBe(nativeTree(ws.dir, { repo: git, env: ws.env }));
    mutate();

    const diff = await ws.json<{ added: string[]; modified: string[]; deleted: string[]; modeChanged: string[] }>(['diff', cp.commit]);
    expect(diff.added).toEqual(expect.arrayContaining(['src/new/added.ts', 'added-root.txt', 'swap/file-to-dir/now-a-dir.txt']));
    expect(diff.deleted).toEqual(expect.arrayContaining(['docs/readme.md', 'src/util/deep/x.txt', 'swap/file-to-dir', 'swap/dir-to-file/inner.txt']));
    expect(diff.modified).toEqual(expect.arrayContaining(['src/main.ts', 'swap/file-to-link', 'swap/link-to-file']));
    expect(diff.modeChanged.sort()).toEqual(['bin/exec-off', 'bin/exec-on']);
    expect(diff.added).not.toContain('app.log');

    const r = await ws.json<{ preRestore: string; removed: string[]; restored: string[] }>(['restore', cp.commit]);
    expect(nativeTree(ws.dir, { repo: git, env: ws.env })).toBe(cp.tree);
    // Directories left empty by the restore are gone; ignored files and their directories stay.
    expect(existsSync(join(ws.dir, 'src/new'))).toBe(false);
    expect(lstatSync(join(ws.dir, 'swap/dir-to-file')).isDirectory()).toBe(true);
    expect(readlinkSync(join(ws.dir, 'swap/link-to-file'))).toBe('../src/main.ts');
    expect(readFileSync(join(ws.dir, 'app.log'), 'utf8')).toBe('ignored log\n');
    expect(readFileSync(join(ws.dir, 'build/out.bin'), 'utf8')).toBe('ignored build output\n');
    // The state before the restore was captured (kind pre-abort): restoring it is an undo.
    const after = await ws.json<{ added: string[]; modified: string[]; deleted: string[]; modeChanged: string[] }>(['diff', cp.commit]);
    expect(after).toMatchObject({ added: [], modified: [], deleted: [], modeChanged: [] });
    await ws.json(['restore', r.preRestore]);
    const again = await ws.json<{ tree: string }>(['checkpoint']);
    const preTree = gitIn(ws, git ? ['rev-parse', `${r.preRestore}^{tree}`] : ['--git-dir=.shadow/git', 'rev-parse', `${r.preRestore}^{tree}`]);
    expect(again.tree).toBe(preTree);
  });
});

describe('restore safety (S1.8)', () => {
  it('never writes through a symlink that leads outside the workspace', async () => {
    ws = makeTestWorkspace({ git: true });
    const outside = makeTempDir('shadow-outside-');
    extra.push(outside.cleanup);
    write('conf/passwd', 'workspace copy\n');
    const cp = await ws.json<{ commit: string; tree: string }>(['checkpoint']);
    rmSync(join(ws.dir, 'conf'), { recursive: true });
    symlinkSync(outside.dir, join(ws.dir, 'conf'));
    writeFileSync(join(outside.dir, 'passwd'), 'outside original\n');
    await ws.json(['restore', cp.commit]);
    expect(readFileSync(join(outside.dir, 'passwd'), 'utf8')).toBe('outside original\n');
    expect(lstatSync(join(ws.dir, 'conf')).isDirectory()).toBe(true);
    expect(readFileSync(join(ws.dir, 'conf/passwd'), 'utf8')).toBe('workspace copy\n');
    expect(nativeTree(ws.dir, { repo: true, env: ws.env })).toBe(cp.tree);
  });

  it('restore CHECKPOINT PATH... touches only those paths', async () => {
    ws = makeTestWorkspace({ git: true });
    write('a/one.txt', '1\n');
    write('a/two.txt', '2\n');
    write('b/three.txt', '3\n');
    const cp = await ws.json<{ commit: string }>(['checkpoint']);
    write('a/one.txt', 'changed 1\n');
    write('a/extra.txt', 'extra\n');
    write('b/three.txt', 'changed 3\n');
    const r = await ws.json<{ restored: string[]; removed: string[] }>(['restore', cp.commit, 'a']);
    expect(r.restored).toEqual(['a/one.txt']);
    expect(r.removed).toEqual(['a/extra.txt']);
    expect(readFileSync(join(ws.dir, 'a/one.txt'), 'utf8')).toBe('1\n');
    expect(readFileSync(join(ws.dir, 'b/three.txt'), 'utf8')).toBe('changed 3\n');
    // Paths are relative to the current directory, as a user types them.
    const r2 = await ws.cli(['restore', cp.commit, 'three.txt', '--json'], { cwd: join(ws.dir, 'b') });
    expect(r2.code).toBe(0);
    expect(readFileSync(join(ws.dir, 'b/three.txt'), 'utf8')).toBe('3\n');
  });

  it('unknown checkpoints and paths outside the workspace get stable codes and change nothing', async () => {
    ws = makeTestWorkspace({ git: true });
    write('keep.txt', 'keep\n');
    const cp = await ws.json<{ commit: string }>(['checkpoint']);
    const missing = await ws.cli(['restore', 'deadbeefdeadbeef', '--json']);
    expect(missing.code).toBe(3);
    expect(missing.json().error.code).toBe('CHECKPOINT_NOT_FOUND');
    const outside = await ws.cli(['restore', cp.commit, '../etc/passwd', '--json']);
    expect(outside.code).toBe(2);
    expect(readFileSync(join(ws.dir, 'keep.txt'), 'utf8')).toBe('keep\n');
  });
});
