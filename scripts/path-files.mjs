#!/usr/bin/env node
/**
 * How many of Lion's source files one training step and one served query pass through, counted at run time
 * with V8 precise coverage: a file counts when at least one of its functions (named or not) ran during the
 * measured span; a module's top-level body, run once at import, does not count. Run after `npx tsc` from the repository root:
 *
 *   node --require ./scripts/path-files-worker.cjs scripts/path-files.mjs
 *
 * - training step: `trainRetriever` on the tiny test setup (test/train/setup.ts, ref kernels), counted
 *   between the `onStep` callbacks of steps 1 and 2 (one optimiser step, no checkpoint or log line), for
 *   sparse and dense;
 * - served query: `serve --collection` over 60 Cranfield documents with the shipped sparse (or dense) demo
 *   encoder; after one warm-up query, one GET /api/search?q=…&systems=sparse is counted in the main thread
 *   (HTTP handler, search, response) and in the query encoder's worker thread (the preload script
 *   path-files-worker.cjs counts the worker's handling of each message), and the two sets are joined.
 * Prints one JSON object: files per path (`counts`), distinct functions that ran per path (`functions`: each
 * function once however often it ran, a proxy for the calls back and forth), and the file lists.
 */
import { Session } from 'node:inspector';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'dist', 'src');
const session = new Session();
session.connect();
const post = (m, p) => new Promise((res, rej) => session.post(m, p, (e, r) => (e ? rej(e) : res(r))));
await post('Profiler.enable');
await post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
/** A function that ran, other than a module's top-level body (the range that starts at offset 0). */
const ran = (f) => f.ranges[0].count > 0 && f.ranges[0].startOffset > 0;
const ours = (url) => (url.startsWith('file://') && fileURLToPath(url).startsWith(src) ? relative(src, fileURLToPath(url)).replace(/\.js$/, '.ts') : null);
/** Lion files with a function that ran, and the distinct Lion functions that ran (file:offset), in a coverage. */
function fromCoverage(result) {
  const files = new Set();
  files.functions = new Set();
  for (const sc of result) {
    const f = ours(sc.url);
    if (!f) continue;
    for (const x of sc.functions) if (ran(x)) { files.add(f); files.functions.add(`${f}:${x.ranges[0].startOffset}`); }
  }
  return files;
}
async function measure(fn) {
  await post('Profiler.takePreciseCoverage');
  await fn();
  return fromCoverage((await post('Profiler.takePreciseCoverage')).result);
}

const { tinySetup } = await import(join(root, 'dist/test/train/setup.js'));
const { ref } = await import(join(src, 'kernels/ref/index.js'));
const { trainRetriever } = await import(join(src, 'train/trainer.js'));
const { loadTokenizer } = await import(join(src, 'tokenizer/tokenizer.js'));
const { serve } = await import(join(src, 'server/serve.js'));
const { shippedModels } = await import(join(src, existsSync(join(src, 'assets.js')) ? 'assets.js' : 'quickstart.js'));

const out = {};
const fns = {};
const s = await tinySetup();
for (const paradigm of ['sparse', 'dense']) {
  // onStep is synchronous and a same-thread inspector session answers synchronously: reset after step 1, read after step 2
  let between;
  const onStep = (step) => {
    if (step === 1) session.post('Profiler.takePreciseCoverage', () => {});
    if (step === 2) session.post('Profiler.takePreciseCoverage', (e, r) => { between = r; });
  };
  await trainRetriever({
    paradigm, objective: 'cl', model: s.model, trainFile: s.cl, corpus: s.corpus, tokenizer: loadTokenizer(s.model), kernels: ref,
    output: mkdtempSync(join(tmpdir(), 'lion-path-')), batchSize: 3, negatives: 2, maxSteps: 3, logEvery: 1000, saveEvery: 1000,
    queryMaxLength: 12, docMaxLength: 16, loraR: 2, loraAlpha: 4, onStep,
  });
  const set = fromCoverage(between.result);
  out[`train step (${paradigm})`] = [...set].sort();
  fns[`train step (${paradigm})`] = set.functions.size;
}

const workerLog = join(mkdtempSync(join(tmpdir(), 'lion-path-')), 'worker.jsonl');
process.env.LION_PATH_FILES_OUT = workerLog;
const dir = mkdtempSync(join(tmpdir(), 'lion-path-coll-'));
const lines = readFileSync(join(root, 'test/fixtures/cranfield/corpus.jsonl'), 'utf8').split('\n').slice(0, 60);
writeFileSync(join(dir, 'corpus.jsonl'), `${lines.join('\n')}\n`);
const m = shippedModels();
for (const kind of ['sparse', 'dense']) {
  writeFileSync(workerLog, '');
  const srv = await serve({ indexes: [], collection: dir, ...(kind === 'sparse' ? { sparseModel: m.sparse } : { denseModel: m.dense }), port: 0, encoderWorkers: 1, log: () => {} });
  try {
    const ask = async (q) => { const r = await fetch(`${srv.url}/api/search?q=${encodeURIComponent(q)}&k=5&systems=${kind}`); if (!r.ok) throw new Error(await r.text()); await r.json(); };
    await ask('heat transfer in a laminar boundary layer');
    await new Promise((r) => setTimeout(r, 200));
    const main = await measure(() => ask('slipstream effect on wing lift'));
    await new Promise((r) => setTimeout(r, 200));
    const logged = readFileSync(workerLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const last = logged.at(-1);
    const worker = new Set(last.files.map(ours).filter(Boolean));
    const workerFns = last.functions.filter((x) => ours(x.slice(0, x.lastIndexOf(':')))).length;
    out[`served query, main thread (${kind})`] = [...main].sort();
    out[`served query, encoder worker (${kind})`] = [...worker].sort();
    out[`served query, both (${kind})`] = [...new Set([...main, ...worker])].sort();
    fns[`served query, main thread (${kind})`] = main.functions.size;
    fns[`served query, encoder worker (${kind})`] = workerFns;
    fns[`served query, both (${kind})`] = main.functions.size + workerFns;
  } finally {
    await srv.close();
  }
}
console.log(JSON.stringify({ counts: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length])), functions: fns, files: out }, null, 2));
