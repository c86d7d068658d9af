/**
 * Checksums for Lion's binary files. One hash everywhere: FNV-1a over little-endian 32-bit words (what the
 * `.lbm25` index has always used). Every step `h = (h ^ word) * 16777619 mod 2^32` is a bijection of `h`, so
 * changing any single word of a file always changes its checksum; truncation is caught by the trailer.
 *
 * The trailer (24 bytes, the last bytes of a checksummed file):
 *
 *   0  checksum        u32   hash of the body [headerBytes, size - 24) followed by the header [0, headerBytes)
 *   4  trailerVersion  u32   (= 1)
 *   8  payloadBytes    f64   = size - 24 (a file cut or extended anywhere no longer agrees)
 *  16  magic "LIONSUM\0"
 *
 * The body is hashed before the header so that streaming writers, which patch the header in last, can hash
 * what they append as they go. Opening a file checks the trailer and, unless the fast mode is on
 * (`LION_VERIFY=fast`), the checksum of every byte; the fast mode still checks sizes and the trailer.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ArtifactError, ChecksumError } from '../errors.js';

export const FNV_OFFSET = 0x811c9dc5;
export const TRAILER_BYTES = 24;
export const TRAILER_MAGIC = 'LIONSUM\0';

/** FNV-1a over the 32-bit little-endian words of `bytes` (its length must be a multiple of 4). */
export function fnv1aWords(h: number, bytes: Uint8Array): number {
  const n = bytes.byteLength >>> 2;
  if (bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) h = Math.imul(h ^ dv.getUint32(4 * i, true), 0x01000193);
  }
  return h >>> 0;
}

/**
 * Streaming checksum of any byte sequence: FNV-1a over its words (the last one zero-padded), then its length,
 * so that trailing zero bytes still count.
 * @example new Checksum().update(body).update(header).digest()
 */
export class Checksum {
  private h = FNV_OFFSET;
  private readonly carry = new Uint8Array(4);
  private carried = 0;
  private total = 0;

  update(bytes: Uint8Array): this {
    let b = bytes;
    this.total += b.byteLength;
    if (this.carried > 0) {
      const take = Math.min(4 - this.carried, b.byteLength);
      this.carry.set(b.subarray(0, take), this.carried);
      this.carried += take;
      b = b.subarray(take);
      if (this.carried < 4) return this;
      this.h = fnv1aWords(this.h, this.carry);
      this.carried = 0;
    }
    const whole = b.byteLength & ~3;
    if (whole > 0) this.h = fnv1aWords(this.h, b.subarray(0, whole));
    if (whole < b.byteLength) {
      this.carry.set(b.subarray(whole));
      this.carried = b.byteLength - whole;
    }
    return this;
  }

  digest(): number {
    let h = this.h;
    if (this.carried > 0) {
      const last = new Uint8Array(4);
      last.set(this.carry.subarray(0, this.carried));
      h = fnv1aWords(h, last);
    }
    h = Math.imul(h ^ (this.total >>> 0), 0x01000193);
    h = Math.imul(h ^ Math.floor(this.total / 2 ** 32), 0x01000193);
    return h >>> 0;
  }
}

/** Checksum of whole in-memory parts, in order. */
export function checksumOf(...parts: Uint8Array[]): number {
  const c = new Checksum();
  for (const p of parts) c.update(p);
  return c.digest();
}

/** The 24-byte trailer for a file whose payload (everything before the trailer) is `payloadBytes` long. */
export function makeTrailer(checksum: number, payloadBytes: number): Uint8Array {
  const t = Buffer.alloc(TRAILER_BYTES);
  t.writeUInt32LE(checksum >>> 0, 0);
  t.writeUInt32LE(1, 4);
  t.writeDoubleLE(payloadBytes, 8);
  t.write(TRAILER_MAGIC, 16, 'latin1');
  return t;
}

/** `full` (default) hashes every byte on open; `fast` (LION_VERIFY=fast) checks sizes and trailers only. */
export type VerifyMode = 'full' | 'fast';

export function verifyMode(): VerifyMode {
  const v = process.env.LION_VERIFY;
  return v === 'fast' ? 'fast' : 'full';
}

/** Hashes bytes [from, to) of an open file into `c` (1 MiB reads). */
export function hashRange(fd: number, c: Checksum, from: number, to: number, file?: string): void {
  const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(0, to - from)) || 1);
  let pos = from;
  while (pos < to) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, to - pos), pos);
    if (n <= 0) throw new ArtifactError(`file ended at byte ${pos}, expected ${to}`, { file });
    c.update(buf.subarray(0, n));
    pos += n;
  }
}

/** What `verifyTrailer` found. */
export interface TrailerInfo {
  /** Bytes before the trailer (header + body): every offset in the header must stay below this. */
  payloadBytes: number;
  /** The recorded checksum: with the file size it identifies the file's contents (HNSW graphs bind to it). */
  checksum: number;
  /** True when every byte was hashed and matched; false in the fast mode. */
  verified: boolean;
}

/**
 * Checks the trailer of an open file and, in the full mode, its checksum. Throws `E_ARTIFACT` for a missing
 * or inconsistent trailer (a truncated or extended file) and `E_CHECKSUM` for a content mismatch.
 */
export function verifyTrailer(fd: number, file: string, opts: { headerBytes: number; mode?: VerifyMode }): TrailerInfo {
  const size = fstatSync(fd).size;
  if (size < opts.headerBytes + TRAILER_BYTES) {
    throw new ArtifactError(`truncated file: ${size} bytes, shorter than its header and checksum trailer`, { file });
  }
  const t = Buffer.alloc(TRAILER_BYTES);
  readSync(fd, t, 0, TRAILER_BYTES, size - TRAILER_BYTES);
  if (t.toString('latin1', 16, 24) !== TRAILER_MAGIC || t.readUInt32LE(4) !== 1) {
    throw new ArtifactError('no checksum trailer at the end of the file: it was cut short, appended to, or written by an older Lion', { file });
  }
  const payloadBytes = t.readDoubleLE(8);
  if (payloadBytes !== size - TRAILER_BYTES) {
    throw new ArtifactError(`the trailer records ${payloadBytes} bytes of data but the file holds ${size - TRAILER_BYTES}: it was cut or spliced`, { file });
  }
  const checksum = t.readUInt32LE(0);
  if ((opts.mode ?? verifyMode()) === 'fast') return { payloadBytes, checksum, verified: false };
  const c = new Checksum();
  hashRange(fd, c, opts.headerBytes, payloadBytes, file);
  hashRange(fd, c, 0, opts.headerBytes, file);
  const got = c.digest();
  if (got !== checksum) {
    throw new ChecksumError(`checksum mismatch (recorded ${checksum.toString(16).padStart(8, '0')}, computed ${got.toString(16).padStart(8, '0')}): the file has been altered or damaged`, { file });
  }
  return { payloadBytes, checksum, verified: true };
}

/** Checksum of a whole file's bytes (used for files Lion does not lay out itself, such as an HNSW graph). */
export function checksumFile(path: string): { checksum: number; bytes: number } {
  const fd = openSync(path, 'r');
  try {
    const bytes = fstatSync(fd).size;
    const c = new Checksum();
    hashRange(fd, c, 0, bytes, path);
    return { checksum: c.digest(), bytes };
  } finally { closeSync(fd); }
}
