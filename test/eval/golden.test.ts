// Every case of ../shared/golden/trec_eval/CASES.tsv: our printed output must equal trec_eval 10.0's, byte for
// byte. Qrels and runs are parsed once and shared between the cases that use them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, type EvalOptions } from '../../src/eval/evaluate.js';
import { formatTrecEval } from '../../src/eval/format.js';
import { readQrels, readRunFile, type RunFile } from '../../src/io/trec.js';
import type { Qrels } from '../../src/types.js';
import { needsShared, sharedDir } from '../helpers.js';

function parseTrecEvalArgs(args: string): { opts: EvalOptions; perQuery: boolean } {
  const a = args.trim().split(/\s+/);
  const measures: string[] = [];
  const opts: EvalOptions = { measures };
  let perQuery = false;
  for (let i = 0; i < a.length; i++) {
    switch (a[i]) {
      case '-c': opts.complete = true; break;
      case '-q': perQuery = true; break;
      case '-J': opts.judgedOnly = true; break;
      case '-M': opts.maxDocs = Number(a[++i]); break;
      case '-l': opts.relevanceLevel = Number(a[++i]); break;
      case '-m': measures.push(a[++i]!); break;
      default: throw new Error(`golden case uses an unsupported trec_eval flag '${a[i]}'`);
    }
  }
  return { opts, perQuery };
}

const skip = needsShared();

test('trec_eval 10.0 goldens: every case prints identical values', { skip }, async (t) => {
  const shared = sharedDir()!;
  const rows = readFileSync(join(shared, 'golden/trec_eval/CASES.tsv'), 'utf8').trim().split('\n').slice(1);
  assert.ok(rows.length >= 80, `expected about 84 cases, found ${rows.length}`);
  const qrelsCache = new Map<string, Promise<Qrels>>();
  const runCache = new Map<string, Promise<RunFile>>();
  for (const row of rows) {
    const [name, qrelsRel, runRel, args, expectedRel] = row.split('\t') as [string, string, string, string, string];
    if (!qrelsCache.has(qrelsRel)) qrelsCache.set(qrelsRel, readQrels(join(shared, qrelsRel)));
    if (!runCache.has(runRel)) runCache.set(runRel, readRunFile(join(shared, runRel)));
    const { opts, perQuery } = parseTrecEvalArgs(args);
    const runFile = await runCache.get(runRel)!;
    const got = formatTrecEval(evaluate(await qrelsCache.get(qrelsRel)!, runFile.run, { ...opts, runid: runFile.tag }), { perQuery });
    const want = readFileSync(join(shared, expectedRel), 'utf8');
    await t.test(name, () => assert.equal(got, want));
  }
});

test('the 3-column copy of the DL19 BM25 run reads as the same rankings', { skip }, async () => {
  const shared = sharedDir()!;
  const three = await readRunFile(join(shared, 'golden/trec_eval/runs/dl19-bm25-top5-3col.txt'));
  const six = await readRunFile(join(shared, 'data/trec-dl-2019/rank_llm/retrieve_results/BM25/trec_results_dl19.txt'));
  assert.equal(three.format, 'trec3');
  assert.equal(three.run.size, six.run.size);
  for (const [qid, hits] of three.run) assert.deepEqual(hits, six.run.get(qid)!.slice(0, 5));
});
