/**
 * Encoder identity: which encoder produced a set of vectors. `lion encode` records it in every `.lsv` / `.f32`
 * shard, `lion index` carries it into the index, and `lion search` / `lion serve` compare it with the query
 * side, refusing a mismatch (`E_FOREIGN`) unless told `--allow-foreign-queries`.
 *
 * The model fingerprint is a 16-hex-digit hash of: the model's `config.json`; its tokenizer files; for every
 * `*.safetensors` file its name, its size, its JSON header and 64 evenly spaced 4 KiB samples of its data
 * (PyTorch `*.bin` / `*.pt` checkpoints: name, size and the samples)
 * (a fine-tuned checkpoint of the same shape differs in every sample); and the same for the adapter, when one
 * is merged. Reading 64 samples per file keeps it cheap for multi-gigabyte checkpoints.
 *
 * Serialised form (JSON, stable key order): {"model": "9f2c…", "name": "lion-demo-sp", "head": "sparse",
 * "vocab": 1000, "dtype": "f32"} (`dim` instead of `vocab` for dense).
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ArtifactError, ForeignError } from '../errors.js';
import { Checksum } from './checksum.js';

export type EncoderHead = 'sparse' | 'dense';

export interface EncoderIdentity {
  /** Fingerprint of the model (and merged adapter): 16 hex digits. */
  model: string;
  /** A readable label (model directory name, `+adapter` when merged); not compared. */
  name?: string;
  head: EncoderHead;
  /** Sparse: vocabulary size (term ids are below it). */
  vocab?: number;
  /** Dense: vector dimension. */
  dim?: number;
  /** Precision of the encoder's arithmetic ('f32', 'bf16', ...); recorded, not compared. */
  dtype: string;
}

const SAMPLES = 64;
const SAMPLE_BYTES = 4096;

function hashString(c: Checksum, s: string): void {
  c.update(Buffer.from(`${s}\u0000`, 'utf8'));
}

/** Adds one model or adapter directory to the fingerprint. */
function hashDir(c: Checksum, dir: string): void {
  const names = readdirSync(dir).sort();
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try { st = statSync(p); } catch { continue; }
    if (!st.isFile()) continue;
    const small = name === 'config.json' || name === 'adapter_config.json' || name.startsWith('tokenizer') ||
      name === 'special_tokens_map.json' || name === 'model.safetensors.index.json';
    if (small) {
      hashString(c, name);
      c.update(readFileSync(p));
    } else if (name.endsWith('.safetensors') || name.endsWith('.bin') || name.endsWith('.pt')) {
      hashString(c, `${name}:${st.size}`);
      const fd = openSync(p, 'r');
      try {
        const size = fstatSync(fd).size;
        const head = Buffer.alloc(Math.min(size, 8));
        readSync(fd, head, 0, head.length, 0);
        const hlen = head.length === 8 && name.endsWith('.safetensors') ? Math.min(Number(head.readBigUInt64LE(0)), size - 8, 1 << 26) : 0;
        const h = Buffer.alloc(Math.max(0, hlen));
        if (hlen > 0) readSync(fd, h, 0, hlen, 8);
        c.update(h);
        const dataStart = 8 + hlen;
        const span = size - dataStart;
        const buf = Buffer.alloc(SAMPLE_BYTES);
        for (let i = 0; i < SAMPLES && span > 0; i++) {
          const at = dataStart + Math.floor((span * i) / SAMPLES);
          const n = readSync(fd, buf, 0, Math.min(SAMPLE_BYTES, size - at), at);
          c.update(buf.subarray(0, n));
        }
      } finally { closeSync(fd); }
    }
  }
}

/** The fingerprint of a model directory, with an adapter merged into it when given. */
export function modelFingerprint(modelDir: string, adapterDir?: string): string {
  const c = new Checksum();
  const c2 = new Checksum();
  hashDir(c, modelDir);
  hashString(c2, 'adapter');
  if (adapterDir) hashDir(c2, adapterDir);
  // Two 32-bit hashes (base, then base+adapter) make a 64-bit fingerprint.
  const a = c.digest();
  c.update(Buffer.from(c2.digest().toString(16)));
  const b = c.digest();
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** The identity of an encoder loaded from `model` (and `adapter`), for vectors of the given head. */
export function encoderIdentity(o: { model: string; adapter?: string; head: EncoderHead; vocab?: number; dim?: number; dtype?: string }): EncoderIdentity {
  const id: EncoderIdentity = {
    model: modelFingerprint(o.model, o.adapter),
    name: basename(o.model.replace(/[/\\]+$/, '')) + (o.adapter ? `+${basename(o.adapter.replace(/[/\\]+$/, ''))}` : ''),
    head: o.head,
    dtype: o.dtype ?? 'f32',
  };
  if (o.head === 'sparse') id.vocab = o.vocab; else id.dim = o.dim;
  return id;
}

/** JSON-ready form with a stable key order. */
export function identityToJson(id: EncoderIdentity): Record<string, unknown> {
  const o: Record<string, unknown> = { model: id.model };
  if (id.name !== undefined) o.name = id.name;
  o.head = id.head;
  if (id.vocab !== undefined) o.vocab = id.vocab;
  if (id.dim !== undefined) o.dim = id.dim;
  o.dtype = id.dtype;
  return o;
}

/** Reads an identity back from JSON; `undefined`/`null` means "not recorded". Malformed is `E_ARTIFACT`. */
export function parseIdentity(v: unknown, file?: string): EncoderIdentity | undefined {
  if (v === undefined || v === null) return undefined;
  const bad = (what: string) => new ArtifactError(`encoder identity: ${what}`, { file, field: 'encoder' });
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('expected an object');
  const o = v as Record<string, unknown>;
  if (typeof o.model !== 'string' || !/^[0-9a-f]{16}$/.test(o.model)) throw bad('model must be 16 hex digits');
  if (o.head !== 'sparse' && o.head !== 'dense') throw bad("head must be 'sparse' or 'dense'");
  if (typeof o.dtype !== 'string') throw bad('dtype must be a string');
  const posInt = (x: unknown) => x === undefined || (typeof x === 'number' && Number.isSafeInteger(x) && x > 0);
  if (!posInt(o.vocab) || !posInt(o.dim)) throw bad('vocab and dim must be positive integers');
  if (o.name !== undefined && typeof o.name !== 'string') throw bad('name must be a string');
  const id: EncoderIdentity = { model: o.model, head: o.head, dtype: o.dtype };
  if (o.name !== undefined) id.name = o.name as string;
  if (o.vocab !== undefined) id.vocab = o.vocab as number;
  if (o.dim !== undefined) id.dim = o.dim as number;
  return id;
}

/** One line for messages and logs: `lion-demo-sp (sparse, vocab 1000, f32, model 9f2c…)`. */
export function describeIdentity(id: EncoderIdentity | undefined): string {
  if (!id) return 'an unrecorded encoder';
  const size = id.head === 'sparse' ? `vocab ${id.vocab ?? '?'}` : `dim ${id.dim ?? '?'}`;
  return `${id.name ?? 'model'} (${id.head}, ${size}, ${id.dtype}, model ${id.model})`;
}

/** The fields in which two identities differ (model, head, vocab, dim); empty when compatible. */
export function identityDifferences(a: EncoderIdentity, b: EncoderIdentity): string[] {
  const d: string[] = [];
  if (a.model !== b.model) d.push(`model ${a.model} vs ${b.model}`);
  if (a.head !== b.head) d.push(`head ${a.head} vs ${b.head}`);
  if (a.vocab !== undefined && b.vocab !== undefined && a.vocab !== b.vocab) d.push(`vocab ${a.vocab} vs ${b.vocab}`);
  if (a.dim !== undefined && b.dim !== undefined && a.dim !== b.dim) d.push(`dim ${a.dim} vs ${b.dim}`);
  return d;
}

/**
 * Refuses query vectors (or a query encoder) from another encoder than the index's. Either side unrecorded
 * (vectors from another tool, an index from an older Lion) cannot be checked and passes. With `allowForeign`
 * a mismatch passes too.
 * @throws ForeignError (E_FOREIGN) naming both encoders and the differing fields.
 */
export function checkIdentity(
  index: EncoderIdentity | undefined, query: EncoderIdentity | undefined,
  opts: { allowForeign?: boolean; indexFile?: string; queryFile?: string } = {},
): void {
  if (!index || !query || opts.allowForeign) return;
  const d = identityDifferences(index, query);
  if (d.length === 0) return;
  throw new ForeignError(
    `the index was built from ${describeIdentity(index)} but the queries come from ${describeIdentity(query)}${opts.queryFile ? ` (${opts.queryFile})` : ''}: ${d.join(', ')}`,
    { file: opts.indexFile, field: 'encoder' },
  );
}

/**
 * The identity shared by several vector files merged into one index: files from different encoders are refused
 * (E_FOREIGN) unless `allowForeign`; if any file has none recorded, the result is undefined (unknown).
 */
export function commonIdentity(ids: Array<EncoderIdentity | undefined>, files: string[], allowForeign = false): EncoderIdentity | undefined {
  let first: EncoderIdentity | undefined;
  let firstFile = '';
  let unknown = false;
  ids.forEach((id, i) => {
    if (!id) { unknown = true; return; }
    if (!first) { first = id; firstFile = files[i] ?? ''; return; }
    const d = identityDifferences(first, id);
    if (d.length && !allowForeign) {
      throw new ForeignError(`${files[i]} comes from ${describeIdentity(id)} but ${firstFile} from ${describeIdentity(first)}: ${d.join(', ')}`, { file: files[i], field: 'encoder' });
    }
  });
  return unknown ? undefined : first;
}

/** True when `dir` exists and is a directory (model fingerprints need one). */
export function isModelDir(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory();
}
