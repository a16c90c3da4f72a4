import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePathBytes } from '../../shared/pathBytes.js';
import type { TreeEntry } from '../../daemon/store/treeCodec.js';
import { decodeTree, encodeTree } from '../../daemon/store/treeCodec.js';
import { makeTempDir } from '../helpers/tempDir.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const BLOB = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';
const TREE = '4b825dc642cb6eb9a060e54bf8d69288fbe4904b';

describe('treeCodec names as bytes (#10.6, S1.1)', () => {
  it('#10.6 names that are not UTF-8 are written as their raw bytes, in git order: same oid as git mktree', () => {
    const raw = [
      [Buffer.from('café.txt'), '100644'],
      [Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]), '100644'],
      [Buffer.from([0x63, 0x61, 0x66, 0xe9]), '40000'],
      [Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2d]), '100755'],
      [Buffer.from([0xff]), '120000'],
      [Buffer.from('z'), '100644'],
    ] as const;
    const entries: TreeEntry[] = raw.map(([name, mode]) => ({ name: decodePathBytes(name), mode, oid: mode === '40000' ? TREE : BLOB }));
    const encoded = encodeTree([...entries].reverse());
    const ours = createHash('sha1').update(Buffer.concat([Buffer.from(`tree ${encoded.length}\0`), encoded])).digest('hex');
    const tmp = makeTempDir('shadow-treecodec-');
    cleanup = tmp.cleanup;
    execFileSync('git', ['init', '-q', '--bare', tmp.dir]);
    const input = Buffer.concat(raw.map(([name, mode]) => Buffer.concat([Buffer.from(`${mode === '40000' ? '040000 tree' : `${mode} blob`} ${mode === '40000' ? TREE : BLOB}\t`), name, Buffer.of(0)])));
    const theirs = execFileSync('git', ['--git-dir', tmp.dir, 'mktree', '-z', '--missing'], { input, encoding: 'utf8' }).trim();
    expect(ours).toBe(theirs);
    expect(decodeTree(encoded).map((e) => e.name).sort()).toEqual(entries.map((e) => e.name).sort());
  });
});
