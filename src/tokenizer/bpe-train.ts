/**
 * Byte-level BPE training for Lion's small models, written as a Hugging Face `tokenizer.json` (plus a
 * `tokenizer_config.json`) laid out like Llama-3's: the Llama-3 split regex, GPT-2 byte-to-unicode mapping, BPE
 * merges, a TemplateProcessing post-processor that prepends `<|begin_of_text|>` (BOS, no EOS), and a ByteLevel
 * decoder. Any text round-trips exactly (every byte has a token), so no unknown token exists.
 *
 * Id layout: 0..255 the 256 byte symbols (in byte order), then one id per merge in merge order, then the special
 * tokens `<|begin_of_text|>`, `<|end_of_text|>`, `<|mask|>` (as Llama-3 puts its specials after the BPE vocab).
 * Padding uses `<|end_of_text|>` as Llama-3 does; MNTP masks with `<|mask|>`.
 *
 * Training: pre-tokens are counted once; each round merges the most frequent adjacent pair (ties: the pair whose
 * merged string sorts first, so training is deterministic). Pair counts are kept incrementally, with an index
 * from pair to the words containing it, so a merge touches only those words.
 */
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { join } from 'node:path';

/** Llama-3's pre-tokenizer pattern, as written in its tokenizer.json (Oniguruma syntax). */
export const LLAMA3_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The same pattern in JavaScript syntax (the case-insensitive group spelled out), used while training. */
const SPLIT_JS = /'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

export const SPECIAL_TOKENS = { bos: '<|begin_of_text|>', eos: '<|end_of_text|>', mask: '<|mask|>' } as const;

/** GPT-2's reversible map from bytes to printable unicode characters. */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + extra++);
  return out;
}

export interface BpeTrainOptions {
  /** Total vocabulary size including the 256 bytes and the 3 special tokens. */
  vocabSize: number;
  /** Pairs seen fewer times than this are not merged (default 2). */
  minFrequency?: number;
}

export interface TrainedBpe {
  vocab: Map<string, number>; // token string (byte-mapped) -> id
  merges: Array<[string, string]>;
  specialIds: { bos: number; eos: number; mask: number };
  /** The full Hugging Face tokenizer.json object. */
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** Two adjacent symbol ids a, b packed as a * PAIR_BASE + b (exact in a double while ids stay below 2^21). */
type Pair = number;
const PAIR_BASE = 0x200000;

/** Count the byte-mapped pre-tokens of the texts. */
function countWords(texts: Iterable<string>): Map<string, number> {
  const enc = new TextEncoder();
  const b2u = bytesToUnicode();
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(SPLIT_JS)) {
      let w = '';
      for (const b of enc.encode(m[0])) w += b2u[b];
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  return counts;
}

interface HeapEntry { pair: Pair; count: number; str: string }

/** A binary max-heap of merge candidates: larger count first, then the smaller merged string. */
class PairHeap {
  private readonly a: HeapEntry[] = [];
  private static before(x: HeapEntry, y: HeapEntry): boolean {
    return x.count > y.count || (x.count === y.count && x.str < y.str);
  }
  push(e: HeapEntry): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!PairHeap.before(a[i]!, a[up]!)) break;
      [a[i], a[up]] = [a[up]!, a[i]!];
      i = up;
    }
  }
  pop(): HeapEntry | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && PairHeap.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && PairHeap.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Train a byte-level BPE tokenizer on `texts`.
 * @example const bpe = trainBpe(passages, { vocabSize: 4096 }); await saveBpe(bpe, 'models/tiny');
 */
export function trainBpe(texts: Iterable<string>, opts: BpeTrainOptions): TrainedBpe {
  const nSpecial = 3;
  if (!(opts.vocabSize >= 256 + nSpecial)) throw new UsageError(`BPE vocabulary size must be at least ${256 + nSpecial}, got ${opts.vocabSize}`);
  if (!(opts.vocabSize <= PAIR_BASE)) throw new UsageError(`BPE vocabulary size must be at most ${PAIR_BASE}, got ${opts.vocabSize}`);
  const minFreq = opts.minFrequency ?? 2;
  const b2u = bytesToUnicode();
  const symbols: string[] = [...b2u]; // id -> string
  const symId = new Map<string, number>(symbols.map((s, i) => [s, i]));
  const wordCounts = countWords(texts);
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, c] of wordCounts) { words.push([...w].map((ch) => symId.get(ch)!)); freq.push(c); }

  const pairCount = new Map<Pair, number>();
  const pairWords = new Map<Pair, Set<number>>();
  const changed = new Set<Pair>();
  const addPairs = (wi: number, sign: number): void => {
    const w = words[wi]!;
    for (let k = 0; k + 1 < w.length; k++) {
      const p = w[k]! * PAIR_BASE + w[k + 1]!;
      pairCount.set(p, (pairCount.get(p) ?? 0) + sign * freq[wi]!);
      changed.add(p);
      if (sign > 0) {
        let s = pairWords.get(p);
        if (!s) { s = new Set(); pairWords.set(p, s); }
        s.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1);

  // Candidate pairs in a max-heap ordered by (count descending, merged string ascending). An entry is pushed
  // whenever a pair's count changes; entries whose count is no longer current are skipped when popped, so the
  // pair chosen each round is exactly the most frequent one, ties by merged string.
  const floor = Math.max(minFreq, 1);
  const heap = new PairHeap();
  const pushChanged = (): void => {
    for (const p of changed) {
      const c = pairCount.get(p) ?? 0;
      if (c <= 0) { pairCount.delete(p); pairWords.delete(p); continue; }
      if (c < floor) continue;
      heap.push({ pair: p, count: c, str: symbols[Math.floor(p / PAIR_BASE)]! + symbols[p % PAIR_BASE]! });
    }
    changed.clear();
  };
  pushChanged();

  const merges: Array<[string, string]> = [];
  const target = opts.vocabSize - nSpecial;
  while (symbols.length < target) {
    let top = heap.pop();
    while (top && pairCount.get(top.pair) !== top.count) top = heap.pop();
    if (top === undefined) break; // nothing frequent enough is left to merge
    const best = top.pair;
    const a = Math.floor(best / PAIR_BASE), b = best % PAIR_BASE;
    const merged = symbols.length;
    symbols.push(top.str);
    symId.set(top.str, merged);
    merges.push([symbols[a]!, symbols[b]!]);
    for (const wi of pairWords.get(best) ?? []) {
      const w = words[wi]!;
      let has = false;
      for (let k = 0; k + 1 < w.length; k++) if (w[k] === a && w[k + 1] === b) { has = true; break; }
      if (!has) continue;
      addPairs(wi, -1);
      const out: number[] = [];
      for (let k = 0; k < w.length; k++) {
        if (k + 1 < w.length && w[k] === a && w[k + 1] === b) { out.push(merged); k++; } else out.push(w[k]!);
      }
      words[wi] = out;
      addPairs(wi, 1);
    }
    pairCount.delete(best);
    pairWords.delete(best);
    changed.delete(best);
    pushChanged();
  }
  const vocab = new Map<string, number>(symbols.map((s, i) => [s, i]));
  const base = symbols.length;
  const specialIds = { bos: base, eos: base + 1, mask: base + 2 };
  return { vocab, merges, specialIds, ...hfFiles(vocab, merges, specialIds) };
}

function hfFiles(vocab: Map<string, number>, merges: Array<[string, string]>, ids: TrainedBpe['specialIds']) {
  const added = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const bos = SPECIAL_TOKENS.bos;
  const tokenizerJson: Record<string, unknown> = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(SPECIAL_TOKENS.bos, ids.bos), added(SPECIAL_TOKENS.eos, ids.eos), added(SPECIAL_TOKENS.mask, ids.mask)],
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [ids.bos], tokens: [bos] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: SPECIAL_TOKENS.bos,
    eos_token: SPECIAL_TOKENS.eos,
    pad_token: SPECIAL_TOKENS.eos,
    mask_token: SPECIAL_TOKENS.mask,
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 8192,
  };
  return { tokenizerJson, tokenizerConfig };
}

/** Write `tokenizer.json` and `tokenizer_config.json` into `dir` (atomically). */
export async function saveBpe(bpe: TrainedBpe, dir: string): Promise<void> {
  await writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(bpe.tokenizerJson));
  await writeFileAtomic(join(dir, 'tokenizer_config.json'), `${JSON.stringify(bpe.tokenizerConfig, null, 2)}\n`);
}
