#!/usr/bin/env node
// Prints the worst relative errors of Lion's model against the PyTorch goldens (test/fixtures/golden), per
// case, on the ref backend or (LION_BACKEND=native) the native one. Same metric as test/model/golden.ts:
// |a-b| / max(|b|, rms(b)). Run after `npx tsc -p tsconfig.json`: node scripts/golden-errors.mjs
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = (p) => import(pathToFileURL(join(process.cwd(), 'dist', p)).href);
const G = await dist('test/model/golden.js');
const { loadModel } = await dist('src/model/checkpoint.js');
const { peftKey } = await dist('src/io/peft.js');
const K = await dist('src/kernels/index.js');
const kernels = process.env.LION_BACKEND === 'native' ? K.loadNative() : K.ref;
const e = (x) => x.toExponential(1);
for (const name of ['llama', 'qwen2']) {
  const g = G.loadGolden(name);
  const { batch, labels } = G.goldenBatch(g);
  for (const c of g.cases) {
    const m = loadModel(g.dir, { kernels, bidirectional: !c.causal, adapter: c.lora ? join(g.dir, 'adapter') : undefined, trainable: c.lora ? 'lora' : 'all' });
    m.zeroGrad();
    const { loss, logits } = G.lmLoss(m, batch, labels, true);
    const h = m.forward(batch, { train: false });
    const el = G.assertClose(G.realRows(logits, batch.mask, 1000), g.tensor(`${c.name}.logits`), 1, 'logits');
    const eh = G.assertClose(G.realRows(h, batch.mask, 64), g.tensor(`${c.name}.hidden`), 1, 'hidden');
    const grads = new Map(m.trainableParams().map((p) => [c.lora ? peftKey(p.name, g.lora.adapterKeys) : p.name, p.grad]));
    let eg = 0;
    for (const gn of c.grads) eg = Math.max(eg, G.assertClose(grads.get(gn), g.tensor(`${c.name}.grad.${gn}`), 1, gn));
    console.log(`${kernels.name} ${name} ${c.name}: logits ${e(el)} hidden ${e(eh)} loss ${e(Math.abs(loss - c.loss) / c.loss)} grads ${c.grads.length ? e(eg) : '-'}`);
  }
}
