// GEMV dispatch: kernel tables per ISA, activation preparation, and the row loop that adds
// sparse outliers.
#include "kernels/cpu/gemv.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"
#include "core/half.h"

namespace trapetum::cpu {

static_assert(kGemvCodecs == int(DType::kCount), "gemv tables are indexed by DType");
static_assert(int(DType::kQ8_0) == 3 && int(DType::kQ4_1) == 5 && int(DType::kQ8) == 8 && int(DType::kT158P) == 15,
              "the table fillers in gemv_*_body.h index by these DType values");

GemvTable gemv_table(Isa isa) {
  GemvTable t{};
  fill_gemv_generic(&t);
  switch (isa) {
#if defined(__x86_64__)
    case Isa::kAvx2: fill_gemv_avx2(&t); break;
    case Isa::kAvx512: fill_gemv_avx512(&t); break;
#endif
#if defined(__aarch64__)
    case Isa::kNeon: fill_gemv_neon(&t); break;
#endif
    default: break;
  }
  return t;
}

void GemvInput::resize(int m, int64_t k, bool int8) {
  // Rounded up to whole 128-element blocks, plus one 32-element block that t158p's last
  // group may read past its block (against zero weights).
  filled_m_ = 0;
  k_ = k;
  kpad_ = (k + 127) / 128 * 128 + kActBlock;
  nblk_ = kpad_ / kActBlock;
  int8_ = int8;
  x_.resize(size_t(m * kpad_));
  xsum_.resize(size_t(m * nblk_));
  if (!int8) return;
  q_.resize(size_t(m * kpad_));
  qd_.resize(size_t(m * nblk_));
  qsum_.resize(size_t(m * nblk_));
  qdsum_.resize(size_t(m * nblk_));
  qd8_.resize(size_t(m * nblk_ * 8));
  q4neg_.resize(size_t(m * kpad_ / 4));
}

void GemvInput::fill(const GemvTable& t, const float* xi, int i) {
  const size_t e = size_t(i * kpad_), b = size_t(i * nblk_);
  if (!int8_) return t.prepare(xi, k_, kpad_, false, &x_[e], &xsum_[b], nullptr, nullptr, nullptr, nullptr);
  t.prepare(xi, k_, kpad_, true, &x_[e], &xsum_[b], &q_[e], &qd_[b], &qsum_[b], &qdsum_[b]);
  for (int64_t j = 0; j < nblk_; ++j)
    for (int l = 0; l < 8; ++l) qd8_[(size_t(b) + size_t(j)) * 8 + size_t(l)] = qd_[b + size_t(j)];
  for (int64_t j = 0; j < kpad_ / 4; ++j) {
    const int8_t* q = &q_[e + size_t(4 * j)];
    q4neg_[e / 4 + size_t(j)] = -128 * (int32_t(q[0]) + q[1] + q[2] + q[3]);
  }
}

void GemvInput::prepare(const GemvTable& t, const float* x, int m, int64_t k, bool int8) {
  resize(m, k, int8);
  for (int i = 0; i < m; ++i) fill(t, x + i * k, i);
  mark_filled(m);
}

bool GemvInput::holds(const float* x, int m, int64_t k, bool int8) const {
  if (filled_m_ != m || k_ != k || int8_ != int8) return false;
  for (int i = 0; i < m; ++i)
    if (std::memcmp(x_.data() + i * kpad_, x + i * k, size_t(k) * sizeof(float)) != 0) return false;
  return true;
}

GemvActs GemvInput::token(int i) const {
  GemvActs a{};
  a.x = x_.data() + i * kpad_;
  a.xsum = xsum_.data() + i * nblk_;
  if (int8_) {
    a.q = q_.data() + i * kpad_;
    a.qd = qd_.data() + i * nblk_;
    a.qsum = qsum_.data() + i * nblk_;
    a.qdsum = qdsum_.data() + i * nblk_;
    a.qd8 = qd8_.data() + i * nblk_ * 8;
    a.q4neg = q4neg_.data() + i * kpad_ / 4;
  }
  return a;
}

void gemv_rows(const GemvTable& t, ActMode mode, const TensorView& w, const GemvInput& in, int m, float* y,
               int64_t ldy, int64_t r0, int64_t r1) {
  const int dt = int(w.dtype);
  const bool int8 = mode == ActMode::kInt8 && t.int8[dt];
  RowDotFn fn = int8 ? t.int8[dt] : t.f32[dt];
  CHECK(fn != nullptr);
  if (int8) CHECK(in.token(0).q != nullptr);
  // A lone token keeps the one-token kernels, a little faster than the several-token ones
  // run for one (bench kernels, q4g64 11008x4096: 1.14-1.26 ms against 1.29-1.47 ms).
  RowDotMultiFn multi = int8 && m > 1 ? t.int8m[dt] : nullptr;
  RowTileFn tile = int8 ? t.int8t[dt] : nullptr;
  const int64_t k = w.cols();
  const SparseRows& o = w.outliers;
  // Whole tiles of 16 rows from r0 on, then row by row. A lone token goes row by row: 16
  // interleaved row streams read memory slower than one (tinyllama q4g64 decode: 25.5 tok/s
  // with tiles, 34.0 without), and one token has no unpacking to share.
  const int64_t tiles_end = tile && m > 1 ? r0 + (r1 - r0) / kGemvTileRows * kGemvTileRows : r0;
  for (int i0 = 0; i0 < m; i0 += kGemvMultiMax) {
    const int mm = std::min(kGemvMultiMax, m - i0);
    GemvActs a[kGemvMultiMax];
    for (int i = 0; i < mm; ++i) a[i] = in.token(i0 + i);
    float s[kGemvMultiMax * kGemvTileRows];
    for (int64_t r = r0; r < r1;) {
      const int64_t n = r < tiles_end ? kGemvTileRows : 1;  // rows done in this step
      if (n > 1) {
        tile(w.row(r), w.row_bytes(), a, mm, k, s);
      } else if (multi) {
        multi(w.row(r), a, mm, k, s);
      } else {
        for (int i = 0; i < mm; ++i) s[i] = fn(w.row(r), a[i], k);
      }
      // Token by token, so that a tile's 16 outputs of one token are stored side by side.
      for (int i = 0; i < mm; ++i) {
        float* yi = y + (i0 + i) * ldy;
        for (int64_t j = 0; j < n; ++j) {
          float v = s[n > 1 ? i * kGemvTileRows + j : i];
          if (o.nnz)
            for (uint32_t e = o.row_ptr[r + j]; e < o.row_ptr[r + j + 1]; ++e)
              v += fp16_to_float(o.vals[e]) * a[i].x[o.cols[e]];
          yi[r + j] = v;
        }
      }
      r += n;
    }
  }
}

}  // namespace trapetum::cpu
