/**
 * Checksum footer of the `.lidx` file.
 *
 * SEAM(trust): the project's shared identity + checksum helpers (SHARED-API.md, owned by helper `trust`) are
 * the one checksum implementation; this file only adapts them to the index layout. Until they land, the
 * digest is node:crypto's SHA-256 (no checksum code of our own). Swap `newDigest` for the shared helper and
 * bump the algorithm code; files record which algorithm wrote them, so old files still verify.
 *
 * Footer (64 B, 64-byte aligned, at the end of the file):
 *   0 magic "LIONSUM\0" | 8 u32 algorithm (1 = SHA-256) | 12 u32 reserved | 16 f64 bytes covered (= footer offset)
 *   | 24 digest (32 B) | 56 zero padding
 * The digest covers every byte before the footer: header, sections and the zero padding between them.
 */
import { createHash, type Hash } from 'node:crypto';

export const FOOTER_MAGIC = 'LIONSUM\0';
export const FOOTER_BYTES = 64;
export const ALGO_SHA256 = 1;

/** An incremental digest over the covered bytes. */
export function newDigest(algo = ALGO_SHA256): Hash {
  if (algo !== ALGO_SHA256) throw new Error(`unknown checksum algorithm ${algo}`);
  return createHash('sha256');
}

/** The footer for `covered` bytes hashed into `h`. */
export function encodeFooter(h: Hash, covered: number): Buffer {
  const f = Buffer.alloc(FOOTER_BYTES);
  f.write(FOOTER_MAGIC, 0, 'latin1');
  f.writeUInt32LE(ALGO_SHA256, 8);
  f.writeDoubleLE(covered, 16);
  h.digest().copy(f, 24);
  return f;
}
