/**
 * The head types, keyed by name: 'sparse' (sparse.ts) and 'dense' (dense.ts) are built in; another head type
 * joins with `registerEncoder` and is then accepted wherever a paradigm is (`trainRetriever`, `encodeRecords`,
 * `encodeCollection`, `loadEncoder`, the quickstart, the server, the study), with no other change.
 *
 * @example
 * registerEncoder({ ...denseEncoder, kind: 'dense-last', forward: lastTokenForward, backward: lastTokenBackward });
 * await encodeCollection({ paradigm: 'dense-last', model, input, out });
 */
import { UsageError } from '../errors.js';
import type { Encoder, HeadForward } from './contract.js';
import { denseEncoder } from './dense.js';
import { sparseEncoder } from './sparse.js';

const registry = new Map<string, Encoder>();

/** Adds a head type (a kind already registered is refused unless `replace`). */
export function registerEncoder<F extends HeadForward>(e: Encoder<F>, opts: { replace?: boolean } = {}): void {
  if (!/^[a-z][a-z0-9-]*$/.test(e.kind)) throw new UsageError(`encoder kind '${e.kind}' must be lower-case letters, digits and '-'`, { field: 'kind' });
  if (registry.has(e.kind) && !opts.replace) throw new UsageError(`an encoder of kind '${e.kind}' is registered already`, { field: 'kind' });
  registry.set(e.kind, e as unknown as Encoder);
}

/** Removes a head type added with `registerEncoder` (the built-in ones stay). */
export function unregisterEncoder(kind: string): void {
  if (kind === sparseEncoder.kind || kind === denseEncoder.kind) throw new UsageError(`the built-in '${kind}' encoder cannot be removed`, { field: 'kind' });
  registry.delete(kind);
}

/** The registered kinds, built-in first. */
export function encoderKinds(): string[] {
  return [...registry.keys()];
}

/**
 * The head type of `kind` (an `Encoder` is passed through), or a UsageError naming the option and the kinds
 * there are, e.g. "--paradigm must be sparse or dense, got 'x'".
 */
export function encoderFor(kind: string | Encoder, option = '--paradigm'): Encoder {
  if (typeof kind !== 'string') return kind;
  const e = registry.get(kind);
  if (e) return e;
  const kinds = encoderKinds();
  const list = kinds.length > 1 ? `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}` : kinds.join('');
  throw new UsageError(`${option} must be ${list}, got '${kind}'`, { field: option.replace(/^--/, '') });
}

registerEncoder(sparseEncoder);
registerEncoder(denseEncoder);
