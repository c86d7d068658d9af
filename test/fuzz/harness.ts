/**
 * The fuzz harness: seeded mutations of a file (truncate, flip, splice, lie in a header field) and the rule every
 * outcome must follow — a correct result, or a LionError with a code; never another exception, a crash, a hang
 * (each case has a time bound) or memory beyond a bound. `LION_FUZZ_RUNS` sets the cases per target (`npm run
 * fuzz` runs thousands; `npm test` a few dozen); `LION_FUZZ_SEED` replays a failure.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { isLionError } from '../../src/errors.js';

export const RUNS = Number(process.env.LION_FUZZ_RUNS ?? 40);
export const SEED = process.env.LION_FUZZ_SEED !== undefined ? Number(process.env.LION_FUZZ_SEED) : 20261202;
/** Longest a single open may take. */
export const CASE_MS = 3000;

export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'splice'; from: number; to: number; len: number }
  | { kind: 'lie'; field: number; value: number };

/** Header fields of a format that a liar would overwrite: byte offset and width. */
export interface Field { off: number; type: 'u32' | 'f64' }

const LIES = [0, 1, 2, 7, 63, 64, 0x7fffffff, 0xffffffff, 2 ** 31, 2 ** 40, 2 ** 53, -1, -64, 0.5, NaN, Infinity, -Infinity, 1e300];

export function mutationArb(size: number, fields: Field[]): fc.Arbitrary<Mutation> {
  const pos = fc.nat({ max: Math.max(0, size - 1) });
  const arbs: fc.Arbitrary<Mutation>[] = [
    pos.map((at) => ({ kind: 'truncate' as const, at })),
    fc.record({ at: pos, mask: fc.integer({ min: 1, max: 255 }) }).map((m) => ({ kind: 'flip' as const, ...m })),
    fc.record({ from: pos, to: pos, len: fc.integer({ min: 1, max: 64 }) }).map((m) => ({ kind: 'splice' as const, ...m })),
  ];
  if (fields.length) arbs.push(fc.record({ field: fc.nat({ max: fields.length - 1 }), value: fc.constantFrom(...LIES, size, size * 2, size - 24) }).map((m) => ({ kind: 'lie' as const, ...m })));
  return fc.oneof(...arbs);
}

export function mutate(orig: Buffer, m: Mutation, fields: Field[]): Buffer {
  const b = Buffer.from(orig);
  switch (m.kind) {
    case 'truncate': return b.subarray(0, m.at);
    case 'flip': b[m.at] ^= m.mask; return b;
    case 'splice': { const src = orig.subarray(m.from, m.from + m.len); src.copy(b, m.to); return b; }
    case 'lie': {
      const f = fields[m.field]!;
      if (f.type === 'u32') b.writeUInt32LE((Number.isFinite(m.value) ? Math.abs(Math.trunc(m.value)) : 0xffffffff) >>> 0, f.off);
      else b.writeDoubleLE(m.value, f.off);
      return b;
    }
  }
}

/**
 * Asserts the outcome rule for one case: `open` either succeeds (then, in the full verification mode, the file
 * must be unchanged: a damaged file is never accepted) or throws a LionError with a code, within CASE_MS.
 */
export async function expectSafe(open: () => unknown, changed: boolean, mustDetect: boolean, label: string): Promise<'ok' | string> {
  const t0 = performance.now();
  try {
    await open();
    if (changed && mustDetect) assert.fail(`${label}: a damaged file was accepted`);
    return 'ok';
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    if (!isLionError(e) || !/^E_[A-Z_]+$/.test(e.code)) {
      throw new Error(`${label}: not a LionError: ${e instanceof Error ? e.stack : String(e)}`);
    }
    return e.code;
  } finally {
    const ms = performance.now() - t0;
    assert.ok(ms < CASE_MS, `${label}: took ${ms.toFixed(0)} ms`);
  }
}

/**
 * Fuzzes one file: mutates `path` (from its pristine bytes) with seeded mutations, runs `open` in the full and
 * the fast verification mode, and restores the file. Returns how often each outcome occurred.
 */
export async function fuzzFile(path: string, fields: Field[], open: () => unknown, opts: { runs?: number; detect?: boolean } = {}): Promise<Map<string, number>> {
  const orig = readFileSync(path);
  const seen = new Map<string, number>();
  try {
    await fc.assert(fc.asyncProperty(mutationArb(orig.length, fields), fc.boolean(), async (m, fast) => {
      const bytes = mutate(orig, m, fields);
      writeFileSync(path, bytes);
      const prev = process.env.LION_VERIFY;
      if (fast) process.env.LION_VERIFY = 'fast'; else delete process.env.LION_VERIFY;
      try {
        const r = await expectSafe(open, !bytes.equals(orig), !fast && opts.detect !== false, `${path} ${JSON.stringify(m)} ${fast ? 'fast' : 'full'}`);
        seen.set(r, (seen.get(r) ?? 0) + 1);
      } finally {
        if (prev === undefined) delete process.env.LION_VERIFY; else process.env.LION_VERIFY = prev;
      }
    }), { numRuns: opts.runs ?? RUNS, seed: SEED, endOnFailure: true });
  } catch (e) {
    throw withCause(e);
  } finally {
    writeFileSync(path, orig);
  }
  return seen;
}

/** fast-check's failure with the underlying error's message spelled out (the test runner shows only the message). */
export function withCause(e: unknown): Error {
  const c = (e as { cause?: unknown }).cause;
  return new Error(`${(e as Error).message}\n${c instanceof Error ? c.message : c === undefined ? '' : String(c)}`);
}

/** Memory guard: the process must not have grown past `mb` MiB of RSS over `base`. */
export function assertMemoryBelow(base: number, mb: number): void {
  const grown = (process.memoryUsage().rss - base) / 2 ** 20;
  assert.ok(grown < mb, `RSS grew by ${grown.toFixed(0)} MiB`);
}
