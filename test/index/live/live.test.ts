import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildBm25Index } from '../../../src/bm25/build.js';
import { createBm25Searcher, searchBm25 } from '../../../src/bm25/search.js';
import { buildInvertedIndexFromRecords } from '../../../src/index/inverted/build.js';
import { searchSparse } from '../../../src/index/inverted/search.js';
import { LiveIndex, type LiveDoc, type LiveKind, type LiveQuery } from '../../../src/index/live/live.js';
import { searchDense, vectorIndexFromMatrix } from '../../../src/index/vector/flat.js';
import { Rng } from '../../../src/util/rng.js';
import type { Hit } from '../../../src/types.js';
import { tempDir } from '../../helpers.js';
import { applyOps, DIM, editsFor, queriesFor, VOCAB } from './edits.js';

/** What a fresh index built from `docs` returns for each query. */
async function rebuildSearch(kind: LiveKind, docs: LiveDoc[], queries: LiveQuery[], k: number): Promise<Hit[][]> {
  if (docs.length === 0) return queries.map(() => []);
  if (kind === 'bm25') {
    const s = createBm25Searcher(await buildBm25Index(docs.map((d) => ({ id: d.id, title: d.title, text: d.text! }))));
    return queries.map((q) => searchBm25(s, (q as { text: string }).text, k));
  }
  let r;
  if (kind === 'sparse') {
    const ix = await buildInvertedIndexFromRecords(docs.map((d) => ({ id: d.id, vec: d.sparse! })), { dtype: 'f32', vocabSize: VOCAB });
    r = searchSparse(ix, queries.map((q) => (q as { sparse: LiveDoc['sparse'] }).sparse!), { k, mode: 'exact' });
  } else {
    const data = new Float32Array(docs.length * DIM);
    docs.forEach((d, i) => data.set(d.dense!, i * DIM));
    r = searchDense(vectorIndexFromMatrix({ data, rows: docs.length, dim: DIM, ids: docs.map((d) => d.id) }), Float32Array.from(queries.flatMap((q) => [...(q as { dense: Float32Array }).dense])), { k });
  }
  return queries.map((_, q) => Array.from({ length: r.counts[q]! }, (_, i) => ({ docid: docs[r.docs[q * r.k + i]!]!.id, score: r.scores[q * r.k + i]! })));
}

function sameDocs(a: LiveDoc[], b: LiveDoc[]): void {
  assert.deepEqual(a.map((d) => d.id), b.map((d) => d.id));
  assert.deepEqual(a.map((d) => d.text ?? [...(d.sparse?.weights ?? d.dense ?? [])].join()), b.map((d) => d.text ?? [...(d.sparse?.weights ?? d.dense ?? [])].join()));
}

for (const kind of ['bm25', 'sparse', 'dense'] as const) {
  test(`live ${kind}: search equals a fresh rebuild after every commit of random edits, merges and a reopen`, async () => {
    const dir = tempDir('lion-live-');
    const live = await LiveIndex.create(dir, { kind, vocab: VOCAB, dim: DIM }, { autoMerge: false });
    const queries = queriesFor(kind, 3, 12) as LiveQuery[];
    const r = new Rng(11);
    let model = new Map<string, LiveDoc>();
    for (let step = 0; step < 40; step++) {
      const ops = editsFor(kind, 5, step);
      for (const o of ops) if (o.op === 'add') live.add([o.doc]); else live.delete([o.id]);
      model = applyOps(model, ops);
      await live.commit();
      if (r.float() < 0.2) await live.merge(1 + Math.floor(r.float() * 3));
      sameDocs(live.documents(), [...model.values()]);
      for (const k of [1, 5, 30]) assert.deepEqual(live.searchMany(queries, k), await rebuildSearch(kind, [...model.values()], queries, k), `step ${step} k ${k}`);
    }
    assert.ok(live.stats().segments.length > 1, 'several segments remain');
    assert.ok(live.stats().deleted > 0, 'some segments carry deletions');
    await live.close();
    const again = await LiveIndex.open(dir, { readOnly: true });
    assert.deepEqual(again.searchMany(queries, 10), await rebuildSearch(kind, [...model.values()], queries, 10));
    await again.close();
  });
}

test('live: background merging keeps at most mergeFactor segments and changes no result', async () => {
  const dir = tempDir('lion-live-');
  const live = await LiveIndex.create(dir, { kind: 'bm25' }, { autoMerge: true, mergeFactor: 3 });
  const queries = queriesFor('bm25', 3, 8) as LiveQuery[];
  let model = new Map<string, LiveDoc>();
  for (let step = 0; step < 12; step++) {
    const ops = editsFor('bm25', 9, step);
    for (const o of ops) if (o.op === 'add') live.add([o.doc]); else live.delete([o.id]);
    model = applyOps(model, ops);
    await live.commit();
    await live.idle();
    assert.ok(live.stats().segments.length <= 3);
    assert.deepEqual(live.searchMany(queries, 10), await rebuildSearch('bm25', [...model.values()], queries, 10));
  }
  // Files of merged segments and superseded bitmaps are gone.
  const names = new Set(live.stats().segments.map((s) => s.name));
  for (const f of readdirSync(dir)) if (f.endsWith('.jsonl')) assert.ok(names.has(f.slice(0, -6)), `${f} is referenced`);
  await live.close();
});

test('live: uncommitted changes are invisible, bad documents are refused with a clear error, one writer at a time', async () => {
  const dir = tempDir('lion-live-');
  const live = await LiveIndex.create(dir, { kind: 'dense', dim: 4 });
  live.add([{ id: 'a', dense: Float32Array.of(1, 0, 0, 0) }]);
  assert.equal(live.search({ dense: Float32Array.of(1, 0, 0, 0) }, 5).length, 0);
  await live.commit();
  assert.equal(live.search({ dense: Float32Array.of(1, 0, 0, 0) }, 5)[0]!.docid, 'a');
  assert.throws(() => live.add([{ id: 'b', dense: Float32Array.of(1, 0) }]), /dense vector of 4 floats/);
  assert.throws(() => live.add([{ id: '', dense: Float32Array.of(1, 0, 0, 0) }]), /non-empty string/);
  await assert.rejects(LiveIndex.open(dir), /already open for writing/);
  await live.close();
  await assert.rejects(LiveIndex.open(join(dir, 'nope')), /no live index here/);
});

const child = fileURLToPath(new URL('./crash-child.js', import.meta.url));

test('live: kill -9 at random points during writes leaves the last commit (or the one being written) readable', async () => {
  const r = new Rng(77);
  for (let trial = 0; trial < 6; trial++) {
    const kind: LiveKind = trial % 2 === 0 ? 'bm25' : 'sparse';
    const dir = tempDir('lion-live-crash-');
    const seed = 100 + trial;
    const p = spawn(process.execPath, [child, dir, kind, String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let last = -1;
    let out = '';
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = out.match(/step (\d+)\n/g);
      if (m) last = Number(m[m.length - 1]!.slice(5, -1));
    });
    const started = new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
    if (trial > 0) await started; // trial 0 may die before the index even exists
    await new Promise((res) => setTimeout(res, 20 + r.float() * 400));
    p.kill('SIGKILL');
    await new Promise((res) => p.once('exit', res));
    if (!existsSync(join(dir, 'live.json'))) { assert.equal(last, -1); continue; }
    // The state after step `last` or `last + 1` (killed between the manifest rename and the print).
    let model = new Map<string, LiveDoc>();
    const states = [[...model.values()]];
    for (let s = 0; s <= last + 1; s++) { model = applyOps(model, editsFor(kind, seed, s)); states.push([...model.values()]); }
    const live = await LiveIndex.open(dir); // takes over the dead writer's lock, cleans its leftovers
    const got = live.documents();
    const j = states.findIndex((st, i) => i >= last + 1 && st.length === got.length && st.every((d, x) => d.id === got[x]!.id));
    assert.ok(j >= 0, `trial ${trial}: recovered ${got.length} documents after step ${last}`);
    sameDocs(got, states[j]!);
    const queries = queriesFor(kind, 1, 5) as LiveQuery[];
    assert.deepEqual(live.searchMany(queries, 10), await rebuildSearch(kind, got, queries, 10));
    // The recovered index takes new writes.
    live.add([editsFor(kind, seed, 999).find((o) => o.op === 'add')?.doc ?? { id: 'x', text: 'x' }].filter((d) => d.id));
    await live.commit();
    for (const f of readdirSync(dir)) assert.ok(!f.includes('.tmp-'), `leftover ${f} removed`);
    await live.close();
  }
});
