// Shared pieces of the lion_search hot loops: the top-k heap and a tiny thread fan-out.
//
// Ordering everywhere: a hit (score, doc) is better than another when its score is higher, or the scores
// are equal and its doc position is lower. This total order makes every top-k deterministic and identical
// between the native loops, their TypeScript twins and the brute-force oracle in tests.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace lion {

inline bool better(float sa, int32_t da, float sb, int32_t db) { return sa > sb || (sa == sb && da < db); }

// A bounded min-heap of the k best hits; the root is the worst kept hit.
struct TopK {
  float* s;
  int32_t* d;
  uint32_t k;
  uint32_t n = 0;
  TopK(float* scores, int32_t* docs, uint32_t k_) : s(scores), d(docs), k(k_) {}
  bool full() const { return n == k; }
  // Score a candidate must beat (strictly, or equal with a lower doc) to enter once the heap is full.
  float threshold() const { return n == k ? s[0] : -__builtin_inff(); }
  void siftDown(uint32_t i) {
    for (;;) {
      uint32_t l = 2 * i + 1, r = l + 1, w = i;
      if (l < n && better(s[w], d[w], s[l], d[l])) w = l;
      if (r < n && better(s[w], d[w], s[r], d[r])) w = r;
      if (w == i) return;
      std::swap(s[i], s[w]);
      std::swap(d[i], d[w]);
      i = w;
    }
  }
  void push(float score, int32_t doc) {
    if (n < k) {
      uint32_t i = n++;
      s[i] = score;
      d[i] = doc;
      while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!better(s[p], d[p], s[i], d[i])) break;
        std::swap(s[p], s[i]);
        std::swap(d[p], d[i]);
        i = p;
      }
    } else if (better(score, doc, s[0], d[0])) {
      s[0] = score;
      d[0] = doc;
      siftDown(0);
    }
  }
  // Sorts the kept hits best first (in place).
  void sortBest() {
    std::vector<std::pair<float, int32_t>> v(n);
    for (uint32_t i = 0; i < n; i++) v[i] = {s[i], d[i]};
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return better(a.first, a.second, b.first, b.second); });
    for (uint32_t i = 0; i < n; i++) { s[i] = v[i].first; d[i] = v[i].second; }
  }
};

// Runs fn(t) for t in [0, threads) on threads (the caller's thread runs t = 0).
template <class F>
void parallel(int threads, F fn) {
  if (threads <= 1) { fn(0); return; }
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; t++) pool.emplace_back(fn, t);
  fn(0);
  for (auto& th : pool) th.join();
}

}  // namespace lion
