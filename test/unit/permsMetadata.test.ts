/**
 * Issue #10 item 12, the metadata half: permission bits round-trip through a commit's trailers,
 * only exceptions to the most common bits are listed, and a commit without them (older
 * checkpoints) keeps an existing file's bits with the tree's exec bit, 0644/0755 for a new file.
 */
import type { Stats } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCommit, encodeCommit } from '../../daemon/store/commitCodec.js';
import type { FileMode } from '../../daemon/store/flatTree.js';
import type { EachFile } from '../../daemon/store/permsMetadata.js';
import { restoredPerms, summarizePerms } from '../../daemon/store/permsMetadata.js';

const TREE = 'a'.repeat(40);
const files = (rows: [string, FileMode, number][]): EachFile => (fn) => {
  for (const [path, mode, perms] of rows) fn('', path, { mode, perms });
};
const existing = (mode: number): Stats => ({ isFile: () => true, mode: 0o100000 | mode }) as Stats;

describe('#10.12 perms metadata', () => {
  it('#10.12 round-trips through the commit message; 100k-like trees of 0664 cost one line (S1.5)', () => {
    const perms = summarizePerms(files([['a', '100644', 0o664], ['b', '100644', 0o664], ['c', '100644', 0o664], ['secrets.env', '100644', 0o600], ['x.sh', '100755', 0o700], ['we ird\n"name', '100644', 0o640], ['l', '120000', 0o777]]));
    expect(perms.file).toBe(0o664);
    expect(perms.exec).toBe(0o700);
    expect([...perms.exceptions]).toEqual([['secrets.env', 0o600], ['we ird\n"name', 0o640]]);
    const decoded = decodeCommit(encodeCommit({ tree: TREE, parents: [], subject: 'Shadow-Perm: 777 "secrets.env"', meta: { kind: 'checkpoint' }, perms }));
    expect(decoded.perms).toEqual(perms); // the subject line is never read as metadata
    expect(decoded.meta.kind).toBe('checkpoint');
  });

  it('#10.12 restores recorded bits exactly; without a record keeps the current bits, exec per the tree, 0644/0755 when new', () => {
    const perms = { file: 0o644, exec: 0o755, exceptions: new Map([['s', 0o600]]) };
    expect(restoredPerms(perms, 's', '100644', existing(0o666))).toBe(0o600);
    expect(restoredPerms(perms, 'o', '100755', null)).toBe(0o755);
    const old = decodeCommit(encodeCommit({ tree: TREE, parents: [], subject: 'old', meta: { kind: 'auto' } }));
    expect(old.perms).toBeNull();
    expect(restoredPerms(null, 's', '100644', existing(0o600))).toBe(0o600);
    expect(restoredPerms(null, 's', '100755', existing(0o600))).toBe(0o700);
    expect(restoredPerms(null, 's', '100644', existing(0o750))).toBe(0o640);
    expect(restoredPerms(null, 'n', '100644', null)).toBe(0o644);
    expect(restoredPerms(null, 'n', '100755', null)).toBe(0o755);
  });
});
