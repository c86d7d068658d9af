/**
 * Child process of the live-index crash test: applies the deterministic edits of `edits.ts` to a live index,
 * committing after each step and printing `step N` once commit N is durable, until it is killed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LiveIndex, type LiveKind } from '../../../src/index/live/live.js';
import { DIM, editsFor, VOCAB } from './edits.js';

const [dir, kind, seed] = [process.argv[2]!, process.argv[3] as LiveKind, Number(process.argv[4])];
const live = existsSync(join(dir, 'live.json'))
  ? await LiveIndex.open(dir, { mergeFactor: 3 })
  : await LiveIndex.create(dir, { kind, vocab: VOCAB, dim: DIM }, { mergeFactor: 3 });
for (let step = 0; step < 100_000; step++) {
  for (const o of editsFor(kind, seed, step)) {
    if (o.op === 'add') live.add([o.doc]);
    else live.delete([o.id]);
  }
  await live.commit();
  process.stdout.write(`step ${step}\n`);
  if (step % 5 === 4) await live.merge(2);
}
