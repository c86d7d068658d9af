/**
 * The one file-type sniffer of Lion: what a file is, from its first bytes, for the commands that accept more
 * than one kind (index inputs, served indexes, query vectors, checkpoints). It also owns the 8-byte magic
 * numbers of Lion's own binary files; each format module takes its magic from `MAGIC`.
 *
 * Text files (corpora, queries) are told apart by `detectTextFormat`: a name ending in `.jsonl` or `.json`
 * (optionally `.gz`) is JSON Lines, `.tsv` is `id\ttext`, anything else is judged by its first non-blank line
 * (`{` = JSON Lines, otherwise TSV).
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { NotFoundError } from '../errors.js';
import { firstNonBlankLine } from './lines.js';

/** The magic numbers (first 8 bytes, latin1) of Lion's binary files. */
export const MAGIC = {
  bm25Index: 'LIONBM25',
  sparseIndex: 'LIONINV\0',
  denseIndex: 'LIONVEC\0',
  sparseShard: 'LIONSPV\0',
  denseShard: 'LIONDNS\0',
} as const;

/** What a file is, by its first bytes. `text` is anything else (JSON Lines, TSV, TREC runs and qrels, …). */
export type FileKind =
  | 'bm25-index' | 'sparse-index' | 'dense-index' | 'sparse-shard' | 'dense-shard'
  | 'safetensors' | 'torch-zip' | 'torch-legacy' | 'gzip' | 'empty' | 'text';

const BY_MAGIC: Record<string, FileKind> = {
  [MAGIC.bm25Index]: 'bm25-index',
  [MAGIC.sparseIndex]: 'sparse-index',
  [MAGIC.denseIndex]: 'dense-index',
  [MAGIC.sparseShard]: 'sparse-shard',
  [MAGIC.denseShard]: 'dense-shard',
};

/** Up to `n` bytes from the start of `path` (fewer when the file is shorter); NotFoundError when absent. */
export function readHead(path: string, n = 16): Uint8Array {
  if (!existsSync(path)) throw new NotFoundError(`no such file: ${path}`, { file: path });
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally { closeSync(fd); }
}

/** The first 8 bytes of `path` as latin1 (compare with `MAGIC`); shorter when the file is. */
export function fileMagic(path: string): string {
  return Buffer.from(readHead(path, 8)).toString('latin1');
}

/** What the bytes at the start of a file say it is. */
export function sniffBytes(head: Uint8Array): FileKind {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length === 0) return 'empty';
  if (b.length >= 8) {
    const k = BY_MAGIC[b.toString('latin1', 0, 8)];
    if (k) return k;
  }
  if (b.length >= 4 && b.readUInt32LE(0) === 0x04034b50) return 'torch-zip'; // zip local header "PK\3\4"
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 2 && b[0] === 0x80 && b[1]! >= 2 && b[1]! <= 5) return 'torch-legacy'; // pickle PROTO 2..5
  // safetensors: u64 header length, then a JSON object
  if (b.length >= 9 && b[8] === 0x7b && b.readBigUInt64LE(0) > 1n && b.readBigUInt64LE(0) < 1n << 32n) return 'safetensors';
  return 'text';
}

/** What `path` is, from its first 16 bytes. */
export function sniffFile(path: string): FileKind {
  return sniffBytes(readHead(path, 16));
}

export type TextFormat = 'jsonl' | 'tsv';

/** Decide whether a corpus or queries file is JSON Lines or TSV (see the file comment for the rules). */
export async function detectTextFormat(path: string): Promise<TextFormat> {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.jsonl') || name.endsWith('.json')) return 'jsonl';
  if (name.endsWith('.tsv')) return 'tsv';
  const first = await firstNonBlankLine(path);
  return first && first.line.trimStart().startsWith('{') ? 'jsonl' : 'tsv';
}
