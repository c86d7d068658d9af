/**
 * A deterministic stream of live-index edits (adds, updates, deletes, commits) for the live-index tests and
 * their crash child, and a plain model of what the index must hold after each commit.
 */
import { Rng } from '../../../src/util/rng.js';
import type { LiveDoc, LiveKind } from '../../../src/index/live/live.js';
import { randomSparse } from '../random.js';

export const VOCAB = 64;
export const DIM = 8;
const WORDS = ['wing', 'flutter', 'supersonic', 'boundary', 'layer', 'heat', 'transfer', 'shock', 'wave', 'pressure',
  'laminar', 'turbulent', 'flow', 'plate', 'cone', 'nozzle', 'jet', 'mach', 'number', 'drag', 'lift', 'vortex'];

export type Op = { op: 'add'; doc: LiveDoc } | { op: 'delete'; id: string };

function makeDoc(kind: LiveKind, r: Rng, id: string): LiveDoc {
  if (kind === 'bm25') {
    const n = 1 + Math.floor(r.float() * 30);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(r.float() ** 2 * WORDS.length)]!);
    return { id, title: r.float() < 0.5 ? WORDS[Math.floor(r.float() * WORDS.length)]! : undefined, text: words.join(' ') };
  }
  if (kind === 'sparse') return { id, sparse: randomSparse(() => r.float(), VOCAB, 12, r.float() < 0.5) };
  // Coarse values make ties frequent, so tie-breaking by document order is exercised.
  return { id, dense: Float32Array.from({ length: DIM }, () => Math.round((r.float() * 2 - 1) * 4) / 4) };
}

/** The edits of commit number `step` (0-based): a few adds (new ids or updates) and deletes. */
export function editsFor(kind: LiveKind, seed: number, step: number): Op[] {
  const r = new Rng(seed * 100_003 + step);
  const ops: Op[] = [];
  const n = 1 + Math.floor(r.float() * 6);
  for (let i = 0; i < n; i++) {
    const id = `d${Math.floor(r.float() * 40)}`;
    if (r.float() < 0.3) ops.push({ op: 'delete', id });
    else ops.push({ op: 'add', doc: makeDoc(kind, r, id) });
  }
  return ops;
}

/** The documents, in index order, after applying `ops` (an update moves a document to the end). */
export function applyOps(state: Map<string, LiveDoc>, ops: Op[]): Map<string, LiveDoc> {
  const s = new Map(state);
  for (const o of ops) {
    if (o.op === 'add') { s.delete(o.doc.id); s.set(o.doc.id, o.doc); } else s.delete(o.id);
  }
  return s;
}

export function queriesFor(kind: LiveKind, seed: number, n: number): Array<{ text: string } | { sparse: LiveDoc['sparse'] & object } | { dense: Float32Array }> {
  const r = new Rng(seed + 7);
  return Array.from({ length: n }, (_, i) => {
    const d = makeDoc(kind, r, `q${i}`);
    if (kind === 'bm25') return { text: d.text!.split(' ').slice(0, 3).join(' ') };
    if (kind === 'sparse') return { sparse: d.sparse! };
    return { dense: d.dense! };
  });
}
