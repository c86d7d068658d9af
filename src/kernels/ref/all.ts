/** Every reference kernel as a plain function (generic over Float32Array | Float64Array), for tests. */
export * from './matmul.js';
export * from './norm.js';
export * from './attention.js';
export * from './elementwise.js';
export * from './heads.js';
export * from './lowp.js';
