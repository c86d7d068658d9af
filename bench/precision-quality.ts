/**
 * What reduced precision costs, measured (issue 9): bf16 and int8 weights against fp32 with the shipped models
 * (models/lion-demo-sp sparse, models/lion-demo-ds dense) on Cranfield (test/fixtures/cranfield) and on the
 * SciFact test split (../shared/data/scifact; skipped with a reason when absent), and on the 1B-shaped random
 * checkpoint of bench:encode-real (vector agreement only: random weights have no retrieval quality).
 *
 * Per collection and model, the three precisions encode the same token batches in lockstep (documents cut at 128
 * tokens as the demo models were trained, queries at 64), and then:
 *  - nDCG@10 of each precision (exact search: the inverted index's exact mode, the flat f32 dense index; the
 *    library's trec_eval-equivalent `evaluate`), and its difference from fp32;
 *  - dense: cosine of each text's vector against fp32 (min and mean);
 *  - sparse: top-10 term overlap with fp32 (mean, min), cosine of the sparse vectors, and how often the
 *    (text, vocabulary entry) argmax token position differs from fp32, over every entry and over the entries
 *    fp32 keeps (rep > 0); and how many non-zeros change sides.
 * Targets: nDCG@10 loss ≤ 0.005 (bf16) and ≤ 0.01 (int8); dense cosine ≥ 0.999.
 *
 * The 1B-shaped part (BENCH_QUALITY_1B=0 skips it) encodes BENCH_QUALITY_1B_DOCS (16) Cranfield documents
 * tokenised with the Llama-3 tokenizer, cut at 128 tokens, one precision per process (each model is 2.5–5 GB);
 * sparse and dense vectors come from the same forward pass (the sparse head and mean pooling on its hidden states).
 *
 * BENCH_QUALITY_PARTS=collections,1b (default both) selects the parts; a part not run keeps its previous result
 * in the JSON, with the date it was measured.
 *
 * Run: npm run bench:precision-quality   (writes bench/results/precision-quality.json)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lengthBatches, tokenBatch } from '../src/encoders/batch.js';
import { sparseForward, toSparseVec } from '../src/encoders/sparse.js';
import { denseForward } from '../src/encoders/dense.js';
import { evaluate } from '../src/eval/evaluate.js';
import { buildInvertedIndexFromRecords } from '../src/index/inverted/build.js';
import { searchSparse } from '../src/index/inverted/search.js';
import { toRun } from '../src/index/topk.js';
import { searchDense, vectorIndexFromMatrix } from '../src/index/vector/flat.js';
import { collect, docText, readCorpus, readQueries } from '../src/io/corpus.js';
import { readQrels } from '../src/io/trec.js';
import { getKernels } from '../src/kernels/index.js';
import { loadModel, type LoadOptions } from '../src/model/checkpoint.js';
import type { LlamaModel } from '../src/model/llama.js';
import { llama3Tokenizer, loadTokenizer } from '../src/tokenizer/tokenizer.js';
import type { SparseVec, TextRecord } from '../src/types.js';
import { PYTHON, repoRoot } from './anchor.js';
import { host, round, writeResult } from './step-common.js';

const DTYPES = ['fp32', 'bf16', 'int8'] as const;
type Dtype = (typeof DTYPES)[number];
const DOC_LEN = 128, QUERY_LEN = 64, BATCH = 32;
const self = fileURLToPath(import.meta.url);

function load(dir: string, dtype: Dtype, withHead: boolean): LlamaModel {
  const m = loadModel(dir, { withHead, trainable: 'none', dtype } as LoadOptions & { dtype: Dtype });
  const got = (m as unknown as { dtype?: string }).dtype ?? 'fp32';
  if (got !== dtype) throw new Error(`loadModel(${dir}, { dtype: '${dtype}' }) gave a ${got} model: this build has no ${dtype} weights`);
  return m;
}

/** Agreement statistics of reduced-precision vectors against fp32, accumulated batch by batch. */
class Agreement {
  cos: number[] = [];
  overlap: number[] = [];
  argmaxDiff = 0; argmaxAll = 0; argmaxDiffKept = 0; argmaxKept = 0; flips = 0; nnzRef = 0;
  addDense(a: Float32Array, ref: Float32Array, C: number): void {
    for (let r = 0; r < ref.length / C; r++) this.cos.push(cosine(a.subarray(r * C, (r + 1) * C), ref.subarray(r * C, (r + 1) * C)));
  }
  addSparse(a: Float32Array, am: Int32Array, ref: Float32Array, refAm: Int32Array, B: number, V: number): void {
    for (let b = 0; b < B; b++) {
      const x = a.subarray(b * V, (b + 1) * V), y = ref.subarray(b * V, (b + 1) * V);
      this.cos.push(cosine(x, y));
      const tx = top10(x), ty = top10(y);
      this.overlap.push(ty.size === 0 ? 1 : [...tx].filter((t) => ty.has(t)).length / Math.max(tx.size, ty.size));
    }
    for (let i = 0; i < B * V; i++) {
      const d = am[i] !== refAm[i];
      this.argmaxAll++; if (d) this.argmaxDiff++;
      if (ref[i]! > 0) { this.argmaxKept++; this.nnzRef++; if (d) this.argmaxDiffKept++; }
      if ((ref[i]! > 0) !== (a[i]! > 0)) this.flips++;
    }
  }
  summary(): Record<string, number | null> {
    const mean = (v: number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : null);
    return {
      texts: this.cos.length, cosineMin: this.cos.length ? round(Math.min(...this.cos), 6) : null, cosineMean: mean(this.cos) === null ? null : round(mean(this.cos)!, 6),
      ...(this.overlap.length ? {
        top10OverlapMean: round(mean(this.overlap)!, 4), top10OverlapMin: round(Math.min(...this.overlap), 4),
        argmaxDiffersAll: round(this.argmaxDiff / this.argmaxAll, 6), argmaxDiffersKept: this.argmaxKept ? round(this.argmaxDiffKept / this.argmaxKept, 6) : null,
        nonZeroFlipsPerNonZero: this.nnzRef ? round(this.flips / this.nnzRef, 6) : null,
      } : {}),
    };
  }
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb || 1e-300);
}

function top10(x: Float32Array): Set<number> {
  const idx: number[] = [];
  for (let v = 0; v < x.length; v++) if (x[v]! > 0) idx.push(v);
  idx.sort((p, q) => x[q]! - x[p]! || p - q);
  return new Set(idx.slice(0, 10));
}

interface Encoded { sparse?: SparseVec[]; dense?: Float32Array }

/** Encodes `seqs` with the three models in lockstep; returns each precision's vectors and the agreement stats. */
function encodeAll(models: Record<Dtype, LlamaModel>, seqs: number[][], padId: number, maxLen: number, paradigm: 'sparse' | 'dense', agree: Record<string, Agreement>): Record<Dtype, Encoded> {
  const V = models.fp32.config.vocabSize, C = models.fp32.config.hiddenSize;
  const out = Object.fromEntries(DTYPES.map((d) => [d, paradigm === 'sparse' ? { sparse: new Array<SparseVec>(seqs.length) } : { dense: new Float32Array(seqs.length * C) }])) as Record<Dtype, Encoded>;
  for (const group of lengthBatches(seqs.map((s) => s.length), { maxBatch: BATCH, maxTokens: BATCH * maxLen })) {
    const batch = tokenBatch(group.map((i) => seqs[i]!), padId, maxLen);
    if (paradigm === 'sparse') {
      const f = Object.fromEntries(DTYPES.map((d) => { const r = sparseForward(models[d], batch, false); return [d, { rep: r.rep.slice(), argmax: r.argmax.slice() }]; })) as Record<Dtype, { rep: Float32Array; argmax: Int32Array }>;
      for (const d of DTYPES) {
        group.forEach((i, b) => { out[d].sparse![i] = toSparseVec(f[d].rep, V, b); });
        if (d !== 'fp32') agree[d]!.addSparse(f[d].rep, f[d].argmax, f.fp32.rep, f.fp32.argmax, group.length, V);
      }
    } else {
      const f = Object.fromEntries(DTYPES.map((d) => [d, denseForward(models[d], batch, false).rep.slice()])) as Record<Dtype, Float32Array>;
      for (const d of DTYPES) {
        group.forEach((i, b) => out[d].dense!.set(f[d].subarray(b * C, (b + 1) * C), i * C));
        if (d !== 'fp32') agree[d]!.addDense(f[d], f.fp32, C);
      }
    }
  }
  return out;
}

async function collection(name: string, dir: string): Promise<Record<string, unknown>> {
  const qrels = await readQrels(join(dir, 'qrels', 'test.tsv'));
  const docs = await collect(readCorpus(join(dir, 'corpus.jsonl')));
  const queries = (await collect(readQueries(join(dir, 'queries.jsonl')))).filter((q: TextRecord) => qrels.has(q.id));
  const out: Record<string, unknown> = { collection: name, dir: dir.replace(repoRoot + '/', ''), docs: docs.length, queries: queries.length, split: 'test' };
  for (const [paradigm, model] of [['sparse', 'lion-demo-sp'], ['dense', 'lion-demo-ds']] as const) {
    const mdir = join(repoRoot, 'models', model);
    const t0 = performance.now();
    const models = Object.fromEntries(DTYPES.map((d) => [d, load(mdir, d, paradigm === 'sparse')])) as Record<Dtype, LlamaModel>;
    const tok = loadTokenizer(mdir);
    const agreeDocs = { bf16: new Agreement(), int8: new Agreement() }, agreeQ = { bf16: new Agreement(), int8: new Agreement() };
    const dEnc = encodeAll(models, docs.map((r) => tok.encode(docText(r)).slice(0, DOC_LEN)), tok.padId, DOC_LEN, paradigm, agreeDocs);
    const qEnc = encodeAll(models, queries.map((r) => tok.encode(r.text).slice(0, QUERY_LEN)), tok.padId, QUERY_LEN, paradigm, agreeQ);
    const ndcg: Record<string, number> = {};
    for (const d of DTYPES) {
      let run;
      if (paradigm === 'sparse') {
        const ix = await buildInvertedIndexFromRecords(dEnc[d].sparse!.map((vec, i) => ({ id: docs[i]!.id, vec })), { vocabSize: models[d].config.vocabSize });
        run = toRun(searchSparse(ix, qEnc[d].sparse!, { k: 100, mode: 'exact' }), queries.map((q) => q.id), (p) => ix.ids[p]!);
      } else {
        const C = models[d].config.hiddenSize;
        const ix = vectorIndexFromMatrix({ data: dEnc[d].dense!, rows: docs.length, dim: C, ids: docs.map((r) => r.id) }, 'f32');
        run = toRun(searchDense(ix, qEnc[d].dense!, { k: 100 }), queries.map((q) => q.id), (p) => ix.ids[p]!);
      }
      const r = evaluate(qrels, run, { measures: ['ndcg_cut.10'] });
      ndcg[d] = r.mean['ndcg_cut_10'] ?? NaN;
    }
    const k = getKernels();
    out[paradigm] = {
      model: `models/${model}`, docMaxLength: DOC_LEN, queryMaxLength: QUERY_LEN, isa: typeof k.isa === 'function' ? k.isa() : null,
      ndcg10: Object.fromEntries(DTYPES.map((d) => [d, round(ndcg[d]!, 4)])),
      ndcg10LossVsFp32: { bf16: round(ndcg.fp32! - ndcg.bf16!, 4), int8: round(ndcg.fp32! - ndcg.int8!, 4) },
      targetsMet: { bf16: ndcg.fp32! - ndcg.bf16! <= 0.005, int8: ndcg.fp32! - ndcg.int8! <= 0.01,
        ...(paradigm === 'dense' ? { denseCosine: Math.min(agreeDocs.bf16.summary().cosineMin!, agreeQ.bf16.summary().cosineMin!, agreeDocs.int8.summary().cosineMin!, agreeQ.int8.summary().cosineMin!) >= 0.999 } : {}) },
      agreementDocs: { bf16: agreeDocs.bf16.summary(), int8: agreeDocs.int8.summary() },
      agreementQueries: { bf16: agreeQ.bf16.summary(), int8: agreeQ.int8.summary() },
      seconds: round((performance.now() - t0) / 1000, 1),
    };
    console.log(`${name} ${paradigm}: nDCG@10 ${JSON.stringify((out[paradigm] as Record<string, unknown>).ndcg10)}, docs bf16 ${JSON.stringify(agreeDocs.bf16.summary())}, int8 ${JSON.stringify(agreeDocs.int8.summary())}`);
  }
  return out;
}

/** Child: one precision of the 1B-shaped checkpoint on `n` documents; writes reps + argmax to `out`. */
function worker1b(dir: string, dtype: Dtype, n: number, outFile: string): void {
  const model = load(dir, dtype, true);
  const tok = llama3Tokenizer();
  const docs = readFileSync(join(repoRoot, 'test/fixtures/cranfield/corpus.jsonl'), 'utf8').trim().split('\n').slice(0, n).map((l) => JSON.parse(l) as TextRecord);
  const seqs = docs.map((r) => tok.encode(docText(r)).slice(0, DOC_LEN));
  const batch = tokenBatch(seqs, tok.padId, DOC_LEN);
  const f = sparseForward(model, batch, false);
  const { B, T } = batch, C = model.config.hiddenSize;
  const dense = new Float32Array(B * C), norms = new Float32Array(B * T);
  model.k.meanPoolForward(dense, norms, f.hidden, batch.mask, B, T, C);
  const buf = Buffer.concat([Buffer.from(new Int32Array([B, model.config.vocabSize, C]).buffer), Buffer.from(f.rep.buffer, f.rep.byteOffset, f.rep.byteLength),
    Buffer.from(f.argmax.buffer, f.argmax.byteOffset, f.argmax.byteLength), Buffer.from(dense.buffer)]);
  writeFileSync(outFile, buf);
  process.stdout.write(`${JSON.stringify({ dtype, docs: B, tokens: seqs.map((s) => s.length), peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
}

function random1b(): Record<string, unknown> {
  const dir = join(repoRoot, 'bench/work/llama-1b');
  const g = spawnSync(PYTHON, [join(repoRoot, 'scripts/gen_llama_checkpoint.py'), '--shape', '1b', '--out', dir], { encoding: 'utf8' });
  if (g.status !== 0) return { error: `checkpoint generation failed: ${g.stderr}` };
  const n = Number(process.env.BENCH_QUALITY_1B_DOCS ?? 16);
  const tmp = mkdtempSync(join(tmpdir(), 'lion-quality-'));
  const got: Record<string, { rep: Float32Array; argmax: Int32Array; dense: Float32Array; B: number; V: number; C: number }> = {};
  const children: Record<string, unknown> = {};
  try {
    for (const d of DTYPES) {
      const file = join(tmp, `${d}.bin`);
      const p = spawnSync(process.execPath, [self, '--worker-1b', dir, d, String(n), file], { encoding: 'utf8', env: { ...process.env, LION_BACKEND: process.env.LION_BACKEND ?? 'native' } });
      if (p.status !== 0) { children[d] = { error: p.stderr.trim().split('\n').slice(-3).join(' | ') }; continue; }
      children[d] = JSON.parse(p.stdout.trim().split('\n').pop()!);
      const b = readFileSync(file);
      const [B, V, C] = new Int32Array(b.buffer, b.byteOffset, 3);
      let o = b.byteOffset + 12;
      const rep = new Float32Array(b.buffer.slice(o, o + B! * V! * 4)); o += B! * V! * 4;
      const argmax = new Int32Array(b.buffer.slice(o, o + B! * V! * 4)); o += B! * V! * 4;
      const dense = new Float32Array(b.buffer.slice(o, o + B! * C! * 4));
      got[d] = { rep, argmax, dense, B: B!, V: V!, C: C! };
    }
  } finally { rmSync(tmp, { recursive: true, force: true }); }
  const out: Record<string, unknown> = { checkpoint: 'bench/work/llama-1b (scripts/gen_llama_checkpoint.py --shape 1b)', docs: n, text: 'first Cranfield documents, Llama-3 tokenizer, cut at 128 tokens', children };
  if (!got.fp32) return out;
  for (const d of ['bf16', 'int8'] as const) {
    if (!got[d]) continue;
    const s = new Agreement(), dn = new Agreement();
    s.addSparse(got[d].rep, got[d].argmax, got.fp32.rep, got.fp32.argmax, got.fp32.B, got.fp32.V);
    dn.addDense(got[d].dense, got.fp32.dense, got.fp32.C);
    out[d] = { sparse: s.summary(), dense: dn.summary() };
    console.log(`1B-shaped ${d}: sparse ${JSON.stringify(s.summary())}; dense ${JSON.stringify(dn.summary())}`);
  }
  return out;
}

async function main(): Promise<void> {
  const started = new Date().toISOString(), c0 = process.cpuUsage();
  // BENCH_QUALITY_PARTS=collections,1b (default both); a part not run keeps its previous result (with its date).
  const parts = (process.env.BENCH_QUALITY_PARTS ?? 'collections,1b').split(',');
  const prevPath = join(repoRoot, 'bench/results/precision-quality.json');
  const prev = existsSync(prevPath) ? JSON.parse(readFileSync(prevPath, 'utf8')) as Record<string, unknown> : {};
  let results: unknown[] = [];
  if (parts.includes('collections')) {
    results.push({ ...(await collection('cranfield', join(repoRoot, 'test/fixtures/cranfield'))), measured: started });
    const scifact = join(repoRoot, '..', 'shared', 'data', 'scifact');
    if (existsSync(join(scifact, 'qrels', 'test.tsv'))) results.push({ ...(await collection('scifact', scifact)), measured: started });
    else { results.push({ collection: 'scifact', skipped: `${scifact} is absent` }); console.log(`scifact skipped: ${scifact} is absent`); }
  } else {
    results = ((prev.collections as Record<string, unknown>[] | undefined) ?? []).map((c) => ({ measured: prev.started, ...c }));
  }
  const oneB = !parts.includes('1b') || process.env.BENCH_QUALITY_1B === '0'
    ? (prev.randomCheckpoint1b as Record<string, unknown> | undefined) ?? { skipped: 'not run (BENCH_QUALITY_PARTS)' }
    : { ...random1b(), measured: started };
  const c = process.cpuUsage(c0);
  const k = getKernels();
  const path = writeResult('precision-quality', {
    benchmark: 'precision-quality', command: 'npm run bench:precision-quality', started, finished: new Date().toISOString(), host: host(),
    backend: k.name, threads: k.threads, isa: typeof k.isa === 'function' ? k.isa() : null, cpuSeconds: round((c.user + c.system) / 1e6, 1),
    targets: { ndcg10LossBf16: 0.005, ndcg10LossInt8: 0.01, denseCosineMin: 0.999 },
    collections: results, randomCheckpoint1b: oneB,
  });
  console.log(`wrote ${path}`);
}

const w1 = process.argv.indexOf('--worker-1b');
if (w1 >= 0) {
  const [dir, d, n, f] = process.argv.slice(w1 + 1);
  worker1b(dir!, d as Dtype, Number(n), f!);
} else {
  await main();
}
