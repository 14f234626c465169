// Fused decode matmul (GEMV): y = W x for a few tokens, one streaming pass over the packed
// rows per token with the dequantization done in registers. Activations are prepared once per
// call: zero-padded floats with block sums, and optionally int8 blocks for integer dots.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemv_table.h"

namespace trapetum::cpu {

enum class ActMode : uint8_t {
  kFloat,  // exact: float activations times the exactly dequantized weights
  kInt8,   // activations quantized per 32 to int8 where the codec has an integer kernel
};

// The kernel table for an ISA: the portable kernels, overridden by the ISA's own.
GemvTable gemv_table(Isa isa);

// Activations of m tokens in the forms the row kernels read; reused across calls, so its
// memory is allocated once per session and only grows.
class GemvInput {
 public:
  // Sizes the buffers for m tokens of k elements; int8 also keeps quantized blocks.
  void resize(int m, int64_t k, bool int8);
  // Fills token i from xi (k floats) with the table's prepare kernel; tokens are independent,
  // so different threads may fill different tokens.
  void fill(const GemvTable& t, const float* xi, int i);
  // resize, then fill every token of x (m, k).
  void prepare(const GemvTable& t, const float* x, int m, int64_t k, bool int8);
  // After every token is filled (by fill): the buffers now stand for their m tokens, until
  // the next resize.
  void mark_filled(int m) { filled_m_ = m; }
  // Whether the buffers already hold x (m tokens of k floats, bit for bit) prepared with
  // int8 or not: the q, k and v projections (and gate and up) read one input, which then is
  // quantized once. Compares with the float copy each token keeps.
  bool holds(const float* x, int m, int64_t k, bool int8) const;
  GemvActs token(int i) const;
  int64_t kpad() const { return kpad_; }

 private:
  int64_t k_ = 0, kpad_ = 0, nblk_ = 0;
  bool int8_ = false;
  int filled_m_ = 0;  // tokens that hold a whole input (mark_filled); 0 after resize
  std::vector<float> x_, xsum_, qd_, qdsum_, qd8_;  // (m, kpad), (m, nblk) ... as in GemvActs
  std::vector<int8_t> q_;                           // (m, kpad)
  std::vector<int32_t> qsum_, q4neg_;               // (m, nblk), (m, kpad / 4)
};

// y[i * ldy + r] = row r of w . token i, for rows [r0, r1) and tokens [0, m), sparse
// outliers included. Uses the int8 kernel when mode is kInt8 and the codec has one.
void gemv_rows(const GemvTable& t, ActMode mode, const TensorView& w, const GemvInput& in, int m, float* y,
               int64_t ldy, int64_t r0, int64_t r1);

}  // namespace trapetum::cpu
