/** The study grid: the fixed-budget rule reproduces the paper's settings (spec §4.2–4.3), and toy sizes resolve. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countParams, docsPerQuery, formatPlan, PAPER_BUDGET, PAPER_EXAMPLES, PAPER_SIZES, parseSizes, planStudy, toyConfig } from '../../src/study/grid.js';
import { parameterSpecs } from '../../src/model/registry.js';
import { UsageError } from '../../src/errors.js';
import { main } from '../../src/cli/main.js';

// spec §4.2, sparse table: epochs, effective batch, negatives, max_steps of each (size, objective)
const PAPER: Record<string, { epochs: number; batch: number; negs: number; steps: number }> = {
  '1B-cl': { epochs: 7, batch: 112, negs: 16, steps: 33_250 }, '1B-kd': { epochs: 56, batch: 1024, negs: 1, steps: 29_400 }, '1B-cl+kd': { epochs: 7, batch: 112, negs: 16, steps: 33_250 },
  '3B-cl': { epochs: 3, batch: 128, negs: 16, steps: 12_600 }, '3B-kd': { epochs: 24, batch: 512, negs: 1, steps: 25_200 }, '3B-cl+kd': { epochs: 3, batch: 128, negs: 16, steps: 12_600 },
  '8B-cl': { epochs: 1, batch: 128, negs: 16, steps: 4_200 }, '8B-kd': { epochs: 8, batch: 512, negs: 1, steps: 8_400 }, '8B-cl+kd': { epochs: 1, batch: 128, negs: 16, steps: 4_200 },
};

test('the budget rule gives the paper\'s 1B/3B/8B settings for every paradigm and objective', () => {
  const plan = planStudy({ sizes: PAPER_SIZES, examples: PAPER_EXAMPLES, budget: PAPER_BUDGET });
  assert.equal(plan.cells.length, 18);
  for (const c of plan.cells) {
    const want = PAPER[`${c.size}-${c.objective}`]!;
    assert.equal(c.epochs, want.epochs, c.id);
    assert.equal(c.batch, want.batch, c.id);
    assert.equal(c.negatives, want.negs, c.id);
    assert.equal(c.lr, 1e-4);
    // the scripts round steps per epoch down to whole tens; the rule's exact steps are within 1.5 %
    assert.ok(Math.abs(c.steps - want.steps) / want.steps < 0.015, `${c.id}: ${c.steps} vs ${want.steps}`);
  }
  // fixed compute: every cell spends the budget within the rounding of epochs (±15 %), KD never more than CL
  for (const c of plan.cells) assert.ok(Math.abs(c.spent / plan.budget - 1) < 0.15, `${c.id} spends ${c.spent}`);
  for (const s of ['1B', '3B', '8B']) {
    const get = (o: string) => plan.cells.find((c) => c.id === `${s}-sparse-${o}`)!;
    assert.ok(get('kd').spent <= get('cl').spent);
  }
});

test('without a budget the largest size gets one CL epoch; epochs scale inversely with parameters', () => {
  const sizes = [{ name: 'a', params: 1000, batch: 10 }, { name: 'b', params: 4000, batch: 10 }];
  const p = planStudy({ sizes, examples: 100, objectives: ['cl', 'kd'], paradigms: ['dense'], negatives: 3 });
  assert.equal(p.budget, 4000 * 4);
  const byId = Object.fromEntries(p.cells.map((c) => [c.id, c]));
  assert.deepEqual([byId['a-dense-cl']!.epochs, byId['b-dense-cl']!.epochs], [4, 1]);
  assert.deepEqual([byId['a-dense-kd']!.epochs, byId['b-dense-kd']!.epochs], [8, 2]); // ⌊4/2⌋ × CL
  assert.equal(byId['a-dense-kd']!.batch, 40); // default KD batch factor 4
  assert.equal(byId['a-dense-cl']!.steps, 40);
  assert.equal(byId['b-dense-kd']!.steps, 5);
  assert.equal(docsPerQuery('kd', 16), 2);
  assert.equal(docsPerQuery('cl+kd', 16), 17);
  const frac = planStudy({ sizes: [{ name: 'a', params: 1500, batch: 10 }, sizes[1]!], examples: 100, objectives: ['cl'], paradigms: ['sparse'], negatives: 3, integerEpochs: false });
  assert.ok(Math.abs(frac.cells[0]!.epochs - 4000 / 1500) < 1e-12);
  assert.match(formatPlan(frac), /a-sparse-cl\s+1\.50K\s+4\s+2\.67/);
});

test('toy sizes parse into from-scratch configurations whose parameters are counted', () => {
  const [a, b] = parseSizes('h32l1,H48L2', { vocab: 384, batch: 8 });
  assert.equal(a!.name, 'h32l1');
  assert.equal(a!.config!.hiddenSize, 32);
  assert.equal(b!.config!.numLayers, 2);
  assert.equal(b!.config!.numHeads, 3);
  assert.equal(a!.batch, 8);
  // embeddings 384·32 + per layer (q,k,v,o 4·32·32 + MLP 3·32·96 + 2 norms of 32) + final norm 32
  assert.equal(a!.params, 384 * 32 + 4 * 32 * 32 + 3 * 32 * 96 + 2 * 32 + 32);
  assert.equal(countParams(toyConfig(32, 1, 384, 1, 2)), a!.params);
  assert.equal(parameterSpecs(a!.config!, true).some((t) => t.name === 'lm_head.weight'), false);
  assert.equal(parseSizes('8b')[0]!.params, 8.03e9);
  assert.throws(() => parseSizes('huge'), UsageError);
  assert.throws(() => parseSizes('h30l1'), UsageError);
  assert.throws(() => planStudy({ sizes: [], examples: 10 }), UsageError);
});

test('lion study plan prints the paper grid; bad lists are usage errors', async () => {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => { out.push(s); return true; }) as typeof process.stdout.write;
  try {
    assert.equal(await main(['study', 'plan', '--sizes', '1b,3b,8b', '--examples', String(PAPER_EXAMPLES), '--budget', String(PAPER_BUDGET), '--paradigms', 'dense']), 0);
  } finally {
    process.stdout.write = write;
  }
  const text = out.join('');
  assert.match(text, /8B-dense-kd\s+8\.03B\s+2\s+8\s+512\s+1\s+8324/);
  assert.equal((text.match(/-dense-/g) ?? []).length, 9);
  assert.equal(await main(['study', 'plan', '--examples', '10', '--objectives', 'mse']), 2);
});
