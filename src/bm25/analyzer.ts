/**
 * The English analyzer of the BM25 baseline: the token stream Lucene's `EnglishAnalyzer` (and Anserini's
 * `DefaultEnglishAnalyzer`, which Pyserini's BM25 indexes use) produces:
 *
 *   StandardTokenizer → EnglishPossessiveFilter → LowerCaseFilter → StopFilter(33 words) → PorterStemFilter
 *
 * The tokenizer follows the Unicode word-break rules (UAX #29) that Lucene's StandardTokenizer implements, for
 * the character classes ordinary text uses: letters and digits join (WB5, WB8-10), `.` `'` `:` join letters on
 * both sides ("u.s.a", "don't", "a:b"), `.` `,` `;` join digits ("3.14", "1,000"), `_` joins anything
 * (WB13a/b), combining marks and format characters (soft hyphen, ZWJ) stay inside the word (WB4), each
 * ideograph or hiragana character is its own token, katakana and Southeast-Asian script runs stay together.
 * Words longer than 255 UTF-16 units are split, as Lucene does with its default maxTokenLength. Not modelled:
 * Hebrew double-quote rules, emoji sequences and regional-indicator pairs (Lucene emits those as tokens; we
 * drop them) — none affects English retrieval.
 *
 * Lower-casing is per code point (Java's Character.toLowerCase), so "Σ" is always "σ" and "İ" is "i".
 * Porter stemming is the npm `stemmer` package: Martin Porter's own C/Java version of the algorithm (with
 * his "bli"→"ble" and "logi"→"log" departures from the 1980 paper), the one Lucene's PorterStemmer ports.
 */
import { stemmer } from 'stemmer';

/** Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET (33 words), the default stop set of Anserini/Pyserini. */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not',
  'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was',
  'will', 'with',
]);

/** Lucene StandardTokenizer's default maximum token length (longer words are split into pieces). */
export const MAX_TOKEN_LENGTH = 255;

// Word-break classes (UAX #29 names).
const OTHER = 0;
const ALETTER = 1;
const NUMERIC = 2;
const MIDLETTER = 3;
const MIDNUM = 4;
const MIDNUMLET = 5; // MidNumLet and Single_Quote: join letters like MidLetter, digits like MidNum
const EXTENDNUMLET = 6;
const EXTEND = 7; // Extend, Format, ZWJ: absorbed into the preceding character (WB4)
const IDEO = 8; // ideographs and hiragana: one token per character
const KATAKANA = 9;
const SEA = 10; // Thai, Lao, Myanmar, Khmer runs (Lucene's SOUTHEAST_ASIAN tokens)

const MIDLETTER_CP = new Set([0x3a, 0xb7, 0x387, 0x5f4, 0x2027, 0xfe13, 0xfe55, 0xff1a]);
const MIDNUM_CP = new Set([0x2c, 0x3b, 0x37e, 0x589, 0x60c, 0x60d, 0x66c, 0x7f8, 0x2044, 0xfe10, 0xfe14, 0xfe50, 0xfe54, 0xff0c, 0xff1b]);
const MIDNUMLET_CP = new Set([0x27, 0x2e, 0x2018, 0x2019, 0x2024, 0xfe52, 0xff07, 0xff0e]);
// Word_Break=Katakana / Extend characters whose Script property is Common (so the script test misses them),
// e.g. the prolonged sound mark in コーヒー.
const KATAKANA_CP = new Set([0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x309b, 0x309c, 0x30a0, 0x30fc, 0xff70]);
const EXTEND_CP = new Set([0xff9e, 0xff9f]);

const reExtend = /^[\p{M}\p{Cf}\u200c\u200d]$/u;
const reNumeric = /^\p{Nd}$/u;
const reIdeo = /^[\p{Ideographic}\p{Script=Hiragana}]$/u;
const reKatakana = /^\p{Script=Katakana}$/u;
const reSea = /^[\p{Script=Thai}\p{Script=Lao}\p{Script=Myanmar}\p{Script=Khmer}]$/u;
const reLetter = /^\p{Alphabetic}$/u;
const rePc = /^\p{Pc}$/u;

function classifySlow(cp: number): number {
  if (MIDLETTER_CP.has(cp)) return MIDLETTER;
  if (MIDNUM_CP.has(cp)) return MIDNUM;
  if (MIDNUMLET_CP.has(cp)) return MIDNUMLET;
  if (KATAKANA_CP.has(cp)) return KATAKANA;
  if (EXTEND_CP.has(cp)) return EXTEND;
  const ch = String.fromCodePoint(cp);
  if (rePc.test(ch)) return EXTENDNUMLET;
  if (reExtend.test(ch)) return EXTEND;
  if (reNumeric.test(ch)) return NUMERIC;
  if (reIdeo.test(ch)) return IDEO;
  if (reKatakana.test(ch)) return KATAKANA;
  if (reSea.test(ch)) return reLetter.test(ch) || /\p{M}/u.test(ch) ? SEA : OTHER;
  if (reLetter.test(ch)) return ALETTER;
  return OTHER;
}

const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII_CLASS[c] = classifySlow(c);
const classCache = new Map<number, number>();

function classify(cp: number): number {
  if (cp < 128) return ASCII_CLASS[cp]!;
  let c = classCache.get(cp);
  if (c === undefined) {
    c = classifySlow(cp);
    classCache.set(cp, c);
  }
  return c;
}

/** Does a token continue from a character of class `prev` straight into one of class `next`? */
function joins(prev: number, next: number): boolean {
  const pAN = prev === ALETTER || prev === NUMERIC;
  if (pAN && (next === ALETTER || next === NUMERIC)) return true; // WB5, WB8, WB9, WB10
  if (next === EXTENDNUMLET) return pAN || prev === KATAKANA || prev === EXTENDNUMLET; // WB13a
  if (prev === EXTENDNUMLET) return next === ALETTER || next === NUMERIC || next === KATAKANA; // WB13b
  if (prev === KATAKANA) return next === KATAKANA; // WB13
  if (prev === SEA) return next === SEA;
  return false;
}

function cpLen(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}

/** Index just past any Extend/Format characters starting at `i`. */
function skipExtend(s: string, i: number): number {
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    if (classify(cp) !== EXTEND) break;
    i += cpLen(cp);
  }
  return i;
}

/**
 * Split `text` into words as Lucene's StandardTokenizer does (original case kept).
 *
 * @example tokenizeStandard("The U.S. don't 3.14 e-mail") // ['The', 'U.S', "don't", '3.14', 'e', 'mail']
 */
export function tokenizeStandard(text: string, maxTokenLength = MAX_TOKEN_LENGTH): string[] {
  const out: string[] = [];
  const n = text.length;
  let i = 0;
  const emit = (start: number, end: number, core: boolean): void => {
    if (!core) return; // a run of underscores alone is not a word
    for (let p = start; p < end; p += maxTokenLength) out.push(text.slice(p, Math.min(end, p + maxTokenLength)));
  };
  while (i < n) {
    const cp = text.codePointAt(i)!;
    const c = classify(cp);
    if (c === OTHER || c === EXTEND || c === MIDLETTER || c === MIDNUM || c === MIDNUMLET) {
      i += cpLen(cp);
      continue;
    }
    const start = i;
    i = skipExtend(text, i + cpLen(cp));
    if (c === IDEO) {
      emit(start, i, true);
      continue;
    }
    let prev = c;
    let core = c !== EXTENDNUMLET;
    while (i < n) {
      const ncp = text.codePointAt(i)!;
      const nc = classify(ncp);
      if (joins(prev, nc)) {
        prev = nc;
        if (nc !== EXTENDNUMLET) core = true;
        i = skipExtend(text, i + cpLen(ncp));
        continue;
      }
      // WB6/7 (letter mid letter) and WB11/12 (digit mid digit) need the character after the mid one.
      const letterMid = prev === ALETTER && (nc === MIDLETTER || nc === MIDNUMLET);
      const numMid = prev === NUMERIC && (nc === MIDNUM || nc === MIDNUMLET);
      if (letterMid || numMid) {
        const j = skipExtend(text, i + cpLen(ncp));
        if (j < n) {
          const acp = text.codePointAt(j)!;
          const ac = classify(acp);
          if ((letterMid && ac === ALETTER) || (numMid && ac === NUMERIC)) {
            prev = ac;
            i = skipExtend(text, j + cpLen(acp));
            continue;
          }
        }
      }
      break;
    }
    emit(start, i, core);
  }
  return out;
}

/** Java's Character.toLowerCase applied to each code point (no context-dependent mappings). */
export function lowerCaseJava(s: string): string {
  // Fast path: ASCII-only strings.
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 128) {
      out += ch.toLowerCase();
      continue;
    }
    const low = ch.toLowerCase();
    // One-to-many mappings (İ → i̇) keep only the first code point, as Character.toLowerCase does.
    out += low.length === ch.length ? low : String.fromCodePoint(low.codePointAt(0)!);
  }
  return out;
}

/** EnglishPossessiveFilter: strip a trailing 's (ASCII, U+2019 or U+FF07 apostrophe, s or S). */
export function stripPossessive(token: string): string {
  const n = token.length;
  if (n >= 2) {
    const a = token.charCodeAt(n - 2);
    const s = token.charCodeAt(n - 1);
    if ((a === 0x27 || a === 0x2019 || a === 0xff07) && (s === 0x73 || s === 0x53)) return token.slice(0, n - 2);
  }
  return token;
}

/** Options of the English analyzer; the defaults are Lucene's EnglishAnalyzer. */
export interface AnalyzerOptions {
  /** Apply Porter stemming (default true). */
  stem?: boolean;
  /** Remove the 33 English stop words (default true). */
  stopWords?: boolean;
}

/** A function from text to index terms. */
export type Analyzer = (text: string) => string[];

/**
 * Build the English analyzer. Stems are memoised (vocabularies are small next to token counts).
 *
 * @example createEnglishAnalyzer()("The cats' owner's running") // ['cat', 'owner', 'run']
 */
export function createEnglishAnalyzer(opts: AnalyzerOptions = {}): Analyzer {
  const stem = opts.stem ?? true;
  const stop = opts.stopWords ?? true;
  const cache = new Map<string, string>();
  const stemOf = (t: string): string => {
    let s = cache.get(t);
    if (s === undefined) {
      s = stemmer(t);
      if (cache.size < 1_000_000) cache.set(t, s);
    }
    return s;
  };
  return (text: string): string[] => {
    const out: string[] = [];
    for (const raw of tokenizeStandard(text)) {
      const t = lowerCaseJava(stripPossessive(raw));
      if (stop && ENGLISH_STOP_WORDS.has(t)) continue;
      out.push(stem ? stemOf(t) : t);
    }
    return out;
  };
}

/** A stable name for the analyzer configuration, recorded in index headers so searches use the same one. */
export function analyzerName(opts: AnalyzerOptions = {}): string {
  return `lucene-english/stem=${opts.stem ?? true ? 'porter' : 'none'}/stop=${opts.stopWords ?? true ? 'lucene33' : 'none'}`;
}
