// lion_search: the native hot loops of Lion's indexes (sparse exact and block-max search, dense exact search).
// Each entry point checks its invariants once (array types and sizes, query terms ascending and inside the
// vocabulary, offsets consistent, k >= 1) and throws a RangeError/TypeError naming the argument; the loops
// then run without checks. All outputs are caller-allocated typed arrays and come first, as in the kernels
// addon: fn(outputs..., inputs..., k, threads). The calls are synchronous and fan out over `threads` native
// threads. The TypeScript wrappers live in src/index/native.ts.
#include <napi.h>
#include <string>
#include <vector>
#include "dense.h"
#include "sparse.h"

namespace {

struct Arr {
  void* p = nullptr;
  size_t n = 0;
  napi_typedarray_type type = napi_uint8_array;
};

bool fail(Napi::Env env, const std::string& msg) {
  Napi::RangeError::New(env, "lion_search: " + msg).ThrowAsJavaScriptException();
  return false;
}

bool arr(Napi::Env env, const Napi::Value& v, const char* name, Arr& out, int want = -1) {
  if (!v.IsTypedArray()) return fail(env, std::string(name) + " must be a typed array");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  out.type = ta.TypedArrayType();
  if (want >= 0 && out.type != napi_typedarray_type(want)) return fail(env, std::string(name) + " has the wrong element type");
  out.n = ta.ElementLength();
  out.p = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  return true;
}

// The arguments of one call, rearranged from the outputs-first calling convention into the order the checks
// below read them (inputs..., outputs..., then the `tail` trailing arguments such as threads).
struct Args {
  Napi::Env env;
  std::vector<Napi::Value> v;
  Napi::Env Env() const { return env; }
  size_t Length() const { return v.size(); }
  Napi::Value operator[](size_t i) const { return i < v.size() ? v[i] : env.Undefined(); }
};

Args outputsFirst(const Napi::CallbackInfo& ci, size_t nOut, size_t tail) {
  Args a{ci.Env(), {}};
  const size_t n = ci.Length();
  if (n < nOut + tail) { for (size_t i = 0; i < n; i++) a.v.push_back(ci[i]); return a; }
  for (size_t i = nOut; i < n - tail; i++) a.v.push_back(ci[i]);
  for (size_t i = 0; i < nOut; i++) a.v.push_back(ci[i]);
  for (size_t i = n - tail; i < n; i++) a.v.push_back(ci[i]);
  return a;
}

uint32_t u32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }

int weightType(napi_typedarray_type t) {
  return t == napi_float32_array ? 0 : t == napi_uint8_array ? 1 : t == napi_uint16_array ? 2 : -1;
}

// Shared checks of the query batch and outputs; fills qb and o.
bool queriesAndOutputs(const Args& info, int at, uint32_t vocab, lion::QueryBatch& qb, lion::Outputs& o) {
  Napi::Env env = info.Env();
  Arr qOff, qTerms, qW, oDocs, oScores, oCounts, oVis;
  if (!arr(env, info[at], "qOffsets", qOff, napi_uint32_array) || !arr(env, info[at + 1], "qTerms", qTerms, napi_uint32_array) ||
      !arr(env, info[at + 2], "qWeights", qW, napi_float32_array))
    return false;
  const uint32_t k = u32(info[at + 3]);
  if (!arr(env, info[at + 4], "outDocs", oDocs, napi_int32_array) || !arr(env, info[at + 5], "outScores", oScores, napi_float32_array) ||
      !arr(env, info[at + 6], "outCounts", oCounts, napi_uint32_array) || !arr(env, info[at + 7], "outVisited", oVis, napi_float64_array))
    return false;
  if (qOff.n < 1) return fail(env, "qOffsets must have Q + 1 entries");
  const uint32_t nq = uint32_t(qOff.n - 1);
  const uint32_t* off = static_cast<uint32_t*>(qOff.p);
  const uint32_t* terms = static_cast<uint32_t*>(qTerms.p);
  if (off[0] != 0 || off[nq] != qTerms.n || qW.n != qTerms.n) return fail(env, "query offsets do not match the term and weight arrays");
  for (uint32_t q = 0; q < nq; q++) {
    if (off[q + 1] < off[q]) return fail(env, "query offsets must not decrease");
    for (uint32_t i = off[q]; i < off[q + 1]; i++) {
      if (terms[i] >= vocab) return fail(env, "query " + std::to_string(q) + " has term id " + std::to_string(terms[i]) + " >= vocabulary " + std::to_string(vocab));
      if (i > off[q] && terms[i] <= terms[i - 1]) return fail(env, "query " + std::to_string(q) + " terms are not strictly ascending");
      const float qw = static_cast<float*>(qW.p)[i];
      if (!(qw >= 0.0f && qw <= 3.4e38f)) return fail(env, "query " + std::to_string(q) + " has a weight that is negative or not finite");
    }
  }
  if (k < 1) return fail(env, "k must be >= 1");
  if (oDocs.n != size_t(nq) * k || oScores.n != size_t(nq) * k || oCounts.n != nq || oVis.n != nq) return fail(env, "output arrays must be (Q, k), (Q, k), (Q), (Q)");
  qb = {nq, off, terms, static_cast<float*>(qW.p)};
  o = {k, static_cast<int32_t*>(oDocs.p), static_cast<float*>(oScores.p), static_cast<uint32_t*>(oCounts.p), static_cast<double*>(oVis.p)};
  return true;
}

// index args: numDocs, termOffsets (V+1), docIds (P), weights (P: f32|u8|u16), scale
bool indexView(const Args& info, lion::SparseIndexView& ix) {
  Napi::Env env = info.Env();
  Arr off, docs, w;
  if (!arr(env, info[1], "termOffsets", off, napi_uint32_array) || !arr(env, info[2], "docIds", docs, napi_uint32_array) || !arr(env, info[3], "weights", w))
    return false;
  ix.numDocs = u32(info[0]);
  ix.wtype = weightType(w.type);
  if (ix.wtype < 0) return fail(env, "weights must be Float32Array, Uint8Array or Uint16Array");
  if (off.n < 1) return fail(env, "termOffsets must have V + 1 entries");
  ix.vocab = uint32_t(off.n - 1);
  ix.termOff = static_cast<uint32_t*>(off.p);
  if (ix.termOff[0] != 0 || ix.termOff[ix.vocab] != docs.n || w.n != docs.n) return fail(env, "termOffsets do not match the postings arrays");
  ix.docs = static_cast<uint32_t*>(docs.p);
  ix.w = w.p;
  ix.scale = info[4].As<Napi::Number>().FloatValue();
  return true;
}

int threadsArg(const Napi::Value& v) {
  int t = v.As<Napi::Number>().Int32Value();
  if (t < 1) t = int(std::thread::hardware_concurrency());
  return t < 1 ? 1 : t;
}

// sparseExact(outDocs, outScores, outCounts, outVisited, numDocs, termOffsets, docIds, weights, scale, qOffsets,
//             qTerms, qWeights, k, threads)
Napi::Value SparseExact(const Napi::CallbackInfo& ci) {
  const Args info = outputsFirst(ci, 4, 1);
  Napi::Env env = info.Env();
  if (info.Length() != 14) { fail(env, "sparseExact takes 14 arguments"); return env.Undefined(); }
  lion::SparseIndexView ix;
  lion::QueryBatch qb;
  lion::Outputs o;
  if (!indexView(info, ix) || !queriesAndOutputs(info, 5, ix.vocab, qb, o)) return env.Undefined();
  lion::sparseExact(ix, qb, o, threadsArg(info[13]));
  return env.Undefined();
}

// sparseBlockMax(outDocs, outScores, outCounts, outVisited, numDocs, termOffsets, docIds, weights, scale, shift,
//                bmOffsets, bmBlocks, bmMax, denseRow, denseMax, bmScale, fwdOffsets, fwdTerms, fwdWeights, alpha,
//                qOffsets, qTerms, qWeights, k, threads)
Napi::Value SparseBlockMax(const Napi::CallbackInfo& ci) {
  const Args info = outputsFirst(ci, 4, 1);
  Napi::Env env = info.Env();
  if (info.Length() != 25) { fail(env, "sparseBlockMax takes 25 arguments"); return env.Undefined(); }
  lion::SparseIndexView ix;
  if (!indexView(info, ix)) return env.Undefined();
  lion::BlockView bv;
  Arr bmOff, bmBlk, bmMax, dRow, dMax, fOff, fTerms, fW;
  if (!arr(env, info[6], "bmOffsets", bmOff, napi_uint32_array) || !arr(env, info[7], "bmBlocks", bmBlk, napi_uint32_array) ||
      !arr(env, info[8], "bmMax", bmMax, napi_uint8_array) || !arr(env, info[9], "denseRow", dRow, napi_int32_array) ||
      !arr(env, info[10], "denseMax", dMax, napi_uint8_array) || !arr(env, info[12], "fwdOffsets", fOff, napi_uint32_array) ||
      !arr(env, info[13], "fwdTerms", fTerms, napi_uint32_array) || !arr(env, info[14], "fwdWeights", fW))
    return env.Undefined();
  bv.shift = u32(info[5]);
  if (bv.shift > 16) { fail(env, "block shift must be <= 16"); return env.Undefined(); }
  bv.numBlocks = (ix.numDocs + (1u << bv.shift) - 1) >> bv.shift;
  bv.bmOff = static_cast<uint32_t*>(bmOff.p);
  bv.bmBlock = static_cast<uint32_t*>(bmBlk.p);
  bv.bmMax = static_cast<uint8_t*>(bmMax.p);
  bv.denseRow = static_cast<int32_t*>(dRow.p);
  bv.denseMax = static_cast<uint8_t*>(dMax.p);
  bv.bmScale = info[11].As<Napi::Number>().FloatValue();
  bv.fwdOff = static_cast<uint32_t*>(fOff.p);
  bv.fwdTerms = static_cast<uint32_t*>(fTerms.p);
  bv.fwdW = fW.p;
  if (bmOff.n != size_t(ix.vocab) + 1 || bv.bmOff[ix.vocab] != bmBlk.n || bmMax.n != bmBlk.n || dRow.n != ix.vocab)
    { fail(env, "block-max arrays do not match the vocabulary"); return env.Undefined(); }
  if (dMax.n % (bv.numBlocks ? bv.numBlocks : 1) != 0) { fail(env, "denseMax is not (rows, numBlocks)"); return env.Undefined(); }
  const int32_t rows = int32_t(bv.numBlocks ? dMax.n / bv.numBlocks : 0);
  for (uint32_t t = 0; t < ix.vocab; t++)
    if (bv.denseRow[t] >= rows) { fail(env, "denseRow points past denseMax"); return env.Undefined(); }
  if (fOff.n != size_t(ix.numDocs) + 1 || bv.fwdOff[ix.numDocs] != fTerms.n || fW.n != fTerms.n || weightType(fW.type) != ix.wtype)
    { fail(env, "forward index arrays do not match the postings"); return env.Undefined(); }
  const float alpha = info[15].As<Napi::Number>().FloatValue();
  if (!(alpha > 0.0f && alpha <= 1.0f)) { fail(env, "alpha must be in (0, 1]"); return env.Undefined(); }
  lion::QueryBatch qb;
  lion::Outputs o;
  if (!queriesAndOutputs(info, 16, ix.vocab, qb, o)) return env.Undefined();
  lion::sparseBlockMax(ix, bv, qb, alpha, o, threadsArg(info[24]));
  return env.Undefined();
}

// sparseImpact(outDocs, outScores, outCounts, outVisited, numDocs, termOffsets, docIds, weights, scale, fwdOffsets,
//              fwdTerms, fwdWeights, impOffsets, impDocs, termMax, cut, lambda, qOffsets, qTerms, qWeights, k, threads)
Napi::Value SparseImpact(const Napi::CallbackInfo& ci) {
  const Args info = outputsFirst(ci, 4, 1);
  Napi::Env env = info.Env();
  if (info.Length() != 22) { fail(env, "sparseImpact takes 22 arguments"); return env.Undefined(); }
  lion::SparseIndexView ix;
  if (!indexView(info, ix)) return env.Undefined();
  lion::BlockView bv{};
  lion::ImpactView iv{};
  Arr fOff, fTerms, fW, iOff, iDocs, tMax;
  if (!arr(env, info[5], "fwdOffsets", fOff, napi_uint32_array) || !arr(env, info[6], "fwdTerms", fTerms, napi_uint32_array) ||
      !arr(env, info[7], "fwdWeights", fW) || !arr(env, info[8], "impOffsets", iOff, napi_uint32_array) ||
      !arr(env, info[9], "impDocs", iDocs, napi_uint32_array) || !arr(env, info[10], "termMax", tMax, napi_float32_array))
    return env.Undefined();
  bv.fwdOff = static_cast<uint32_t*>(fOff.p);
  bv.fwdTerms = static_cast<uint32_t*>(fTerms.p);
  bv.fwdW = fW.p;
  if (fOff.n != size_t(ix.numDocs) + 1 || bv.fwdOff[ix.numDocs] != fTerms.n || fW.n != fTerms.n || weightType(fW.type) != ix.wtype)
    { fail(env, "forward index arrays do not match the postings"); return env.Undefined(); }
  iv.off = static_cast<uint32_t*>(iOff.p);
  iv.docs = static_cast<uint32_t*>(iDocs.p);
  iv.termMax = static_cast<float*>(tMax.p);
  if (iOff.n != size_t(ix.vocab) + 1 || iv.off[ix.vocab] != iDocs.n || tMax.n != ix.vocab)
    { fail(env, "impact lists do not match the vocabulary"); return env.Undefined(); }
  const uint32_t cut = u32(info[11]), lambda = u32(info[12]);
  if (cut < 1 || lambda < 1) { fail(env, "cut and lambda must be >= 1"); return env.Undefined(); }
  lion::QueryBatch qb;
  lion::Outputs o;
  if (!queriesAndOutputs(info, 13, ix.vocab, qb, o)) return env.Undefined();
  lion::sparseImpact(ix, bv, iv, qb, cut, lambda, o, threadsArg(info[21]));
  return env.Undefined();
}

// Forward index arguments at info[at..at+2] checked against the postings view; `deep` also checks every
// offset and term id (O(postings): for the one-off builders; search calls rely on the loader's checks).
bool forwardView(const Args& info, int at, const lion::SparseIndexView& ix, lion::BlockView& bv, bool deep) {
  Napi::Env env = info.Env();
  Arr fOff, fTerms, fW;
  if (!arr(env, info[at], "fwdOffsets", fOff, napi_uint32_array) || !arr(env, info[at + 1], "fwdTerms", fTerms, napi_uint32_array) ||
      !arr(env, info[at + 2], "fwdWeights", fW))
    return false;
  bv.fwdOff = static_cast<uint32_t*>(fOff.p);
  bv.fwdTerms = static_cast<uint32_t*>(fTerms.p);
  bv.fwdW = fW.p;
  if (fOff.n != size_t(ix.numDocs) + 1 || bv.fwdOff[ix.numDocs] != fTerms.n || fW.n != fTerms.n || weightType(fW.type) != ix.wtype)
    return fail(env, "forward index arrays do not match the postings");
  if (!deep) return true;
  for (uint32_t d = 0; d < ix.numDocs; d++)
    if (bv.fwdOff[d + 1] < bv.fwdOff[d]) return fail(env, "forward offsets must not decrease");
  for (size_t p = 0; p < fTerms.n; p++)
    if (bv.fwdTerms[p] >= ix.vocab) return fail(env, "forward term id outside the vocabulary");
  return true;
}

// sparseCluster(outDocs, outScores, outCounts, outVisited, numDocs, termOffsets, docIds, weights, scale, fwdOffsets,
//               fwdTerms, fwdWeights, clOffsets, clDocOffsets, clDocs, clSumOffsets, clSumTerms, clSumCodes, clSumScale,
//               termMax, cut, gamma, qOffsets, qTerms, qWeights, k, threads)
Napi::Value SparseCluster(const Napi::CallbackInfo& ci) {
  const Args info = outputsFirst(ci, 4, 1);
  Napi::Env env = info.Env();
  if (info.Length() != 27) { fail(env, "sparseCluster takes 27 arguments"); return env.Undefined(); }
  lion::SparseIndexView ix;
  if (!indexView(info, ix)) return env.Undefined();
  lion::BlockView bv{};
  if (!forwardView(info, 5, ix, bv, false)) return env.Undefined();
  Arr cOff, cDocOff, cDocs, sOff, sTerms, sCodes, sScale, tMax;
  if (!arr(env, info[8], "clOffsets", cOff, napi_uint32_array) || !arr(env, info[9], "clDocOffsets", cDocOff, napi_uint32_array) ||
      !arr(env, info[10], "clDocs", cDocs, napi_uint32_array) || !arr(env, info[11], "clSumOffsets", sOff, napi_uint32_array) ||
      !arr(env, info[12], "clSumTerms", sTerms, napi_uint32_array) || !arr(env, info[13], "clSumCodes", sCodes, napi_uint8_array) ||
      !arr(env, info[14], "clSumScale", sScale, napi_float32_array) || !arr(env, info[15], "termMax", tMax, napi_float32_array))
    return env.Undefined();
  lion::ClusterView cv{static_cast<uint32_t*>(cOff.p), static_cast<uint32_t*>(cDocOff.p), static_cast<uint32_t*>(cDocs.p),
                       static_cast<uint32_t*>(sOff.p), static_cast<uint32_t*>(sTerms.p), static_cast<uint8_t*>(sCodes.p),
                       static_cast<float*>(sScale.p), static_cast<float*>(tMax.p)};
  const size_t C = sScale.n;
  if (cOff.n != size_t(ix.vocab) + 1 || cv.off[0] != 0 || cv.off[ix.vocab] != C || cDocOff.n != C + 1 || sOff.n != C + 1 ||
      cv.docOff[0] != 0 || cv.docOff[C] != cDocs.n || cv.sumOff[0] != 0 || cv.sumOff[C] != sTerms.n || sCodes.n != sTerms.n || tMax.n != ix.vocab)
    { fail(env, "clustered lists do not match the vocabulary"); return env.Undefined(); }
  // Monotone offsets and ids in range are checked once when the index is loaded or built (checkInvariants in
  // src/index/inverted/format.ts), not on every call: they are O(index size).
  const uint32_t cut = u32(info[16]);
  const float gamma = info[17].As<Napi::Number>().FloatValue();
  if (cut < 1) { fail(env, "cut must be >= 1"); return env.Undefined(); }
  if (!(gamma > 0.0f && gamma <= 1e6f)) { fail(env, "gamma must be positive and finite"); return env.Undefined(); }
  lion::QueryBatch qb;
  lion::Outputs o;
  if (!queriesAndOutputs(info, 18, ix.vocab, qb, o)) return env.Undefined();
  lion::sparseCluster(ix, bv, cv, qb, cut, gamma, o, threadsArg(info[26]));
  return env.Undefined();
}

template <class T, class A>
Napi::Value copyOut(Napi::Env env, const std::vector<T>& v) {
  A a = A::New(env, v.size());
  if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

// buildClusters(numDocs, termOffsets, docIds, weights, scale, fwdOffsets, fwdTerms, fwdWeights, listMax, clusterSize,
//               summaryMass, summaryMax, summaryHead) -> [clOffsets, clDocOffsets, clDocs, clSumOffsets, clSumTerms, clSumCodes, clSumScale]
Napi::Value BuildClusters(const Napi::CallbackInfo& ci) {
  const Args info = outputsFirst(ci, 0, 0);
  Napi::Env env = info.Env();
  if (info.Length() != 13) { fail(env, "buildClusters takes 13 arguments"); return env.Undefined(); }
  lion::SparseIndexView ix;
  if (!indexView(info, ix)) return env.Undefined();
  lion::BlockView bv{};
  if (!forwardView(info, 5, ix, bv, true)) return env.Undefined();
  for (uint32_t t = 0; t < ix.vocab; t++)
    if (ix.termOff[t + 1] < ix.termOff[t]) { fail(env, "termOffsets must not decrease"); return env.Undefined(); }
  for (size_t p = 0; p < ix.termOff[ix.vocab]; p++)
    if (ix.docs[p] >= ix.numDocs) { fail(env, "posting points past the documents"); return env.Undefined(); }
  const uint32_t listMax = u32(info[8]), clusterSize = u32(info[9]), summaryMax = u32(info[11]), head = u32(info[12]);
  const double mass = info[10].As<Napi::Number>().DoubleValue();
  if (clusterSize < 1 || summaryMax < 1 || !(mass > 0 && mass <= 1)) { fail(env, "clusterSize, summaryMax >= 1 and summaryMass in (0, 1]"); return env.Undefined(); }
  lion::ClusterBuild b;
  if (ix.wtype == 0) lion::buildClusters<float>(ix, bv, listMax, clusterSize, mass, summaryMax, head, b);
  else if (ix.wtype == 1) lion::buildClusters<uint8_t>(ix, bv, listMax, clusterSize, mass, summaryMax, head, b);
  else lion::buildClusters<uint16_t>(ix, bv, listMax, clusterSize, mass, summaryMax, head, b);
  Napi::Array r = Napi::Array::New(env, 7);
  r.Set(0u, copyOut<uint32_t, Napi::Uint32Array>(env, b.off));
  r.Set(1u, copyOut<uint32_t, Napi::Uint32Array>(env, b.docOff));
  r.Set(2u, copyOut<uint32_t, Napi::Uint32Array>(env, b.docs));
  r.Set(3u, copyOut<uint32_t, Napi::Uint32Array>(env, b.sumOff));
  r.Set(4u, copyOut<uint32_t, Napi::Uint32Array>(env, b.sumTerms));
  r.Set(5u, copyOut<uint8_t, Napi::Uint8Array>(env, b.sumCodes));
  r.Set(6u, copyOut<float, Napi::Float32Array>(env, b.sumScale));
  return r;
}

// reorderBisection(order (in/out, a permutation of 0..N-1), fwdOffsets, fwdTerms, vocab, iters, minSize)
Napi::Value ReorderBisection(const Napi::CallbackInfo& ci) {
  const Args info = outputsFirst(ci, 1, 0);
  Napi::Env env = info.Env();
  if (info.Length() != 6) { fail(env, "reorderBisection takes 6 arguments"); return env.Undefined(); }
  Arr off, terms, order;
  if (!arr(env, info[0], "fwdOffsets", off, napi_uint32_array) || !arr(env, info[1], "fwdTerms", terms, napi_uint32_array) ||
      !arr(env, info[5], "order", order, napi_uint32_array))
    return env.Undefined();
  const uint32_t V = u32(info[2]);
  const int iters = info[3].As<Napi::Number>().Int32Value();
  const uint32_t minSize = u32(info[4]);
  if (off.n < 1 || order.n != off.n - 1) { fail(env, "order must hold one entry per document"); return env.Undefined(); }
  const uint32_t N = uint32_t(off.n - 1);
  const uint32_t* o = static_cast<uint32_t*>(off.p);
  const uint32_t* t = static_cast<uint32_t*>(terms.p);
  if (o[0] != 0 || o[N] != terms.n) { fail(env, "fwdOffsets do not match fwdTerms"); return env.Undefined(); }
  for (uint32_t d = 0; d < N; d++) if (o[d + 1] < o[d]) { fail(env, "fwdOffsets must not decrease"); return env.Undefined(); }
  for (size_t p = 0; p < terms.n; p++) if (t[p] >= V) { fail(env, "term id outside the vocabulary"); return env.Undefined(); }
  std::vector<uint8_t> seen(N, 0);
  uint32_t* ord = static_cast<uint32_t*>(order.p);
  for (uint32_t i = 0; i < N; i++) { if (ord[i] >= N || seen[ord[i]]) { fail(env, "order is not a permutation"); return env.Undefined(); } seen[ord[i]] = 1; }
  if (iters < 0 || iters > 100) { fail(env, "iters must be in [0, 100]"); return env.Undefined(); }
  lion::reorderBisection(N, o, t, V, iters, minSize, ord);
  return env.Undefined();
}

// denseSearch(outDocs, outScores, outCounts, n, dim, data (f32 | Uint16 bf16 | Int8), rowScale (f32, N for int8
//             else empty), queries (Q*D f32), k, threads)
Napi::Value DenseSearch(const Napi::CallbackInfo& ci) {
  const Args info = outputsFirst(ci, 3, 1);
  Napi::Env env = info.Env();
  if (info.Length() != 10) { fail(env, "denseSearch takes 10 arguments"); return env.Undefined(); }
  lion::DenseView v;
  v.n = u32(info[0]);
  v.dim = u32(info[1]);
  Arr data, scale, qs, oDocs, oScores, oCounts;
  if (!arr(env, info[2], "data", data) || !arr(env, info[3], "rowScale", scale, napi_float32_array) ||
      !arr(env, info[4], "queries", qs, napi_float32_array) || !arr(env, info[6], "outDocs", oDocs, napi_int32_array) ||
      !arr(env, info[7], "outScores", oScores, napi_float32_array) || !arr(env, info[8], "outCounts", oCounts, napi_uint32_array))
    return env.Undefined();
  v.dtype = data.type == napi_float32_array ? 0 : data.type == napi_uint16_array ? 1 : data.type == napi_int8_array ? 2 : -1;
  if (v.dtype < 0) { fail(env, "data must be Float32Array, Uint16Array (bf16) or Int8Array"); return env.Undefined(); }
  if (v.dim < 1 || data.n != size_t(v.n) * v.dim) { fail(env, "data is not (n, dim)"); return env.Undefined(); }
  if (v.dtype == 2 && scale.n != v.n) { fail(env, "int8 data needs one scale per row"); return env.Undefined(); }
  if (qs.n % v.dim != 0) { fail(env, "queries are not (Q, dim)"); return env.Undefined(); }
  const uint32_t nq = uint32_t(qs.n / v.dim);
  const uint32_t k = u32(info[5]);
  if (k < 1) { fail(env, "k must be >= 1"); return env.Undefined(); }
  if (oDocs.n != size_t(nq) * k || oScores.n != size_t(nq) * k || oCounts.n != nq) { fail(env, "output arrays must be (Q, k), (Q, k), (Q)"); return env.Undefined(); }
  v.data = data.p;
  v.rowScale = static_cast<float*>(scale.p);
  lion::denseSearch(v, static_cast<float*>(qs.p), nq, k, threadsArg(info[9]), static_cast<int32_t*>(oDocs.p),
                    static_cast<float*>(oScores.p), static_cast<uint32_t*>(oCounts.p));
  return env.Undefined();
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sparseExact", Napi::Function::New(env, SparseExact));
  exports.Set("sparseBlockMax", Napi::Function::New(env, SparseBlockMax));
  exports.Set("sparseImpact", Napi::Function::New(env, SparseImpact));
  exports.Set("sparseCluster", Napi::Function::New(env, SparseCluster));
  exports.Set("buildClusters", Napi::Function::New(env, BuildClusters));
  exports.Set("reorderBisection", Napi::Function::New(env, ReorderBisection));
  exports.Set("denseSearch", Napi::Function::New(env, DenseSearch));
  exports.Set("version", Napi::Number::New(env, 2));  // 2: outputs first
  return exports;
}

NODE_API_MODULE(lion_search, Init)
