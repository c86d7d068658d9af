/**
 * Lion's public API: the only entry point. Everything a library user needs is re-exported here.
 *
 * @example
 * ```ts
 * import { readQrels, readRun, evaluate } from 'lion-retrieval';
 * const qrels = await readQrels('qrels.txt');
 * const run = await readRun('run.trec');
 * console.log(evaluate(qrels, run, { measures: ['ndcg_cut.10'] }).mean);
 * ```
 */
export * from './errors.js';
export * from './types.js';
export { DEFAULTS } from './defaults.js';
export { writeFileAtomic, openAtomic, withAtomicWrite } from './util/atomic.js';
export { getKernels, ref as refKernels, loadNative, ropeInvFreq, ropeTables, ropeScalingFromConfig } from './kernels/index.js';
export type { Kernels, RopeScaling } from './kernels/index.js';
