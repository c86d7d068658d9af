/**
 * The arena: one Float32Array holding many named tensors, laid out from a declarative `{name, shape}` list.
 * The model keeps its parameters, gradients and AdamW moments in one arena and its activations in another
 * (activations are sized for the largest batch seen and reallocated only when a larger one arrives).
 *
 * Layout: tensors in the order given, each starting on a 16-float (64-byte) boundary so native kernels see
 * aligned rows. `get(name)` returns a `subarray` view (no copy); views stay valid for the arena's life.
 * Invariants: names are unique; every element belongs to at most one tensor; a fresh arena is all zeros.
 */

/** A tensor of the arena: a name and a shape (row-major). */
export interface ArenaSpec {
  name: string;
  shape: readonly number[];
}

interface Slot {
  offset: number;
  size: number;
  shape: readonly number[];
  view: Float32Array;
}

const ALIGN = 16;

/** Product of a shape's dimensions. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class Arena {
  /** The backing storage of every tensor. */
  readonly data: Float32Array;
  private readonly slots = new Map<string, Slot>();

  /** Lays out `specs` and allocates one zeroed buffer for all of them. */
  constructor(specs: readonly ArenaSpec[]) {
    let off = 0;
    const layout: [ArenaSpec, number, number][] = [];
    for (const s of specs) {
      if (s.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`arena: tensor ${s.name} has a bad shape [${s.shape.join(', ')}]`);
      const size = numel(s.shape);
      layout.push([s, off, size]);
      off += Math.ceil(size / ALIGN) * ALIGN;
    }
    this.data = new Float32Array(off);
    for (const [s, offset, size] of layout) {
      if (this.slots.has(s.name)) throw new Error(`arena: tensor ${s.name} is declared twice`);
      this.slots.set(s.name, { offset, size, shape: [...s.shape], view: this.data.subarray(offset, offset + size) });
    }
  }

  /** The view of tensor `name` (throws on an unknown name: a programming error, not a user error). */
  get(name: string): Float32Array {
    const s = this.slots.get(name);
    if (!s) throw new Error(`arena: no tensor named ${name}`);
    return s.view;
  }

  /** The first `n` elements of tensor `name` (for batches smaller than the arena was sized for). */
  prefix(name: string, n: number): Float32Array {
    const v = this.get(name);
    if (n > v.length) throw new Error(`arena: ${name} holds ${v.length} values, ${n} wanted`);
    return v.subarray(0, n);
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  shape(name: string): readonly number[] {
    const s = this.slots.get(name);
    if (!s) throw new Error(`arena: no tensor named ${name}`);
    return s.shape;
  }

  /** Tensor names in layout order. */
  names(): string[] {
    return [...this.slots.keys()];
  }

  /** Sets every tensor whose name passes `filter` (all when omitted) to zero. */
  zero(filter?: (name: string) => boolean): void {
    if (!filter) { this.data.fill(0); return; }
    for (const [name, s] of this.slots) if (filter(name)) s.view.fill(0);
  }

  /** Bytes held by the arena. */
  get bytes(): number {
    return this.data.byteLength;
  }
}
