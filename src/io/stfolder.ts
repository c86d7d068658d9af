/**
 * sentence-transformers folder files, read when present so such a model folder loads unchanged:
 *   modules.json                      the module pipeline: Transformer / MLMTransformer, then Pooling or
 *                                     SpladePooling, optionally Normalize (Dense and other modules are refused)
 *   1_Pooling/config.json             pooling_mode_cls_token / _mean_tokens / _lasttoken (+ include_prompt)
 *   <n>_SpladePooling/config.json     pooling_strategy max|sum, activation_function relu
 *   config_sentence_transformers.json prompts {query, document|passage}, similarity_fn_name
 *   sentence_bert_config.json         max_seq_length
 * Only the format lives here; src/api/encoder.ts turns it into an encoder configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, ModelError } from '../errors.js';

/** What a sentence-transformers folder says about how to encode. Every field is absent when not stated. */
export interface StFolderConfig {
  /** Dense pooling from 1_Pooling/config.json. */
  pooling?: 'mean' | 'cls' | 'last';
  /** A Normalize module follows the pooling. */
  normalize?: boolean;
  /** SpladePooling strategy (sparse models). */
  sparsePooling?: 'max' | 'sum';
  prompts?: { query?: string; document?: string };
  similarity?: 'cosine' | 'dot';
  maxSeqLength?: number;
  /** Module types listed in modules.json, in order. */
  modules: string[];
}

function readJson(file: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!v || typeof v !== 'object') throw new Error('not an object or array');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new FormatError(`not valid JSON (${e instanceof Error ? e.message : String(e)})`, { file, cause: e });
  }
}

const KNOWN = /\.(Transformer|MLMTransformer|Pooling|SpladePooling|Normalize)$/;

/** Reads the sentence-transformers files of `dir` (an empty config when there are none). */
export function readStFolder(dir: string): StFolderConfig {
  const out: StFolderConfig = { modules: [] };
  const modulesFile = join(dir, 'modules.json');
  if (existsSync(modulesFile)) {
    const list = readJson(modulesFile);
    if (!Array.isArray(list)) throw new FormatError('modules.json must be a list of modules', { file: modulesFile });
    for (const m of list as Record<string, unknown>[]) {
      const type = String(m['type'] ?? '');
      out.modules.push(type);
      if (!KNOWN.test(type)) {
        throw new ModelError(`module ${type} is not supported (Lion runs Transformer/MLMTransformer, Pooling/SpladePooling and Normalize)`, { file: modulesFile, field: String(m['name'] ?? type) });
      }
      const cfgFile = join(dir, String(m['path'] ?? ''), 'config.json');
      if (type.endsWith('.Normalize')) out.normalize = true;
      else if (type.endsWith('.SpladePooling') && existsSync(cfgFile)) {
        const c = readJson(cfgFile);
        const s = c['pooling_strategy'] ?? 'max';
        if (s !== 'max' && s !== 'sum') throw new ModelError(`pooling_strategy "${String(s)}" is not max or sum`, { file: cfgFile, field: 'pooling_strategy' });
        const act = c['activation_function'] ?? 'relu';
        if (act !== 'relu') throw new ModelError(`activation_function "${String(act)}" is not supported (relu)`, { file: cfgFile, field: 'activation_function' });
        out.sparsePooling = s;
      } else if (type.endsWith('.SpladePooling')) out.sparsePooling = 'max';
      else if (type.endsWith('.Pooling') && existsSync(cfgFile)) out.pooling = poolingMode(readJson(cfgFile), cfgFile);
    }
  }
  const stFile = join(dir, 'config_sentence_transformers.json');
  if (existsSync(stFile)) {
    const c = readJson(stFile);
    const p = c['prompts'];
    if (p && typeof p === 'object') {
      const pr = p as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
      out.prompts = { query: str(pr['query']), document: str(pr['document']) ?? str(pr['passage']) ?? str(pr['corpus']) };
    }
    const sim = c['similarity_fn_name'];
    if (sim === 'cosine' || sim === 'dot') out.similarity = sim;
    else if (sim === 'dot_product') out.similarity = 'dot';
  }
  const sbFile = join(dir, 'sentence_bert_config.json');
  if (existsSync(sbFile)) {
    const n = readJson(sbFile)['max_seq_length'];
    if (typeof n === 'number' && Number.isInteger(n) && n > 0) out.maxSeqLength = n;
  }
  return out;
}

function poolingMode(c: Record<string, unknown>, file: string): 'mean' | 'cls' | 'last' {
  const on = (k: string) => c[k] === true;
  const modes = [['pooling_mode_cls_token', 'cls'], ['pooling_mode_mean_tokens', 'mean'], ['pooling_mode_lasttoken', 'last']] as const;
  const chosen = modes.filter(([k]) => on(k));
  for (const k of ['pooling_mode_max_tokens', 'pooling_mode_mean_sqrt_len_tokens', 'pooling_mode_weightedmean_tokens']) {
    if (on(k)) throw new ModelError(`${k} is not supported (Lion pools by CLS, mean or last token)`, { file, field: k });
  }
  if (chosen.length !== 1) throw new ModelError(`exactly one pooling mode must be on (got ${chosen.length})`, { file });
  if (c['include_prompt'] === false) throw new ModelError('include_prompt false (pooling without the prompt tokens) is not supported', { file, field: 'include_prompt' });
  return chosen[0]![1];
}
