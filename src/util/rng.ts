/**
 * The seeded pseudo-random generator of training: xoshiro128** (Blackman & Vigna) seeded through splitmix32.
 * Its whole state is four uint32 words, so it is saved in checkpoints and a resumed run draws exactly the numbers
 * the uninterrupted run would have drawn. `Rng.derive(seed, ...keys)` gives independent streams per purpose
 * (epoch order, negatives of one example, MNTP masking of one block), so results do not depend on the order in
 * which the trainer happens to consume numbers.
 */

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) >>> 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seeded generator. @example const r = new Rng(45); r.int(10); r.float(); */
export class Rng {
  private s: Uint32Array; // (4) xoshiro128** state, never all zero

  constructor(seed: number | Uint32Array = 0) {
    if (seed instanceof Uint32Array) {
      this.s = Uint32Array.from(seed);
    } else {
      this.s = new Uint32Array(4);
      let x = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
      for (let k = 0; k < 4; k++) { x = splitmix32(x + k); this.s[k] = x; }
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  /** A generator for one purpose, a pure function of the seed and the integer keys. */
  static derive(seed: number, ...keys: number[]): Rng {
    let h = splitmix32(seed >>> 0);
    for (const k of keys) h = splitmix32((h ^ (k >>> 0)) >>> 0) ^ Math.floor(k / 2 ** 32);
    return new Rng(h >>> 0);
  }

  /** The state, to save in a checkpoint. */
  state(): number[] { return Array.from(this.s); }

  static fromState(state: readonly number[]): Rng { return new Rng(Uint32Array.from(state)); }

  /** Next uint32. */
  u32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!; s[3]! ^= s[1]!; s[1]! ^= s[2]!; s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1), 53 random bits. */
  float(): number { return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992; }

  /** Uniform integer in [0, n), unbiased (n ≤ 2³²). */
  int(n: number): number {
    if (!(n > 0) || n > 2 ** 32) throw new RangeError(`Rng.int: n must be in (0, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) { const x = this.u32(); if (x < limit) return x % n; }
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[] | Uint32Array | Int32Array): typeof a {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!; a[i] = a[j]!; a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p) as Uint32Array;
  }

  /** k distinct indices of [0, n) in random order (partial Fisher–Yates; as Python's random.sample). */
  sample(n: number, k: number): number[] {
    if (k > n) throw new RangeError(`Rng.sample: cannot draw ${k} of ${n} without replacement`);
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = pool[i]!; pool[i] = pool[j]!; pool[j] = t;
    }
    return pool.slice(0, k);
  }
}

function rotl(x: number, k: number): number { return ((x << k) | (x >>> (32 - k))) >>> 0; }
