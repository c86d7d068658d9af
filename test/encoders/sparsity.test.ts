import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/defaults.js';
import { encodeCollection } from '../../src/encoders/encode.js';
import { readSparseVectors } from '../../src/io/vectors.js';
import { fixtures, repoRoot, tempDir } from '../helpers.js';

test('lion encode keeps at most 256 terms per document and 64 per query by default; --top-k 0 keeps every non-zero', async () => {
  const dir = tempDir();
  const lines = readFileSync(join(fixtures, 'cranfield', 'corpus.jsonl'), 'utf8').split('\n').slice(0, 6);
  writeFileSync(join(dir, 'corpus.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'queries.tsv'), '1\twhat similarity laws must be obeyed when constructing aeroelastic models of heated high speed aircraft\n');
  const model = join(repoRoot, 'models', 'lion-demo-sp');
  const nnz = async (out: string) => { const n: number[] = []; for await (const r of readSparseVectors(out)) n.push(r.vec.terms.length); return n; };
  await encodeCollection({ paradigm: 'sparse', model, input: join(dir, 'corpus.jsonl'), out: join(dir, 'd.jsonl'), maxLength: 64 });
  await encodeCollection({ paradigm: 'sparse', model, input: join(dir, 'corpus.jsonl'), out: join(dir, 'all.jsonl'), maxLength: 64, topK: 0 });
  await encodeCollection({ paradigm: 'sparse', model, input: join(dir, 'queries.tsv'), queries: true, out: join(dir, 'q.jsonl') });
  await encodeCollection({ paradigm: 'sparse', model, input: join(dir, 'queries.tsv'), queries: true, out: join(dir, 'qall.jsonl'), topK: 0 });
  await encodeCollection({ paradigm: 'sparse', model, input: join(dir, 'corpus.jsonl'), out: join(dir, 'd5.jsonl'), maxLength: 64, topK: 5 });
  const d = await nnz(join(dir, 'd.jsonl')), all = await nnz(join(dir, 'all.jsonl')), q = await nnz(join(dir, 'q.jsonl'));
  const qall = await nnz(join(dir, 'qall.jsonl')), d5 = await nnz(join(dir, 'd5.jsonl'));
  // the shipped model is sparse by construction (a few ids per token), so the default cut keeps what it has
  assert.deepEqual(d, all.map((n) => Math.min(n, DEFAULTS.encodeTopK.doc)), `documents ${d} of ${all}`);
  assert.ok(all.every((n) => n > 10), `every non-zero: ${all}`);
  assert.deepEqual(q, [Math.min(qall[0]!, DEFAULTS.encodeTopK.query)]);
  assert.ok(d5.every((n) => n === 5), `--top-k 5: ${d5}`);
  assert.equal(JSON.parse(readFileSync(join(dir, 'd.jsonl.json'), 'utf8')).topK, 256, 'the record says which cut was used');
});
