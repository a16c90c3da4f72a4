/**
 * The one seeded PRNG of the scripts (mulberry32): benchmarks generate the same trees, and a
 * failing fault, load or beside-git run replays from its printed seed.
 */

/** A function returning numbers in [0, 1), the same sequence for the same 32-bit `seed`. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
