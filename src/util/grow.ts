/**
 * The one growable typed-array buffer of Lion (index builders append postings, forward rows and id bytes to
 * it): capacity doubles when full, `view()` is the filled part without a copy, `toArray()` a trimmed copy.
 *
 * Each element type gets its own class (`GrowU32`, `GrowF32`, `GrowU8`) made by `growable()`, so every hot
 * `push` site sees a single typed-array kind and stays monomorphic.
 */
type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface Growable<T extends TypedArray> {
  /** Backing storage; only the first `length` elements are filled. */
  data: T;
  length: number;
  push(v: number): void;
  /** Appends every element of `x`. */
  append(x: ArrayLike<number>): void;
  /** The filled part, sharing memory with the buffer (invalid after the next append that grows it). */
  view(): T;
  /** A copy of the filled part that owns its memory. */
  toArray(): T;
}

function growable<T extends TypedArray>(make: (n: number) => T): new (capacity?: number) => Growable<T> {
  return class implements Growable<T> {
    data: T;
    length = 0;
    constructor(capacity = 1024) {
      this.data = make(Math.max(1, capacity));
    }
    private reserve(n: number): void {
      if (n <= this.data.length) return;
      let cap = this.data.length * 2;
      while (cap < n) cap *= 2;
      const next = make(cap);
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    push(v: number): void {
      if (this.length === this.data.length) this.reserve(this.length + 1);
      this.data[this.length++] = v;
    }
    append(x: ArrayLike<number>): void {
      this.reserve(this.length + x.length);
      this.data.set(x, this.length);
      this.length += x.length;
    }
    view(): T {
      return this.data.subarray(0, this.length) as T;
    }
    toArray(): T {
      return this.data.slice(0, this.length) as T;
    }
  };
}

export const GrowU8 = growable((n) => new Uint8Array(n));
export const GrowU32 = growable((n) => new Uint32Array(n));
export const GrowF32 = growable((n) => new Float32Array(n));
export type GrowU8 = Growable<Uint8Array>;
export type GrowU32 = Growable<Uint32Array>;
export type GrowF32 = Growable<Float32Array>;
