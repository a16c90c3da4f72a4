import { chmodSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffFlatTrees } from '../../daemon/store/diffFlatTrees.js';
import type { FileMode, FlatTree } from '../../daemon/store/flatTree.js';
import { git } from '../helpers/gitOracle.js';
import { makeTempDir } from '../helpers/tempDir.js';

const tree = (entries: Record<string, [FileMode, string]>): FlatTree =>
  new Map(Object.entries(entries).map(([p, [mode, oid]]) => [p, { mode, oid }]));
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** The flat tree of a native git tree object, read with `git ls-tree -r`. */
function lsTree(dir: string, treeOid: string, env: NodeJS.ProcessEnv): FlatTree {
  const out = git(dir, ['ls-tree', '-r', '-z', treeOid], env);
  const flat: FlatTree = new Map();
  for (const line of out.split('\0').filter(Boolean)) {
    const [meta, path] = line.split('\t') as [string, string];
    const [mode, , oid] = meta.split(' ') as [FileMode, string, string];
    flat.set(path, { mode, oid });
  }
  return flat;
}

describe('diffFlatTrees (S1.8)', () => {
  it('S1.8 classifies added, deleted, modified and mode-changed paths, sorted', () => {
    const from = tree({ 'z/keep': ['100644', A], 'b/del': ['100644', A], 'a/del': ['100644', B], edit: ['100644', A], x: ['100644', A], y: ['100755', B] });
    const to = tree({ 'z/keep': ['100644', A], 'b/new': ['100644', A], 'a/new': ['100755', B], edit: ['100644', B], x: ['100755', A], y: ['100644', B] });
    expect(diffFlatTrees(from, to)).toEqual({
      added: ['a/new', 'b/new'],
      modified: ['edit'],
      deleted: ['a/del', 'b/del'],
      modeChanged: ['x', 'y'],
    });
  });

  it('S1.8 content and mode both changed counts once, as modified', () => {
    expect(diffFlatTrees(tree({ f: ['100644', A] }), tree({ f: ['100755', B] }))).toEqual({ added: [], modified: ['f'], deleted: [], modeChanged: [] });
  });

  it('S1.8 a file<->symlink swap is modified even when the blob is the same', () => {
    const file = tree({ l: ['100644', A] });
    const link = tree({ l: ['120000', A] });
    expect(diffFlatTrees(file, link).modified).toEqual(['l']);
    expect(diffFlatTrees(link, file).modified).toEqual(['l']);
    expect(diffFlatTrees(link, file).modeChanged).toEqual([]);
    expect(diffFlatTrees(tree({ l: ['100755', A] }), link).modified).toEqual(['l']);
  });

  it('S1.8 identical and empty trees have no changes', () => {
    const t = tree({ a: ['100644', A], 'b/c': ['120000', B] });
    const none = { added: [], modified: [], deleted: [], modeChanged: [] };
    expect(diffFlatTrees(t, new Map(t))).toEqual(none);
    expect(diffFlatTrees(new Map(), new Map())).toEqual(none);
    expect(diffFlatTrees(new Map(), t).added).toEqual(['a', 'b/c']);
    expect(diffFlatTrees(t, new Map()).deleted).toEqual(['a', 'b/c']);
  });

  it('S1.8 agrees with native git diff-tree on real trees', () => {
    const { dir, cleanup } = makeTempDir();
    try {
      git(dir, ['init', '-q']);
      const env = { GIT_INDEX_FILE: join(dir, '.git', 'shadow-test-index') };
      const snap = (): string => {
        git(dir, ['add', '-A'], env);
        return git(dir, ['write-tree'], env);
      };
      mkdirSync(join(dir, 'src/deep'), { recursive: true });
      writeFileSync(join(dir, 'src/a.ts'), 'a');
      writeFileSync(join(dir, 'src/deep/b.ts'), 'b');
      writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n');
      writeFileSync(join(dir, 'tool'), 'x', { mode: 0o755 });
      writeFileSync(join(dir, 'same'), 'target');
      symlinkSync('src/a.ts', join(dir, 'link'));
      writeFileSync(join(dir, 'gone'), 'bye');
      const t1 = snap();
      writeFileSync(join(dir, 'src/a.ts'), 'a2');
      chmodSync(join(dir, 'run.sh'), 0o755);
      chmodSync(join(dir, 'tool'), 0o644);
      unlinkSync(join(dir, 'same'));
      symlinkSync('target', join(dir, 'same')); // same blob as the old file content
      unlinkSync(join(dir, 'link'));
      writeFileSync(join(dir, 'link'), 'now a file');
      rmSync(join(dir, 'gone'));
      writeFileSync(join(dir, 'src/deep/new.ts'), 'n');
      writeFileSync(join(dir, 'é ü.txt'), 'unicode');
      const t2 = snap();

      const ours = diffFlatTrees(lsTree(dir, t1, env), lsTree(dir, t2, env));
      const oracle = { added: [] as string[], modified: [] as string[], deleted: [] as string[], modeChanged: [] as string[] };
      const raw = git(dir, ['diff-tree', '-r', '-z', '--no-renames', '--raw', t1, t2]).split('\0').filter(Boolean);
      for (let i = 0; i < raw.length; i += 2) {
        const [srcMode, dstMode, srcOid, dstOid, status] = raw[i]!.slice(1).split(' ') as [string, string, string, string, string];
        const path = raw[i + 1]!;
        if (status === 'A') oracle.added.push(path);
        else if (status === 'D') oracle.deleted.push(path);
        else if (status === 'T' || srcOid !== dstOid) oracle.modified.push(path);
        else if (srcMode !== dstMode) oracle.modeChanged.push(path);
      }
      for (const list of Object.values(oracle)) list.sort();
      expect(ours).toEqual(oracle);
      expect(ours).toEqual({ added: ['src/deep/new.ts', 'é ü.txt'], modified: ['link', 'same', 'src/a.ts'], deleted: ['gone'], modeChanged: ['run.sh', 'tool'] });
    } finally {
      cleanup();
    }
  });
});
