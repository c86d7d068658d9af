/**
 * Loading a query or document encoder from a folder the way `lion serve` accepts it: a Hugging Face model
 * folder (or a hub id in the local Hugging Face cache), or a PEFT adapter folder (it has adapter_config.json) merged into the base its config names. The
 * tokenizer comes from the adapter folder when it has one, else from the base.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Paradigm } from '../encoders/encode.js';
import { loadModel, resolveAdapterBase } from '../model/checkpoint.js';
import type { LlamaModel } from '../model/llama.js';
import type { DtypeRequest } from '../model/precision.js';
import { encoderIdentity, type EncoderIdentity } from '../util/identity.js';
import { loadTokenizer, type LionTokenizer } from '../tokenizer/tokenizer.js';
import { resolveModelDir } from '../util/hfcache.js';

/** The folder whose tokenizer.json goes with the encoder in `dir`. */
export function tokenizerDir(nameOrDir: string): string {
  const dir = resolveModelDir(nameOrDir);
  const isAdapter = existsSync(join(dir, 'adapter_config.json'));
  return isAdapter && !existsSync(join(dir, 'tokenizer.json')) ? resolveAdapterBase(dir) : dir;
}

/** Load the encoder in `dir` for inference: sparse keeps the LM head, dense drops it; `dtype` as `loadModel` (default fp32). */
export function loadEncoder(nameOrDir: string, paradigm: Paradigm, dtype?: DtypeRequest): { model: LlamaModel; tok: LionTokenizer } {
  const dir = resolveModelDir(nameOrDir);
  const isAdapter = existsSync(join(dir, 'adapter_config.json'));
  const base = isAdapter ? resolveAdapterBase(dir) : dir;
  const model = loadModel(base, { adapter: isAdapter ? dir : undefined, merge: isAdapter, withHead: paradigm === 'sparse', trainable: 'none', dtype });
  return { model, tok: loadTokenizer(tokenizerDir(dir)) };
}

/** The identity of the encoder in `dir` (a model folder, or an adapter merged into the base it names). */
export function encoderIdentityOfDir(dir: string, head: Paradigm): EncoderIdentity {
  const isAdapter = existsSync(join(dir, 'adapter_config.json'));
  return isAdapter ? encoderIdentity({ model: resolveAdapterBase(dir), adapter: dir, head }) : encoderIdentity({ model: dir, head });
}
