/**
 * Finding a model's weights in a folder, whatever their format: safetensors (one file, or shards with
 * `model.safetensors.index.json`) first, as Hugging Face prefers them, else PyTorch zip checkpoints
 * (`pytorch_model.bin`, or shards with `pytorch_model.bin.index.json`) through the restricted reader of
 * src/io/torchbin.ts. Both come back as one name → TensorInfo index; `readWeightInto` reads either kind.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactError, ModelError, NotFoundError } from '../errors.js';
import { openCheckpoint, readSafetensorsHeader, type SafetensorsIndex } from './safetensors.js';
import { readTorchCheckpoint } from './torchbin.js';

export { readWeightInto, readWeight } from './torchbin.js';

const TORCH_EXT = /\.(bin|pt|pth)$/;

/** Opens the weights at `path`: a weights file, or a model folder (see the file comment for the order). */
export function openWeights(path: string): SafetensorsIndex {
  if (!existsSync(path)) throw new NotFoundError('checkpoint not found', { file: path });
  if (!statSync(path).isDirectory()) return TORCH_EXT.test(path) ? readTorchCheckpoint(path) : readSafetensorsHeader(path);
  if (existsSync(join(path, 'model.safetensors')) || existsSync(join(path, 'model.safetensors.index.json'))) return openCheckpoint(path);
  const bin = join(path, 'pytorch_model.bin');
  if (existsSync(bin)) return readTorchCheckpoint(bin);
  const indexFile = join(path, 'pytorch_model.bin.index.json');
  if (existsSync(indexFile)) {
    let map: unknown;
    try {
      map = (JSON.parse(readFileSync(indexFile, 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch (e) {
      throw new ArtifactError('not valid JSON', { file: indexFile, cause: e });
    }
    if (!map || typeof map !== 'object') throw new ArtifactError('missing "weight_map"', { file: indexFile, field: 'weight_map' });
    const out: SafetensorsIndex = { tensors: new Map(), metadata: {}, files: [] };
    for (const shard of new Set(Object.values(map as Record<string, string>))) {
      const h = readTorchCheckpoint(join(path, shard));
      out.files.push(...h.files);
      for (const [k, v] of h.tensors) out.tensors.set(k, v);
    }
    for (const [name, shard] of Object.entries(map as Record<string, string>)) {
      if (!out.tensors.has(name)) throw new ModelError(`tensor ${name} is listed in the index but missing from ${shard}`, { file: join(path, shard), field: name });
    }
    return out;
  }
  throw new NotFoundError('no model.safetensors, pytorch_model.bin or their shard index in the folder', {
    file: path, hint: 'point at a Hugging Face model folder (config.json plus weights)',
  });
}
