/**
 * The tokenizer an encoder or trainer reads texts with: a model directory's Hugging Face `tokenizer.json` (and
 * `tokenizer_config.json` when present), run by @huggingface/tokenizers with its post-processor (BOS in front
 * for Llama-3 and Lion's own tokenizers; no EOS). Padding uses the EOS token, as the paper does (spec §2.6).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { FormatError, NotFoundError } from '../errors.js';
import type { EncoderTokenizer } from './batch.js';

/** A loaded tokenizer plus the ids training needs. */
export interface LoadedTokenizer extends EncoderTokenizer {
  /** Id of a token string, or undefined. */
  tokenId(token: string): number | undefined;
  decode(ids: number[]): string;
  bosId: number | undefined;
  eosId: number | undefined;
  /** Size of the id space (largest id + 1), the range MNTP draws random replacements from. */
  size: number;
}

function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/**
 * Load `<dir>/tokenizer.json`.
 * @example const tok = loadTokenizer('models/lion-tiny'); tok.encode('hello'); // [bos, ...]
 */
export function loadTokenizer(dir: string): LoadedTokenizer {
  const file = join(dir, 'tokenizer.json');
  if (!existsSync(file)) throw new NotFoundError('tokenizer.json not found', { file, hint: 'point at a model directory with a Hugging Face tokenizer.json' });
  let json: Record<string, unknown>;
  let config: Record<string, unknown> = {};
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const cfgFile = join(dir, 'tokenizer_config.json');
    if (existsSync(cfgFile)) config = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new FormatError(`not valid JSON: ${(e as Error).message}`, { file });
  }
  const tok = new Tokenizer(json, config);
  const vocab = ((json['model'] as { vocab?: Record<string, number> } | undefined)?.vocab) ?? {};
  const added = (json['added_tokens'] as { id: number; content: string }[] | undefined) ?? [];
  const ids = new Map<string, number>(Object.entries(vocab));
  for (const a of added) ids.set(a.content, a.id);
  let size = 0;
  for (const id of ids.values()) size = Math.max(size, id + 1);
  const tokenId = (t: string) => ids.get(t);
  const bosName = tokenName(config['bos_token']) ?? '<|begin_of_text|>';
  const eosName = tokenName(config['eos_token']) ?? '<|end_of_text|>';
  const padName = tokenName(config['pad_token']) ?? eosName;
  const eosId = tokenId(eosName);
  const padId = tokenId(padName) ?? eosId;
  if (padId === undefined) throw new FormatError(`no padding token: neither "${padName}" nor the EOS token "${eosName}" is in the vocabulary`, { file });
  return {
    encode: (text: string) => tok.encode(text).ids,
    decode: (list: number[]) => tok.decode(list, { skip_special_tokens: true }),
    tokenId, padId, eosId, bosId: tokenId(bosName), size,
  };
}
