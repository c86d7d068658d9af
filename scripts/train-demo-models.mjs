#!/usr/bin/env node
/**
 * Reproduces Lion's shipped demonstration models (models/lion-demo-sp, models/lion-demo-ds) end to end with
 * Lion's own library and CLI, and records what it did in models/training-record.json:
 *
 *   1. text      SciFact abstracts + the TREC DL 2019/2020 pool passages (documents only: no query, no
 *                judgement; nothing of Cranfield or MED) -> one BEIR corpus.jsonl
 *   2. tokenizer a lower-casing byte-level BPE of 32,768 ids trained on that text (`trainBpe`), with a
 *                `Lowercase` + `Prepend(" ")` normalizer so a text's first word tokenises as every other word
 *   3. init      `lion init --init lexical-sparse` / `lexical-dense` (src/train/init.ts): the models are lexical
 *                retrievers before any gradient step, with IDF statistics from the step-1 text
 *   3b. finetune the sparse model: `lion train` CL on SciFact train claims (never the dev split below, never a
 *                test claim), 120 steps, score scale 0.1, FLOPS on, BM25-past-the-top + random negatives
 *   4. export    both saved as bf16 safetensors + tokenizer (Hugging Face layout) in models/
 *   5. fusion    BM25 + sparse fusion weights tuned on a SciFact *dev* split (every 4th train claim by id)
 *                with `lion fuse --tune`; written to models/lion-demo-sp/fusion.json
 *   6. evaluate  SciFact test, Cranfield, MED: BM25, sparse, dense, hybrid (BM25 + sparse, the dev-tuned fusion)
 *                with `lion bm25`, `lion encode/index/search`, `lion fuse`, `lion eval`
 *
 * Usage: node scripts/train-demo-models.mjs [--data ../shared/data] [--work $TMPDIR/lion-demo-models] [--out models]
 *        [--only-eval]
 * Run `npm run build` first. Each stage is skipped when its output exists, so an interrupted run continues;
 * delete the work folder to start over. Cranfield and MED are evaluation only: none of their documents, queries
 * or judgements reaches the tokenizer, the statistics or the fusion weights. SciFact test claims and judgements
 * are evaluation only; the dev split is taken from the train claims.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const data = resolve(arg('data', join(root, '..', 'shared', 'data')));
const work = resolve(arg('work', join(tmpdir(), 'lion-demo-models')));
const out = resolve(arg('out', join(root, 'models')));
const onlyEval = process.argv.includes('--only-eval');
const lionJs = join(root, 'bin', 'lion.js');
if (!existsSync(join(root, 'dist', 'src', 'lion.js'))) throw new Error('run `npm run build` first');
const lion = await import(join(root, 'dist', 'src', 'lion.js'));

const scifact = join(data, 'scifact');
const cranfield = join(data, 'cranfield', 'beir');
const med = join(data, 'med', 'beir');
const years = ['2019', '2020'];
const pools = years.map((y) => join(data, `trec-dl-${y}`, 'passages.pool.tsv'));
for (const f of [join(scifact, 'corpus.jsonl'), join(scifact, 'qrels', 'train.tsv'), join(cranfield, 'corpus.jsonl'), join(med, 'corpus.jsonl'), ...pools]) {
  if (!existsSync(f)) throw new Error(`missing ${f} (pass --data DIR holding scifact/, cranfield/beir/, med/beir/, trec-dl-2019/, trec-dl-2020/)`);
}
mkdirSync(work, { recursive: true });

const llama = (hidden, heads) => ({
  architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 32768, hidden_size: hidden,
  intermediate_size: 2 * hidden, num_hidden_layers: 2, num_attention_heads: heads, num_key_value_heads: heads,
  hidden_act: 'silu', max_position_embeddings: 512, rms_norm_eps: 1e-6, rope_theta: 500000,
  tie_word_embeddings: true, bos_token_id: 32765, eos_token_id: 32766,
});

/** Model and initialisation settings (everything else is `lion init`'s default, recorded in each init.json). */
export const CONFIG = {
  // sparse: head dim 128 with rope_theta 500,000 leaves 22 rotary pairs slow enough for the tf attention
  sparse: llama(256, 2),
  dense: llama(384, 6),
  bpeVocab: 32768,
  initSeed: 42,
  initSparse: ['--init', 'lexical-sparse', '--tf-k1', '1', '--threshold', '0.3'],
  initDense: ['--init', 'lexical-dense', '--idf-power', '0.75'],
  // sparse fine-tuning from the lexical start (docs/small-retrievers.md, "Fine-tuning from the lexical start"):
  // full CL on SciFact train claims (dev split left out), scores scaled by 0.1 so InfoNCE does not saturate on
  // the lexical scores (sums of IDF, 10-50), the paper's FLOPS weights (they bring the non-zeros back to the
  // step-0 count after the first updates spread them), negatives: 8 BM25 hits past rank 10 + 42 random
  // documents per claim; chosen on the SciFact dev split among runs A-I of the doc
  finetuneSparse: [
    '--objective', 'cl', '--full', '--score-scale', '0.1', '--lr', '1e-4',
    '--max-steps', '__STEPS__', '--batch-size', '8', '--negatives', '4', '--doc-max-length', '256', '--query-max-length', '64',
    '--seed', '45', '--log-every', '10',
  ],
  finetuneSteps: 120,
  finetuneNegatives: { bm25From: 10, bm25Count: 8, random: 42, seed: 12345 },
  evalDocMaxLength: '512', // BEIR's document length
  fusionStep: '0.05',
};

const record = existsSync(join(work, 'record.json')) ? JSON.parse(readFileSync(join(work, 'record.json'), 'utf8')) : { stages: {} };
const saveRecord = () => writeFileSync(join(work, 'record.json'), `${JSON.stringify(record, null, 2)}\n`);
const shown = (cmd) => cmd.replaceAll(root + '/', '').replaceAll(data, '$DATA').replaceAll(work, '$WORK');
const quote = (args) => `lion ${args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ')}`;

/** Runs `lion ARGS`, failing loudly; returns its stdout; adds the command and its time to `stage`. */
function run(args, stage) {
  const cmd = quote(args);
  process.stderr.write(`\n$ ${shown(cmd)}\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [lionJs, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} failed with status ${r.status}`);
  if (stage) {
    (record.stages[stage] ??= { commands: [], seconds: 0 }).commands.push(shown(cmd));
    record.stages[stage].seconds += (performance.now() - t0) / 1000;
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

// 1. the text: SciFact abstracts and the TREC DL pool passages, ids prefixed by source (no queries)
const text = join(work, 'text.jsonl');
await stage('text', text, async () => {
  const lines = [];
  for (const l of readFileSync(join(scifact, 'corpus.jsonl'), 'utf8').split('\n')) {
    if (!l.trim()) continue;
    const d = JSON.parse(l);
    lines.push(JSON.stringify({ _id: `sf-${d._id}`, title: d.title, text: d.text }));
  }
  pools.forEach((f, i) => {
    for (const l of readFileSync(f, 'utf8').split('\n')) {
      const [pid, body] = l.split('\t');
      if (body) lines.push(JSON.stringify({ _id: `dl${years[i]}-${pid}`, title: '', text: body }));
    }
  });
  writeFileSync(text, `${lines.join('\n')}\n`);
  record.stages.text.documents = lines.length;
});
// a document's text as the tokenizer sees it: `title text` (SciFact), the bare passage (TREC DL pools)
const texts = () => readFileSync(text, 'utf8').split('\n').filter((l) => l.trim()).map((l) => { const d = JSON.parse(l); return d.title === '' ? d.text : `${d.title} ${d.text}`; });

// 2. a lower-casing byte-level BPE (Lion's trainBpe) on that text
const tokDir = join(work, 'tokenizer');
if (!onlyEval) {
  await stage('tokenizer', join(tokDir, 'tokenizer.json'), async () => {
    const all = texts();
    const bpe = lion.trainBpe(all.map((t) => t.toLowerCase()), { vocabSize: CONFIG.bpeVocab });
    bpe.tokenizerJson.normalizer = { type: 'Sequence', normalizers: [{ type: 'Lowercase' }, { type: 'Prepend', prepend: ' ' }] };
    await lion.saveBpe(bpe, tokDir);
    record.stages.tokenizer.commands.push(`trainBpe(<${all.length} lower-cased texts of $WORK/text.jsonl>, { vocabSize: ${CONFIG.bpeVocab} }); normalizer Lowercase + Prepend(" ") -> saveBpe($WORK/tokenizer)`);
  });
}

// 3. the lexical initialisations (no gradient step)
const names = { sparse: 'lion-demo-sp', dense: 'lion-demo-ds' };
if (!onlyEval) {
  for (const paradigm of ['sparse', 'dense']) {
    const cfgPath = join(work, `config-${paradigm}.json`);
    writeFileSync(cfgPath, `${JSON.stringify(CONFIG[paradigm], null, 2)}\n`);
    await stage(`init-${paradigm}`, join(work, paradigm, 'model.safetensors'), () => {
      run(['init', '--config', cfgPath, '--tokenizer', tokDir, '--corpus', text, '--seed', String(CONFIG.initSeed), '--out', join(work, paradigm), ...(paradigm === 'sparse' ? CONFIG.initSparse : CONFIG.initDense)], `init-${paradigm}`);
    });
  }
  // 3b. fine-tune the sparse model (CL) on SciFact train claims, never on the dev split (every 4th train claim
// by numeric id, used for the fusion weights below) nor on any test claim
const ftData = join(work, 'finetune');
if (!onlyEval) {
  await stage('finetune-data', join(ftData, 'train.jsonl'), () => {
    mkdirSync(ftData, { recursive: true });
    const lines = readFileSync(join(scifact, 'qrels', 'train.tsv'), 'utf8').split('\n').slice(1).filter(Boolean);
    const ids = [...new Set(lines.map((l) => l.split('\t')[0]))].sort((a, b) => Number(a) - Number(b));
    const train = new Set(ids.filter((_, i) => i % 4 !== 0));
    const qrels = join(ftData, 'qrels.train.tsv');
    writeFileSync(qrels, `query-id\tcorpus-id\tscore\n${lines.filter((l) => train.has(l.split('\t')[0])).join('\n')}\n`);
    const queries = judgedQueries(scifact, qrels, join(ftData, 'queries.jsonl'));
    const ix = join(ftData, 'bm25.lbm25');
    run(['bm25', 'index', '--corpus', join(scifact, 'corpus.jsonl'), '--out', ix], 'finetune-data');
    run(['bm25', 'search', '--index', ix, '--queries', queries, '--k', '100', '--out', join(ftData, 'bm25.trec')], 'finetune-data');
    run(['mine', '--run', join(ftData, 'bm25.trec'), '--qrels', qrels, '--queries', queries, '--negatives', '50', '--out', join(ftData, 'hard.jsonl')], 'finetune-data');
    // BM25 negatives past the top (the lexical start ranks those high by construction) plus random documents
    const docIds = readFileSync(join(scifact, 'corpus.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)._id);
    const { bm25From, bm25Count, random, seed } = CONFIG.finetuneNegatives;
    let s = seed;
    const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
    const examples = readFileSync(join(ftData, 'hard.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const positives = new Map();
    for (const e of examples) (positives.get(e.question) ?? positives.set(e.question, new Set()).get(e.question)).add(e.pos_pid);
    const out = examples.map((e) => {
      const r = [];
      while (r.length < random) { const d = docIds[Math.floor(rnd() * docIds.length)]; if (!positives.get(e.question).has(d) && !r.includes(d)) r.push(d); }
      return JSON.stringify({ ...e, neg_pids: [...e.neg_pids.slice(bm25From, bm25From + bm25Count), ...r] });
    });
    writeFileSync(join(ftData, 'train.jsonl'), `${out.join('\n')}\n`);
    record.stages['finetune-data'].examples = out.length;
    record.stages['finetune-data'].trainClaims = train.size;
  });
  await stage('finetune-sparse', join(work, 'sparse-ft', 'model.safetensors'), () => {
    run(['train', '--paradigm', 'sparse', '--model', join(work, 'sparse'), '--train', join(ftData, 'train.jsonl'), '--corpus', join(scifact, 'corpus.jsonl'),
      '--out', join(work, 'sparse-ft'), ...CONFIG.finetuneSparse.map((a) => (a === '__STEPS__' ? String(CONFIG.finetuneSteps) : a))], 'finetune-sparse');
  });
}

// 4. export as bf16 with the tokenizer
  for (const paradigm of ['sparse', 'dense']) {
    const dir = join(work, paradigm === 'sparse' ? 'sparse-ft' : paradigm);
    const dst = join(out, names[paradigm]);
    await stage(`export-${paradigm}`, join(dst, 'model.safetensors'), async () => {
      mkdirSync(dst, { recursive: true });
      const model = lion.loadModel(dir, { withHead: true, trainable: 'none' });
      await lion.saveModel(model, dst, 'BF16');
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) cpSync(join(dir, f), join(dst, f));
      cpSync(join(work, paradigm, 'init.json'), join(dst, 'init.json'));
      if (paradigm === 'sparse') writeFileSync(join(dst, 'finetune.json'), shown(readFileSync(join(dir, 'run_config.json'), 'utf8')));
      rmSync(join(dst, 'training_args.json'), { force: true });
    });
  }
}

/** BEIR queries of `qrels` (those judged) as a JSONL file. */
function judgedQueries(dir, qrelsFile, dst) {
  const ids = new Set(readFileSync(qrelsFile, 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0]));
  writeFileSync(dst, `${readFileSync(join(dir, 'queries.jsonl'), 'utf8').split('\n').filter((l) => l.trim() && ids.has(JSON.parse(l)._id)).join('\n')}\n`);
  return dst;
}

/**
 * Run of one system (bm25 | sparse | dense) for `queries` over `corpus` (named `cname`), into folder `e`; the
 * corpus is indexed once per system in $WORK/index/<system>-<cname> and shared by every query set.
 */
function systemRun(system, cname, corpus, queries, e, stageName) {
  mkdirSync(e, { recursive: true });
  const runFile = join(e, 'run.trec');
  if (existsSync(runFile)) return runFile;
  const ixDir = join(work, 'index', `${system}-${cname}`);
  mkdirSync(ixDir, { recursive: true });
  if (system === 'bm25') {
    const ix = join(ixDir, 'index.lbm25');
    if (!existsSync(ix)) run(['bm25', 'index', '--corpus', corpus, '--out', ix], stageName);
    run(['bm25', 'search', '--index', ix, '--queries', queries, '--k', '100', '--out', runFile], stageName);
    return runFile;
  }
  const model = join(out, names[system]);
  const ext = system === 'sparse' ? 'lsv' : 'f32';
  const fmt = system === 'sparse' ? ['--format', 'shard'] : [];
  const ix = join(ixDir, system === 'sparse' ? 'docs.lidx' : 'docs.lvec');
  if (!existsSync(ix)) {
    run(['encode', '--paradigm', system, '--model', model, '--dtype', 'fp32', '--corpus', corpus, '--max-length', CONFIG.evalDocMaxLength, ...fmt, '--out', join(ixDir, `docs.${ext}`)], stageName);
    run(['index', '--paradigm', system, '--out', ix, join(ixDir, `docs.${ext}`)], stageName);
  }
  run(['encode', '--paradigm', system, '--model', model, '--dtype', 'fp32', '--queries', queries, ...fmt, '--out', join(e, `queries.${ext}`)], stageName);
  run(['search', '--index', ix, '--query-vectors', join(e, `queries.${ext}`), '--k', '100', '--out', runFile], stageName);
  return runFile;
}

// 5. fusion weights: BM25 + sparse on a SciFact dev split (every 4th train claim, by numeric id)
const fusionFile = join(out, names.sparse, 'fusion.json');
const devQrels = join(work, 'scifact-dev', 'qrels.dev.tsv');
await stage('fusion', fusionFile, () => {
  mkdirSync(join(work, 'scifact-dev'), { recursive: true });
  const lines = readFileSync(join(scifact, 'qrels', 'train.tsv'), 'utf8').split('\n').slice(1).filter(Boolean);
  const ids = [...new Set(lines.map((l) => l.split('\t')[0]))].sort((a, b) => Number(a) - Number(b));
  const dev = new Set(ids.filter((_, i) => i % 4 === 0));
  writeFileSync(devQrels, `query-id\tcorpus-id\tscore\n${lines.filter((l) => dev.has(l.split('\t')[0])).join('\n')}\n`);
  const q = judgedQueries(scifact, devQrels, join(work, 'scifact-dev', 'queries.jsonl'));
  const runs = ['bm25', 'sparse'].map((s) => systemRun(s, 'scifact', join(scifact, 'corpus.jsonl'), q, join(work, 'scifact-dev', s), 'fusion'));
  const fused = join(work, 'scifact-dev', 'hybrid.trec');
  run(['fuse', ...runs, '--tune', '--qrels', devQrels, '--step', CONFIG.fusionStep, '--k', '100', '--out', fused], 'fusion');
  const w = JSON.parse(readFileSync(`${fused}.weights.json`, 'utf8'));
  writeFileSync(fusionFile, `${JSON.stringify({ systems: ['bm25', 'sparse'], method: w.method, norm: w.norm, weights: w.weights, tunedOn: 'SciFact dev (every 4th train claim by id)', devScore: w.score, devSingles: w.singles }, null, 2)}\n`);
  record.stages.fusion.devQueries = dev.size;
});

// 6. evaluate: SciFact test (300 claims), Cranfield (225 queries), MED (30 queries)
const collections = {
  scifact: { dir: scifact, qrels: join(scifact, 'qrels', 'test.tsv'), beir: true },
  cranfield: { dir: cranfield, qrels: join(cranfield, 'qrels', 'test.tsv'), beir: false },
  med: { dir: med, qrels: join(med, 'qrels', 'test.tsv'), beir: false },
};
record.scores ??= {};
const fusion = JSON.parse(readFileSync(fusionFile, 'utf8'));
for (const [cname, c] of Object.entries(collections)) {
  const queries = judgedQueries(c.dir, c.qrels, join(work, `${cname}-queries.jsonl`));
  for (const system of ['bm25', 'sparse', 'dense', 'hybrid']) {
    const key = `${cname}/${system}`;
    if (record.scores[key]) continue;
    const e = join(work, 'eval', cname, system);
    const stageName = `eval-${key}`;
    const t0 = performance.now();
    let runFile;
    if (system === 'hybrid') {
      runFile = join(e, 'run.trec');
      mkdirSync(e, { recursive: true });
      run(['fuse', join(work, 'eval', cname, 'bm25', 'run.trec'), join(work, 'eval', cname, 'sparse', 'run.trec'), '--method', fusion.method, '--norm', fusion.norm, ...fusion.weights.flatMap((w) => ['--weight', String(w)]), '--k', '100', '--out', runFile], stageName);
    } else runFile = systemRun(system, cname, join(c.dir, 'corpus.jsonl'), queries, e, stageName);
    const seconds = (performance.now() - t0) / 1000;
    // BEIR mode averages over queries in both run and qrels (SciFact); -c is trec_eval's (Cranfield and MED
    // share one id space between queries and documents, which BEIR mode would mishandle)
    const mode = c.beir ? ['--beir'] : ['-c'];
    const main = JSON.parse(run(['eval', '--qrels', c.qrels, '--run', runFile, '-m', 'ndcg_cut.10', '-m', 'recall.100', '--json', ...mode], stageName));
    const mrr = JSON.parse(run(['eval', '--qrels', c.qrels, '--run', runFile, '-M', '10', '-m', 'recip_rank', '--json', ...mode], stageName));
    record.scores[key] = { main, mrr, seconds, load1: loadavg()[0] };
    saveRecord();
  }
}
record.machine = { cpu: cpus()[0]?.model, threads: process.env.LION_THREADS ?? 'default' };
record.finishedAt = new Date().toISOString();
saveRecord();
cpSync(join(work, 'record.json'), join(out, 'training-record.json'));
process.stderr.write(`\nrecord: ${join(out, 'training-record.json')}\n`);
