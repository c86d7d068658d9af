/**
 * The `ref` backend: plain TypeScript implementations of every kernel in `Kernels`, written to be
 * obviously right (float64 accumulation). It is the oracle in tests and the fallback without the addon.
 * Each function also accepts Float64Array, which the finite-difference gradient checks rely on.
 */
import type { Kernels } from '../types.js';
import { gemm, linearBackward, linearForward } from './matmul.js';
import {
  crossEntropyBackward, crossEntropyForward, logSoftmaxBackward, logSoftmaxForward, rmsnormBackward,
  rmsnormForward, softmaxBackward, softmaxForward,
} from './norm.js';
import { attentionBackward, attentionForward, ropeBackward, ropeForward } from './attention.js';
import {
  adamw, axpy, embeddingBackward, embeddingForward, scale, sumSquares, swigluBackward, swigluForward,
} from './elementwise.js';
import { meanPoolBackward, meanPoolForward, sparseHeadBackward, sparseHeadForward } from './heads.js';

export const ref: Kernels = {
  name: 'ref',
  threads: 1,
  gemm, linearForward, linearBackward,
  rmsnormForward, rmsnormBackward,
  ropeForward, ropeBackward,
  attentionForward, attentionBackward,
  swigluForward, swigluBackward, axpy, scale, sumSquares,
  softmaxForward, softmaxBackward, logSoftmaxForward, logSoftmaxBackward,
  crossEntropyForward, crossEntropyBackward,
  embeddingForward, embeddingBackward,
  sparseHeadForward, sparseHeadBackward, meanPoolForward, meanPoolBackward,
  adamw,
};

export * as refKernels from './all.js';
