#!/usr/bin/env node
/**
 * Reproduces Lion's shipped demonstration models (models/lion-demo-sp, models/lion-demo-ds) end to end with
 * Lion's own CLI, and records what it did in models/training-record.json:
 *
 *   1. text      SciFact + MED + Cranfield documents (no queries, no judgements) -> one BEIR corpus.jsonl
 *   2. tokenizer a byte-level BPE of 4,096 ids trained on that text (`trainBpe`, Lion's library)
 *      init      `--init scratch` (default, what ships): a seeded random initialisation (`initWeights`);
 *                `--init mntp`: `lion mntp --config --tokenizer` from scratch, then `lion mntp --model --full`
 *                to continue it (the paper's chain; at this budget it retrieves worse, see models/README.md)
 *   3. negatives SciFact train claims + document titles as pseudo-queries over document bodies (SciFact,
 *                Cranfield); `lion bm25 index/search`, `lion mine` -> CL file (no Cranfield query is used)
 *   4. train     `lion train --full --objective cl`, sparse and dense side by side, from the step-2 model
 *   5. export    both retrievers saved as bf16 safetensors + tokenizer (Hugging Face layout) in models/
 *                (`--init mntp`: in <work>/models)
 *   6. evaluate  Cranfield (the quickstart's collection) and SciFact test, with `lion encode/index/search/eval`
 *
 * Usage: node scripts/train-demo-models.mjs [--data ../shared/data] [--work $TMPDIR/lion-demo-models] [--out models]
 *        [--init scratch|mntp] [--only-eval]
 * Run `npm run build` first. Each stage is skipped when its output exists, so an interrupted run continues;
 * delete the work folder to start over. The Cranfield *queries* are never trained on: they are the
 * quickstart's evaluation set.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const data = resolve(arg('data', join(root, '..', 'shared', 'data')));
const work = resolve(arg('work', join(tmpdir(), 'lion-demo-models')));
const onlyEval = process.argv.includes('--only-eval');
const init = arg('init', 'scratch');
if (init !== 'scratch' && init !== 'mntp') throw new Error(`--init is scratch or mntp, got ${init}`);
// the shipped models come from `--init scratch`; the MNTP chain writes its models under the work folder
const out = resolve(arg('out', init === 'mntp' ? join(work, 'models') : join(root, 'models')));
const lionJs = join(root, 'bin', 'lion.js');
if (!existsSync(join(root, 'dist', 'src', 'index.js'))) throw new Error('run `npm run build` first');
const lion = await import(join(root, 'dist', 'src', 'index.js'));

const scifact = join(data, 'scifact');
const cranfield = join(data, 'cranfield', 'beir');
const med = join(data, 'med', 'beir');
for (const f of [join(scifact, 'corpus.jsonl'), join(scifact, 'qrels', 'train.tsv'), join(cranfield, 'corpus.jsonl'), join(med, 'corpus.jsonl')]) {
  if (!existsSync(f)) throw new Error(`missing ${f} (pass --data DIR holding scifact/, cranfield/beir/, med/beir/)`);
}
mkdirSync(work, { recursive: true });

/** Model and training settings (everything else is Lion's default, recorded in each run_config.json). */
export const CONFIG = {
  model: {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 4096, hidden_size: 128,
    intermediate_size: 384, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 4,
    hidden_act: 'silu', max_position_embeddings: 512, rms_norm_eps: 1e-6, rope_theta: 10000,
    tie_word_embeddings: true, bos_token_id: 4093, eos_token_id: 4094,
  },
  bpeVocab: 4096,
  initSeed: 42,
  mntp: ['--block-length', '256', '--batch-size', '16', '--max-steps', '400', '--lr', '2e-3', '--warmup-ratio', '0.05', '--log-every', '20', '--save-every', '100'],
  // --init mntp continues the first run with shorter blocks (1,200 MNTP steps in all, ~15 min here)
  mntpContinued: ['--block-length', '128', '--batch-size', '32', '--max-steps', '800', '--lr', '1e-3', '--warmup-ratio', '0.02', '--log-every', '20', '--save-every', '200'],
  mineNegatives: '30',
  train: ['--objective', 'cl', '--full', '--negatives', '4', '--batch-size', '16', '--max-steps', '200', '--lr', '3e-4', '--log-every', '10', '--save-every', '50'],
  // dense τ 0.05 instead of the paper's 0.01: at τ 0.01 a small model first learns to squash every score
  // together (measured; models/README.md). Sparse keeps the paper's FLOPS weights (0.05 / 0.04).
  trainSparse: [],
  trainDense: ['--tau', '0.05'],
  evalDocMaxLength: '128', // documents cut where the retrievers were trained, as the quickstart does
};

const record = existsSync(join(work, 'record.json')) ? JSON.parse(readFileSync(join(work, 'record.json'), 'utf8')) : { stages: {} };
const saveRecord = () => writeFileSync(join(work, 'record.json'), `${JSON.stringify(record, null, 2)}\n`);

const shown = (cmd) => cmd.replaceAll(root + '/', '').replaceAll(data, '$DATA').replaceAll(work, '$WORK');
const quote = (args) => `lion ${args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ')}`;

/** Runs `lion ARGS` in the background (output to LOG), resolving when it succeeds; times it into the record. */
function runAsync(args, stage, log) {
  const cmd = quote(args);
  process.stderr.write(`\n$ ${shown(cmd)} > ${shown(log)}\n`);
  const t0 = performance.now();
  return new Promise((ok, fail) => {
    const fd = openSync(log, 'w');
    const child = spawn(process.execPath, [lionJs, ...args], { stdio: ['ignore', fd, fd] });
    child.on('exit', (code) => {
      closeSync(fd);
      if (code !== 0) return fail(new Error(`${cmd} failed with status ${code} (see ${log})`));
      record.stages[stage] = { commands: [shown(cmd)], seconds: (performance.now() - t0) / 1000, load1: loadavg()[0] };
      ok();
    });
  });
}

/** Runs `lion ARGS`, failing loudly; returns its stdout. */
function run(args, stage) {
  const cmd = quote(args);
  process.stderr.write(`\n$ ${shown(cmd)}\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [lionJs, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} failed with status ${r.status}`);
  const seconds = (performance.now() - t0) / 1000;
  if (stage) {
    (record.stages[stage] ??= { commands: [], seconds: 0 }).commands.push(shown(cmd));
    record.stages[stage].seconds += seconds;
    record.stages[stage].load1 = loadavg()[0];
  }
  return r.stdout;
}

/** Runs `body` unless `done` exists; times it into the record. */
async function stage(name, done, body) {
  if (existsSync(done)) { process.stderr.write(`[${name}] done already (${done})\n`); return; }
  process.stderr.write(`[${name}] starting\n`);
  const t0 = performance.now();
  record.stages[name] = { commands: [], seconds: 0 };
  await body();
  record.stages[name].wallSeconds = (performance.now() - t0) / 1000;
  saveRecord();
}

// 1. the MNTP text: every document of the three collections, ids prefixed by collection (no queries)
const text = join(work, 'text.jsonl');
await stage('text', text, async () => {
  const lines = [];
  for (const [tag, dir] of [['sf', scifact], ['cran', cranfield], ['med', med]]) {
    for (const l of readFileSync(join(dir, 'corpus.jsonl'), 'utf8').split('\n')) {
      if (!l.trim()) continue;
      const d = JSON.parse(l);
      lines.push(JSON.stringify({ _id: `${tag}-${d._id}`, title: d.title ?? '', text: d.text ?? '' }));
    }
  }
  writeFileSync(text, `${lines.join('\n')}\n`);
  record.stages.text.documents = lines.length;
});

// 2. a byte-level BPE tokenizer trained on that text (Lion's trainBpe), then MNTP from scratch
const tokDir = join(work, 'tokenizer');
if (!onlyEval) {
  await stage('tokenizer', join(tokDir, 'tokenizer.json'), async () => {
    const texts = readFileSync(text, 'utf8').split('\n').filter((l) => l.trim()).map((l) => { const d = JSON.parse(l); return `${d.title} ${d.text}`.trim(); });
    await lion.saveBpe(lion.trainBpe(texts, { vocabSize: CONFIG.bpeVocab }), tokDir);
    record.stages.tokenizer.commands.push(`trainBpe(<${texts.length} documents of $WORK/text.jsonl>, { vocabSize: ${CONFIG.bpeVocab} }) -> saveBpe($WORK/tokenizer)`);
  });
}
const cfgPath = join(work, 'config.json');
writeFileSync(cfgPath, `${JSON.stringify(CONFIG.model, null, 2)}\n`);
// The retrievers start from `--init scratch` (default: the seeded random initialisation, what ships) or
// `--init mntp` (the MNTP model; at this budget it retrieves at chance level, see models/README.md).
const base = join(work, init === 'mntp' ? 'mntp-continued' : 'scratch');
if (!onlyEval && init === 'mntp') {
  const first = join(work, 'mntp');
  await stage('mntp', join(first, 'model.safetensors'), () => {
    run(['mntp', '--config', cfgPath, '--tokenizer', tokDir, '--corpus', text, '--out', first, ...CONFIG.mntp], 'mntp');
  });
  await stage('mntp-continued', join(base, 'model.safetensors'), () => {
    run(['mntp', '--model', first, '--full', '--corpus', text, '--out', base, ...CONFIG.mntpContinued], 'mntp-continued');
  });
}
if (!onlyEval && init === 'scratch') {
  await stage('init', join(base, 'model.safetensors'), async () => {
    const model = new lion.LlamaModel(lion.loadModelConfig(work), { withHead: true });
    lion.initWeights(model, CONFIG.initSeed);
    await lion.saveModel(model, base);
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) cpSync(join(tokDir, f), join(base, f));
    record.stages.init.commands.push(`initWeights(new LlamaModel($WORK/config.json), ${CONFIG.initSeed}) -> saveModel($WORK/scratch)`);
  });
}

// 3. training pairs and BM25 hard negatives. Passages are the bodies (no titles) of SciFact and Cranfield
// documents. Queries: the 809 SciFact *train* claims (their judged documents are the positives) and every
// document's title as a pseudo-query whose positive is that document's body. No Cranfield query or
// judgement is used. BM25 over the passages ranks each query's candidates; `lion mine` keeps the top
// non-positive hits as hard negatives.
const passages = join(work, 'train-passages.jsonl');
const trainQueries = join(work, 'train-queries.tsv');
const trainQrels = join(work, 'train-qrels.tsv');
const trainFile = join(work, 'train.cl.jsonl');
if (!onlyEval) {
  await stage('negatives', trainFile, () => {
    const P = [], Q = [], R = ['query-id\tcorpus-id\tscore'];
    const clean = (t) => String(t ?? '').replace(/\s+/g, ' ').trim();
    for (const [tag, dir] of [['sf', scifact], ['cran', cranfield]]) {
      for (const l of readFileSync(join(dir, 'corpus.jsonl'), 'utf8').split('\n')) {
        if (!l.trim()) continue;
        const d = JSON.parse(l);
        const title = clean(d.title), body = clean(d.text);
        if (!body) continue;
        P.push(JSON.stringify({ _id: `${tag}-${d._id}`, title: '', text: body }));
        if (title.split(' ').length >= 3) { Q.push(`t-${tag}-${d._id}\t${title}`); R.push(`t-${tag}-${d._id}\t${tag}-${d._id}\t1`); }
      }
    }
    const claims = new Map(readFileSync(join(scifact, 'queries.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => { const q = JSON.parse(l); return [q._id, clean(q.text)]; }));
    const seen = new Set();
    for (const l of readFileSync(join(scifact, 'qrels', 'train.tsv'), 'utf8').split('\n').slice(1)) {
      const [qid, did, score] = l.split('\t');
      if (!qid || !(Number(score) > 0)) continue;
      if (!seen.has(qid)) { seen.add(qid); Q.push(`c-${qid}\t${claims.get(qid)}`); }
      R.push(`c-${qid}\tsf-${did}\t1`);
    }
    writeFileSync(passages, `${P.join('\n')}\n`);
    writeFileSync(trainQueries, `${Q.join('\n')}\n`);
    writeFileSync(trainQrels, `${R.join('\n')}\n`);
    record.stages.negatives.passages = P.length;
    record.stages.negatives.queries = Q.length;
    run(['bm25', 'index', '--corpus', passages, '--out', join(work, 'train-passages.lbm25')], 'negatives');
    run(['bm25', 'search', '--index', join(work, 'train-passages.lbm25'), '--queries', trainQueries, '--k', '100', '--out', join(work, 'train.bm25.trec')], 'negatives');
    const mined = join(work, 'train.mined.jsonl');
    run(['mine', '--run', join(work, 'train.bm25.trec'), '--qrels', trainQrels, '--queries', trainQueries, '--out', mined, '--negatives', CONFIG.mineNegatives], 'negatives');
    // a query whose BM25 list holds fewer non-positive hits than `lion train --negatives` needs is dropped
    const need = Number(CONFIG.train[CONFIG.train.indexOf('--negatives') + 1]);
    const lines = readFileSync(mined, 'utf8').split('\n').filter((l) => l.trim());
    const kept = lines.filter((l) => JSON.parse(l).neg_pids.length >= need);
    writeFileSync(trainFile, `${kept.join('\n')}\n`);
    record.stages.negatives.examples = kept.length;
    record.stages.negatives.droppedFewNegatives = lines.length - kept.length;
  });
}

// 4. fine-tune the two retrievers; 5. export them as bf16 with the tokenizer
// (the two trainings run side by side: each is single-threaded most of the time on a small model)
const names = { sparse: 'lion-demo-sp', dense: 'lion-demo-ds' };
if (!onlyEval) {
  const t0 = performance.now();
  await Promise.all(['sparse', 'dense'].filter((p) => !existsSync(join(work, p, 'model.safetensors'))).map((paradigm) =>
    runAsync(['train', '--paradigm', paradigm, '--model', base, '--train', trainFile, '--corpus', passages, '--out', join(work, paradigm), ...CONFIG.train, ...(paradigm === 'sparse' ? CONFIG.trainSparse : CONFIG.trainDense)], `train-${paradigm}`, join(work, `train-${paradigm}.log`))));
  record.trainWallSeconds ??= (performance.now() - t0) / 1000;
  saveRecord();
}
for (const paradigm of ['sparse', 'dense']) {
  const dir = join(work, paradigm);
  const dst = join(out, names[paradigm]);
  await stage(`export-${paradigm}`, join(dst, 'model.safetensors'), async () => {
    mkdirSync(dst, { recursive: true });
    const model = lion.loadModel(dir, { withHead: true, trainable: 'none' });
    await lion.saveModel(model, dst, 'BF16');
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) cpSync(join(dir, f), join(dst, f));
    cpSync(join(dir, 'run_config.json'), join(dst, 'training_args.json'));
  });
}

// 6. evaluate the exported models: Cranfield test (all 225 queries) and SciFact test (300 queries)
const collections = { cranfield: { dir: cranfield, qrels: join(cranfield, 'qrels', 'test.tsv'), beir: false }, scifact: { dir: scifact, qrels: join(scifact, 'qrels', 'test.tsv'), beir: true } };
record.scores ??= {};
for (const [cname, c] of Object.entries(collections)) {
  let queries = join(c.dir, 'queries.jsonl');
  if (cname === 'scifact') {
    const ids = new Set(readFileSync(c.qrels, 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0]));
    queries = join(work, 'scifact-test-queries.jsonl');
    writeFileSync(queries, `${readFileSync(join(c.dir, 'queries.jsonl'), 'utf8').split('\n').filter((l) => l.trim() && ids.has(JSON.parse(l)._id)).join('\n')}\n`);
  }
  const systems = [['bm25', null], ['sparse', join(out, names.sparse)], ['dense', join(out, names.dense)]];
  for (const [paradigm, model] of systems) {
    const key = `${cname}/${paradigm}`;
    if (record.scores[key]) continue;
    const e = join(work, 'eval', cname, paradigm);
    rmSync(e, { recursive: true, force: true });
    mkdirSync(e, { recursive: true });
    const runFile = join(e, 'run.trec');
    const t0 = performance.now();
    if (paradigm === 'bm25') {
      run(['bm25', 'index', '--corpus', join(c.dir, 'corpus.jsonl'), '--out', join(e, 'index.lbm25')], `eval-${key}`);
      run(['bm25', 'search', '--index', join(e, 'index.lbm25'), '--queries', queries, '--k', '100', '--out', runFile], `eval-${key}`);
    } else {
      const ext = paradigm === 'sparse' ? 'lsv' : 'f32';
      const fmt = paradigm === 'sparse' ? ['--format', 'shard'] : [];
      run(['encode', '--paradigm', paradigm, '--model', model, '--corpus', join(c.dir, 'corpus.jsonl'), '--max-length', CONFIG.evalDocMaxLength, ...fmt, '--out', join(e, `docs.${ext}`)], `eval-${key}`);
      run(['encode', '--paradigm', paradigm, '--model', model, '--queries', queries, ...fmt, '--out', join(e, `queries.${ext}`)], `eval-${key}`);
      const ix = join(e, paradigm === 'sparse' ? 'docs.lidx' : 'docs.lvec');
      run(['index', '--paradigm', paradigm, '--out', ix, join(e, `docs.${ext}`)], `eval-${key}`);
      run(['search', '--index', ix, '--query-vectors', join(e, `queries.${ext}`), '--k', '100', '--out', runFile], `eval-${key}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const beir = c.beir ? ['--beir'] : ['-c']; // BEIR mode averages over queries in both run and qrels; -c is trec_eval's
    const main = JSON.parse(run(['eval', '--qrels', c.qrels, '--run', runFile, '-m', 'ndcg_cut.10', '-m', 'recall.100', '--json', ...beir], `eval-${key}`));
    const mrr = JSON.parse(run(['eval', '--qrels', c.qrels, '--run', runFile, '-M', '10', '-m', 'recip_rank', '--json', ...beir], `eval-${key}`));
    record.scores[key] = { main, mrr, seconds };
    saveRecord();
  }
}
record.finishedAt = new Date().toISOString();
saveRecord();
cpSync(join(work, 'record.json'), join(out, 'training-record.json'));
process.stderr.write(`\nrecord: ${join(out, 'training-record.json')}\n`);
