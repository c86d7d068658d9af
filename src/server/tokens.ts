/**
 * Readable sparse expansion terms. A byte-level BPE vocabulary (Lion's small models, Llama-3) has tokens that
 * hold part of a multi-byte UTF-8 character; decoded alone they are U+FFFD. Here each token id maps to its
 * bytes (from tokenizer.json: the GPT-2 byte↔unicode table for ByteLevel models, `<0xNN>` byte-fallback
 * tokens, or the token string itself), a token that is valid UTF-8 shows as its text, and the fragments a
 * query's own tokenisation puts next to each other are merged into the character they spell (one term, the
 * weights summed). Fragments with no partner show their bytes, e.g. `‹e2 80›`, never a bare id.
 */
import { readFileSync } from 'node:fs';
import type { WeightedTerm } from './system.js';

/** GPT-2's byte → printable-character table, inverted: character → byte. */
function byteLevelDecoder(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  return new Map(bs.map((b, i) => [String.fromCodePoint(cs[i]!), b]));
}

const utf8 = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });

/** Token id → its bytes, read from a tokenizer.json (undefined for unknown ids). */
export function tokenBytes(tokenizerFile: string): (id: number) => Uint8Array | undefined {
  const j = JSON.parse(readFileSync(tokenizerFile, 'utf8')) as { model?: { vocab?: Record<string, number> | Array<[string, number]> }; decoder?: { type?: string; decoders?: Array<{ type?: string }> }; added_tokens?: Array<{ id: number; content: string }> };
  const byId = new Map<number, string>();
  const vocab = j.model?.vocab;
  if (Array.isArray(vocab)) vocab.forEach(([t], i) => byId.set(i, t)); // Unigram: [piece, score]
  else if (vocab) for (const [t, id] of Object.entries(vocab)) byId.set(id, t);
  for (const a of j.added_tokens ?? []) byId.set(a.id, a.content);
  const types = [j.decoder?.type, ...(j.decoder?.decoders ?? []).map((d) => d.type)];
  const byteLevel = types.includes('ByteLevel') ? byteLevelDecoder() : undefined;
  const cache = new Map<number, Uint8Array | undefined>();
  return (id) => {
    if (cache.has(id)) return cache.get(id);
    const t = byId.get(id);
    let b: Uint8Array | undefined;
    if (t !== undefined) {
      const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
      if (fallback) b = Uint8Array.of(parseInt(fallback[1]!, 16));
      else if (byteLevel && [...t].every((c) => byteLevel.has(c))) b = Uint8Array.from([...t], (c) => byteLevel.get(c)!);
      else b = utf8.encode(t.replace(/▁/g, ' '));
    }
    cache.set(id, b);
    return b;
  };
}

function validText(b: Uint8Array): string | undefined {
  try { return strict.decode(b); } catch { return undefined; }
}

/** How a token is shown: its text without the leading space marker, `␣` for a space, or its bytes in hex. */
export function readableToken(b: Uint8Array | undefined, id: number): string {
  if (!b) return `#${id}`;
  const t = validText(b);
  if (t === undefined) return `‹${[...b].map((x) => x.toString(16).padStart(2, '0')).join(' ')}›`;
  const s = t.trim();
  return s === '' ? (t.length ? '␣' : `#${id}`) : s;
}

/**
 * Merge byte fragments that a query's tokenisation (`queryIds`, in order) puts side by side into the text they
 * spell: one term per character, with the fragments' weights summed and `ids` listing them. Other terms pass
 * through; the result is sorted by weight, heaviest first.
 */
export function mergeByteTerms(terms: WeightedTerm[], bytesOf: (id: number) => Uint8Array | undefined, queryIds: number[]): Array<WeightedTerm & { ids?: number[] }> {
  const frag = (id: number) => { const b = bytesOf(id); return b !== undefined && validText(b) === undefined; };
  const group = new Map<number, string>(); // fragment id → the text its run spells
  for (let i = 0; i < queryIds.length; ) {
    if (!frag(queryIds[i]!)) { i++; continue; }
    let j = i;
    const bytes: number[] = [];
    const ids: number[] = [];
    while (j < queryIds.length && frag(queryIds[j]!)) {
      ids.push(queryIds[j]!);
      bytes.push(...bytesOf(queryIds[j]!)!);
      j++;
      const t = validText(Uint8Array.from(bytes));
      if (t !== undefined) { for (const id of ids) if (!group.has(id)) group.set(id, t.trim() || '␣'); bytes.length = 0; ids.length = 0; }
    }
    i = j;
  }
  const out: Array<WeightedTerm & { ids?: number[] }> = [];
  const merged = new Map<string, WeightedTerm & { ids: number[] }>();
  for (const t of terms) {
    const g = t.id !== undefined ? group.get(t.id) : undefined;
    if (g === undefined) { out.push(t); continue; }
    const m = merged.get(g);
    if (m) { m.weight += t.weight; m.ids.push(t.id!); } else { const n = { term: g, id: t.id, weight: t.weight, ids: [t.id!] }; merged.set(g, n); out.push(n); }
  }
  return out.sort((a, b) => b.weight - a.weight);
}
