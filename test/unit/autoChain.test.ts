import { describe, expect, it } from 'vitest';
import { reparentCommit } from '../../daemon/gc/autoChain.js';
import { decodeCommit, encodeCommit } from '../../daemon/store/commitCodec.js';

const TREE = 'a'.repeat(40);
const P1 = 'b'.repeat(40);
const P2 = 'c'.repeat(40);

describe('reparentCommit (S1.7)', () => {
  const raw = encodeCommit({ tree: TREE, parents: [P1], subject: 'auto snapshot', meta: { kind: 'auto' }, time: 1_700_000_000 });

  it('S1.7 replaces only the parent line; tree, identities, times and message stay byte-identical', () => {
    const out = reparentCommit(raw, P2);
    expect(out.toString('utf8')).toBe(raw.toString('utf8').replace(`parent ${P1}`, `parent ${P2}`));
    expect(decodeCommit(out).parents).toEqual([P2]);
  });

  it('S1.7 makes a root commit when the new parent is null', () => {
    const out = reparentCommit(raw, null);
    expect(out.toString('utf8')).toBe(raw.toString('utf8').replace(`parent ${P1}\n`, ''));
    const c = decodeCommit(out);
    expect(c.parents).toEqual([]);
    expect(c.tree).toBe(TREE);
    expect(c.time).toBe(1_700_000_000);
    expect(c.subject).toBe('auto snapshot');
  });

  it('S1.7 gives a root commit a parent', () => {
    const root = encodeCommit({ tree: TREE, parents: [], subject: 's', meta: { kind: 'auto' }, time: 1 });
    expect(decodeCommit(reparentCommit(root, P1)).parents).toEqual([P1]);
  });
});
