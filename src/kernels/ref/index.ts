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
  adamw, axpy, dropoutBackward, dropoutForward, dropoutMask, embeddingBackward, embeddingForward, scale, sumSquares,
  swigluBackward, swigluForward,
} from './elementwise.js';
import {
  embeddingForwardBf16, fromBf16, gemmBf16, isa, linearBackwardBf16, linearForwardBf16, linearForwardInt8,
  quantizeInt8, sparseHeadBackwardBf16, sparseHeadForwardBf16, sparseHeadForwardInt8, toBf16,
} from './lowp.js';
import { meanPoolBackward, meanPoolForward, sparseHeadBackward, sparseHeadForward } from './heads.js';

export const ref: Kernels = {
  name: 'ref',
  threads: 1,
  gemm, linearForward, linearBackward,
  toBf16, fromBf16, quantizeInt8, gemmBf16, linearForwardBf16, linearBackwardBf16, linearForwardInt8,
  embeddingForwardBf16, sparseHeadForwardBf16, sparseHeadForwardInt8, sparseHeadBackwardBf16, isa,
  rmsnormForward, rmsnormBackward,
  ropeForward, ropeBackward,
  attentionForward, attentionBackward,
  swigluForward, swigluBackward, axpy, scale, sumSquares, dropoutMask, dropoutForward, dropoutBackward,
  softmaxForward, softmaxBackward, logSoftmaxForward, logSoftmaxBackward,
  crossEntropyForward, crossEntropyBackward,
  embeddingForward, embeddingBackward,
  sparseHeadForward, sparseHeadBackward, meanPoolForward, meanPoolBackward,
  adamw,
};

export * as refKernels from './all.js';
