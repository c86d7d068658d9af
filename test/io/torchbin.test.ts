/**
 * The restricted PyTorch checkpoint reader against files written by torch.save (scripts/make_torchbin_fixtures.py,
 * Debian torch 1.13): every dtype, a Parameter, a 0-d tensor, a transposed view, views sharing one storage, a
 * deflated re-zip; a pickle that calls os.system and a legacy pickle are refused; a `.bin` adapter and a
 * `pytorch_model.bin` model load to exactly the values of their safetensors twins.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLionError } from '../../src/errors.js';
import { readPeftAdapter } from '../../src/io/peft.js';
import { readTensor } from '../../src/io/safetensors.js';
import { readTorchCheckpoint, readWeight } from '../../src/io/torchbin.js';
import { openWeights } from '../../src/io/weights.js';
import { loadModel } from '../../src/model/checkpoint.js';
import { fixtures } from '../helpers.js';

const dir = join(fixtures, 'torchbin');
const expected = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;

for (const file of ['state.pt', 'deflate.pt']) {
  test(`${file}: every tensor has torch's shape and values`, () => {
    const ck = readTorchCheckpoint(join(dir, file));
    assert.deepEqual([...ck.tensors.keys()], Object.keys(expected));
    for (const [name, want] of Object.entries(expected)) {
      const info = ck.tensors.get(name)!;
      assert.deepEqual(info.shape, want.shape, name);
      assert.deepEqual(Array.from(readWeight(info)), want.values.map(Math.fround), name);
    }
  });
}

test('dtypes and view geometry are recorded', () => {
  const ck = readTorchCheckpoint(join(dir, 'state.pt'));
  const dt = (n: string) => ck.tensors.get(n)!.dtype;
  assert.deepEqual(['weight', 'half', 'bf16', 'f64', 'position_ids'].map(dt), ['F32', 'F16', 'BF16', 'F64', 'I64']);
  assert.equal(ck.tensors.get('shared_a')!.file, join(dir, 'state.pt'));
});

test('a pickle that calls os.system is refused, naming the global, and nothing runs', () => {
  assert.throws(() => readTorchCheckpoint(join(dir, 'evil.pt')),
    (e) => isLionError(e) && e.code === 'E_MODEL' && /global posix\.system is not allowed/.test(e.message) && /nothing was executed/.test(e.message));
});

test('other globals and object-building opcodes are refused by name', () => {
  assert.throws(() => readTorchCheckpoint(join(dir, 'forged-load-from-bytes.pt')),
    (e) => isLionError(e) && /global torch\.storage\._load_from_bytes is not allowed/.test(e.message));
  assert.throws(() => readTorchCheckpoint(join(dir, 'forged-newobj.pt')),
    (e) => isLionError(e) && /opcode NEWOBJ is not allowed/.test(e.message) && /pickle byte \d+/.test(e.message));
});

test('a legacy (non-zip) pickle is refused with the reason', () => {
  assert.throws(() => readTorchCheckpoint(join(dir, 'legacy.pt')),
    (e) => isLionError(e) && /legacy \(pre-1\.6, non-zip\)/.test(e.message) && /zip format/.test(e.hint));
});

test('adapter_model.bin reads to the same LoRA tensors as the safetensors adapter', () => {
  const bin = readPeftAdapter(join(dir, 'adapter'));
  const st = readPeftAdapter(join(fixtures, 'golden', 'llama', 'adapter'));
  assert.deepEqual(bin.lora, st.lora);
  assert.equal(bin.layout, st.layout);
  assert.deepEqual([...bin.tensors.keys()].sort(), [...st.tensors.keys()].sort());
  for (const [name, info] of st.tensors) assert.deepEqual(readWeight(bin.tensors.get(name)!), readTensor(info), name);
});

test('pytorch_model.bin loads the same model as model.safetensors', () => {
  assert.equal(openWeights(join(dir, 'llama')).tensors.size, openWeights(join(fixtures, 'golden', 'llama')).tensors.size);
  const a = loadModel(join(dir, 'llama'), { bidirectional: true });
  const b = loadModel(join(fixtures, 'golden', 'llama'), { bidirectional: true });
  for (const p of b.parameters()) assert.deepEqual(a.param(p.name), p.value, p.name);
  // and into a bf16-weight model, the same forward as from safetensors
  const batch = { ids: Int32Array.from([1, 5, 9, 7]), mask: Uint8Array.from([1, 1, 1, 1]), B: 1, T: 4 };
  const c = loadModel(join(dir, 'llama'), { dtype: 'bf16' }), d = loadModel(join(fixtures, 'golden', 'llama'), { dtype: 'bf16' });
  assert.deepEqual(c.forward(batch, { train: false }), d.forward(batch, { train: false }));
});

test('a truncated or foreign file is a clear error', () => {
  assert.throws(() => readTorchCheckpoint(join(dir, 'state.json')), (e) => isLionError(e) && /not a PyTorch zip checkpoint/.test(e.message));
  assert.throws(() => readTorchCheckpoint(join(dir, 'missing.pt')), (e) => isLionError(e) && e.code === 'E_NOT_FOUND');
});
