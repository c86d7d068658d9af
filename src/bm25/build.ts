/**
 * Builds the BM25 inverted index in memory from a stream of documents.
 *
 * Layout (`Bm25Index`, also the on-disk sections of format.ts): terms sorted by their UTF-8 bytes, term t's
 * postings at [postingOffsets[t], postingOffsets[t+1]) in `postingDocs` (ascending document numbers) and
 * `postingTfs`; documents are numbered 0..D-1 in input order, their ids kept as one UTF-8 blob + offsets.
 * Building appends (term, doc, tf) triples to growable typed arrays, then groups them by term with one
 * counting sort, so no JavaScript object is made per posting.
 */
import type { TextRecord } from '../types.js';
import { FormatError, UsageError } from '../errors.js';
import { docText } from '../io/corpus.js';
import { analyzerName, createEnglishAnalyzer, type AnalyzerOptions } from './analyzer.js';
import { GrowU32, GrowU8 } from '../util/grow.js';

/** A BM25 index, in memory: plain typed arrays (see the file comment for the layout). */
export interface Bm25Index {
  numDocs: number;
  numTerms: number;
  /** Documents with at least one term (Lucene's docCount, the N of idf). */
  docCount: number;
  /** Sum of all document lengths (Lucene's sumTotalTermFreq). */
  sumTotalTermFreq: number;
  docLen: Uint32Array; // (D) analysed token count (after stop words)
  docIdOffsets: Uint32Array; // (D+1) into docIdBlob
  docIdBlob: Uint8Array; // UTF-8
  termOffsets: Uint32Array; // (V+1) into termBlob
  termBlob: Uint8Array; // UTF-8, terms in ascending byte order
  postingOffsets: Uint32Array; // (V+1) into postingDocs/postingTfs
  postingDocs: Uint32Array; // (P) ascending within a term
  postingTfs: Uint16Array | Uint32Array; // (P) Uint16 when every tf fits
  /** How the text was analysed and how documents were formed; searches must use the same analyzer. */
  meta: Bm25IndexMeta;
}

export interface Bm25IndexMeta {
  analyzer: string;
  analyzerOptions: AnalyzerOptions;
  /** How a record became text, e.g. "title + ' ' + text". */
  docText: string;
  /** Free-form provenance, e.g. the corpus path. */
  source?: string;
}

export interface BuildOptions {
  analyzer?: AnalyzerOptions;
  /** Recorded in the index metadata. */
  source?: string;
  /** Called every `progressEvery` documents with the count so far. */
  onProgress?: (docs: number) => void;
  progressEvery?: number;
}


const utf8 = new TextEncoder();

/**
 * Index a stream of documents. Document text is `docText(record)`: `title + " " + text` for BEIR records.
 *
 * @example
 * const index = await buildBm25Index(readCorpus('corpus.jsonl'));
 */
export async function buildBm25Index(
  docs: AsyncIterable<TextRecord> | Iterable<TextRecord>,
  opts: BuildOptions = {},
): Promise<Bm25Index> {
  const analyze = createEnglishAnalyzer(opts.analyzer);
  const vocab = new Map<string, number>(); // term -> provisional id (first-seen order)
  const postTerm = new GrowU32(1 << 16);
  const postDoc = new GrowU32(1 << 16);
  const postTf = new GrowU32(1 << 16);
  const docLen = new GrowU32(1 << 16);
  const idOffsets = new GrowU32(1 << 16);
  const idBlob = new GrowU8(1 << 16);
  const seenIds = new Set<string>();
  let maxTf = 0;
  let sumTotalTermFreq = 0;
  let docCount = 0;
  let ids = new Uint32Array(1024);
  const every = opts.progressEvery ?? 1000;
  idOffsets.push(0);
  for await (const r of docs) {
    if (seenIds.has(r.id)) throw new FormatError(`duplicate document id '${r.id}'`, { field: '_id', hint: 'document ids must be unique' });
    seenIds.add(r.id);
    const d = docLen.length;
    const terms = analyze(docText(r));
    if (terms.length > ids.length) ids = new Uint32Array(terms.length * 2);
    for (let i = 0; i < terms.length; i++) {
      let t = vocab.get(terms[i]!);
      if (t === undefined) {
        t = vocab.size;
        vocab.set(terms[i]!, t);
      }
      ids[i] = t;
    }
    const sorted = ids.subarray(0, terms.length).sort();
    for (let i = 0; i < sorted.length; ) {
      let j = i + 1;
      while (j < sorted.length && sorted[j] === sorted[i]) j++;
      postTerm.push(sorted[i]!);
      postDoc.push(d);
      postTf.push(j - i);
      if (j - i > maxTf) maxTf = j - i;
      i = j;
    }
    docLen.push(terms.length);
    sumTotalTermFreq += terms.length;
    if (terms.length > 0) docCount++;
    idBlob.append(utf8.encode(r.id));
    if (idBlob.length > 0xffffffff) throw new UsageError('document ids exceed 4 GiB; split the collection');
    if (postTerm.length > 0xfffffffe) throw new UsageError('more than 2^32 postings; split the collection');
    idOffsets.push(idBlob.length);
    if (opts.onProgress && (d + 1) % every === 0) opts.onProgress(d + 1);
  }

  // Final term numbering: ascending UTF-8 byte order, so lookups can binary-search the blob.
  const provisional = [...vocab.keys()];
  const encoded = provisional.map((t) => utf8.encode(t));
  const order = provisional.map((_, i) => i).sort((a, b) => Buffer.compare(encoded[a]!, encoded[b]!));
  const V = provisional.length;
  const finalId = new Uint32Array(V);
  const termBlob = new GrowU8(1 << 16);
  const termOffsets = new Uint32Array(V + 1);
  for (let r = 0; r < V; r++) {
    finalId[order[r]!] = r;
    termBlob.append(encoded[order[r]!]!);
    termOffsets[r + 1] = termBlob.length;
  }

  // Counting sort of postings by final term id; stable, so documents stay ascending within a term.
  const P = postTerm.length;
  const pt = postTerm.view();
  const postingOffsets = new Uint32Array(V + 1);
  for (let i = 0; i < P; i++) postingOffsets[finalId[pt[i]!]! + 1]!++;
  for (let t = 0; t < V; t++) postingOffsets[t + 1]! += postingOffsets[t]!;
  const cursor = postingOffsets.slice(0, V);
  const postingDocs = new Uint32Array(P);
  const postingTfs = maxTf <= 0xffff ? new Uint16Array(P) : new Uint32Array(P);
  const pd = postDoc.view();
  const pf = postTf.view();
  for (let i = 0; i < P; i++) {
    const at = cursor[finalId[pt[i]!]!]!++;
    postingDocs[at] = pd[i]!;
    postingTfs[at] = pf[i]!;
  }
  return {
    numDocs: docLen.length,
    numTerms: V,
    docCount,
    sumTotalTermFreq,
    docLen: docLen.view().slice(),
    docIdOffsets: idOffsets.view().slice(),
    docIdBlob: idBlob.view().slice(),
    termOffsets,
    termBlob: termBlob.view().slice(),
    postingOffsets,
    postingDocs,
    postingTfs,
    meta: {
      analyzer: analyzerName(opts.analyzer),
      analyzerOptions: { stem: opts.analyzer?.stem ?? true, stopWords: opts.analyzer?.stopWords ?? true },
      docText: "title + ' ' + text",
      ...(opts.source !== undefined ? { source: opts.source } : {}),
    },
  };
}

const utf8d = new TextDecoder();

/** The external id of document number `d`. */
export function docIdOf(index: Bm25Index, d: number): string {
  return utf8d.decode(index.docIdBlob.subarray(index.docIdOffsets[d]!, index.docIdOffsets[d + 1]!));
}

/** The term number of `term` (already analysed), or -1: binary search over the sorted UTF-8 blob. */
export function termIdOf(index: Bm25Index, term: string): number {
  const key = utf8.encode(term);
  const blob = index.termBlob;
  const off = index.termOffsets;
  let lo = 0;
  let hi = index.numTerms - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = off[mid]!;
    const e = off[mid + 1]!;
    let c = 0;
    const n = Math.min(e - s, key.length);
    for (let i = 0; i < n && c === 0; i++) c = blob[s + i]! - key[i]!;
    if (c === 0) c = e - s - key.length;
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The term string of term number `t`. */
export function termOf(index: Bm25Index, t: number): string {
  return utf8d.decode(index.termBlob.subarray(index.termOffsets[t]!, index.termOffsets[t + 1]!));
}
