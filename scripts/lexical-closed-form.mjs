#!/usr/bin/env node
/**
 * The step-0 binary lexical sparse model (`lion init --init lexical-sparse --tf-k1 0`) in closed form: each text
 * is the set of its tokens' classes (lexicalStatistics), each class weighted idf^p (lexicalClassWeights), and
 * the score is the sum of weight² over the classes a query and a document share — what the initialised encoder
 * computes, without running it. Evaluates SciFact test, Cranfield and MED (nDCG@10) for one tokenizer.
 *
 * Usage: node scripts/lexical-closed-form.mjs --tokenizer DIR --corpus text.jsonl [--data ../shared/data] [--idf-power 0.5]
 * (docs/small-retrievers.md: the "closed form" rows; text.jsonl is the statistics corpus of
 * scripts/train-demo-models.mjs, $WORK/text.jsonl)
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1] : dflt; };
const lion = await import(join(root, 'dist', 'src', 'lion.js'));
const data = resolve(arg('data', join(root, '..', 'shared', 'data')));
const tok = lion.loadTokenizer(arg('tokenizer'));
const jsonl = (f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const texts = jsonl(arg('corpus')).map((d) => (d.title === '' || d.title === undefined ? d.text : `${d.title} ${d.text}`));
const stats = lion.lexicalStatistics(tok, texts);
const w = lion.lexicalClassWeights(stats, { paradigm: 'sparse', idfPower: Number(arg('idf-power', '0.5')) });
const bag = (text, maxLength) => {
  const m = new Map();
  for (const id of tok.encode(text).slice(0, maxLength)) { const c = stats.classOf[id]; if (c >= 0 && w[c] > 0) m.set(c, w[c]); }
  return m;
};
const sets = {
  'SciFact test': { dir: join(data, 'scifact'), beir: true },
  Cranfield: { dir: join(data, 'cranfield', 'beir'), beir: false },
  MED: { dir: join(data, 'med', 'beir'), beir: false },
};
for (const [name, s] of Object.entries(sets)) {
  const qrels = await lion.readQrels(join(s.dir, 'qrels', 'test.tsv'));
  const docs = jsonl(join(s.dir, 'corpus.jsonl')).map((d) => ({ id: d._id, vec: bag(`${d.title ?? ''} ${d.text ?? ''}`.trim(), 512) }));
  const inv = new Map();
  docs.forEach((d, i) => { for (const [c, x] of d.vec) { if (!inv.has(c)) inv.set(c, []); inv.get(c).push(i, x); } });
  const run = new Map();
  const acc = new Float64Array(docs.length);
  for (const q of jsonl(join(s.dir, 'queries.jsonl'))) {
    if (!qrels.has(q._id)) continue;
    acc.fill(0);
    for (const [c, x] of bag(q.text, 64)) { const l = inv.get(c); if (l) for (let j = 0; j < l.length; j += 2) acc[l[j]] += x * l[j + 1]; }
    const top = [...acc.keys()].filter((i) => acc[i] > 0).sort((a, b) => acc[b] - acc[a] || (docs[a].id < docs[b].id ? -1 : 1)).slice(0, 100);
    run.set(q._id, top.map((i, r) => ({ docid: docs[i].id, score: acc[i] - r * 1e-9 })));
  }
  const r = lion.evaluate(qrels, run, { measures: ['ndcg_cut.10'], complete: !s.beir });
  console.log(`${name}\tnDCG@10 ${r.mean['ndcg_cut_10'].toFixed(4)}`);
}
