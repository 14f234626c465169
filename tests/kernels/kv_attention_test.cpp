// KV cache element types on the CPU: row encoding and decoding against ref/kv_rows (bit for
// bit), the round-trip error each format promises, attention over f16 and q8 caches against
// the reference, and the backend's kv_store and attention over a typed cache.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "backend/cpu_backend.h"
#include "common/test_util.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/kv_convert.h"
#include "kernels/ref/kv_rows.h"
#include "kernels/ref/ops.h"

namespace trapetum {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr KvType kTypes[] = {KvType::kF32, KvType::kF16, KvType::kQ8};

std::string name(cpu::Isa isa, KvType t, int hd) {
  return std::string(cpu::isa_name(isa)) + " " + kv_type_name(t) + " hd " + std::to_string(hd);
}

// Values whose magnitudes span f16's subnormals, normals and overflow, with exact zeros.
std::vector<float> wide_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> mant(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exp2(-30, 17);
  std::vector<float> v(n);
  for (auto& x : v) x = rng() % 17 == 0 ? 0.0f : std::ldexp(mant(rng), exp2(rng));
  return v;
}

// Rows of n positions encoded with the reference.
std::vector<uint8_t> encode_rows(KvType t, const std::vector<float>& x, int n, int hd) {
  const int64_t row = kv_row_bytes(t, hd);
  std::vector<uint8_t> out(size_t(n * row));
  for (int p = 0; p < n; ++p) ref::kv_encode_row(t, x.data() + int64_t(p) * hd, hd, out.data() + p * row);
  return out;
}

std::vector<float> decode_rows(KvType t, const std::vector<uint8_t>& rows, int n, int hd) {
  const int64_t row = kv_row_bytes(t, hd);
  std::vector<float> out(size_t(n) * size_t(hd));
  for (int p = 0; p < n; ++p) ref::kv_decode_row(t, rows.data() + p * row, hd, out.data() + int64_t(p) * hd);
  return out;
}

TEST(KvRows, RowBytesFollowTheFormat) {
  EXPECT_EQ(kv_row_bytes(KvType::kF32, 64), 256);
  EXPECT_EQ(kv_row_bytes(KvType::kF16, 64), 128);
  EXPECT_EQ(kv_row_bytes(KvType::kQ8, 64), 72);
  EXPECT_EQ(kv_row_bytes(KvType::kQ8, 80), 108);  // a partial third block
  EXPECT_EQ(kv_row_bytes(KvType::kQ8, 8), 36);
  for (KvType t : kTypes) EXPECT_EQ(kv_type_from_name(kv_type_name(t)), t);
  EXPECT_FALSE(kv_type_from_name("q4").has_value());
}

TEST(KvRows, CpuEncodeAndDecodeEqualTheReferenceBitForBit) {
  std::mt19937 rng(std::random_device{}());
  for (cpu::Isa isa : cpu::supported_isas())
    for (KvType t : kTypes)
      for (int hd : {8, 16, 17, 40, 64, 80, 128, 256}) {
        const std::string what = name(isa, t, hd);
        const int64_t row = kv_row_bytes(t, hd);
        const auto x = wide_floats(size_t(hd), rng);
        // Different poison in each buffer: every byte of the row must be written by both.
        std::vector<uint8_t> want(size_t(row), 0xab), got(size_t(row), 0xcd);
        ref::kv_encode_row(t, x.data(), hd, want.data());
        cpu::kv_encode_row(isa, t, x.data(), hd, got.data());
        ASSERT_EQ(std::memcmp(got.data(), want.data(), size_t(row)), 0) << what;

        const int n = 1 + int(rng() % 70);
        const auto xs = wide_floats(size_t(n * hd), rng);
        const auto rows = encode_rows(t, xs, n, hd);
        const auto ref_dec = decode_rows(t, rows, n, hd);
        std::vector<float> dec(size_t(n * hd) + 16, kNaN);
        cpu::kv_decode_rows(isa, t, rows.data(), n, hd, dec.data());
        ASSERT_EQ(std::memcmp(dec.data(), ref_dec.data(), ref_dec.size() * 4), 0) << what;
        for (size_t i = ref_dec.size(); i < dec.size(); ++i) ASSERT_TRUE(std::isnan(dec[i])) << what << " overran";
      }
}

TEST(KvRows, RoundTripErrorIsWhatTheFormatPromises) {
  std::mt19937 rng(std::random_device{}());
  for (int hd : {16, 40, 64, 128}) {
    const auto x = test::random_floats(size_t(hd), rng, 4.0f);
    for (KvType t : kTypes) {
      std::vector<uint8_t> row(size_t(kv_row_bytes(t, hd)));
      std::vector<float> y(size_t(hd), kNaN);
      ref::kv_encode_row(t, x.data(), hd, row.data());
      ref::kv_decode_row(t, row.data(), hd, y.data());
      for (int i = 0; i < hd; ++i) {
        const float xi = x[size_t(i)], e = std::fabs(y[size_t(i)] - xi);
        if (t == KvType::kF32) {
          ASSERT_EQ(y[size_t(i)], xi);
        } else if (t == KvType::kF16) {
          // Round to nearest with 11 significant bits: half an ulp, 2^-11 relative (normal
          // range; the smallest normal f16 is 2^-14).
          ASSERT_LE(e, std::max(std::fabs(xi) * 0x1p-11f, 0x1p-25f)) << xi;
        } else {
          // q8: half a quantization step of the value's block, max|x| / 254 (plus the float
          // rounding of d * q).
          float amax = 0;
          const int b0 = i / kKvQ8BlockValues * kKvQ8BlockValues;
          for (int j = b0; j < std::min(hd, b0 + kKvQ8BlockValues); ++j) amax = std::max(amax, std::fabs(x[size_t(j)]));
          ASSERT_LE(e, amax / 254.0f * 1.0001f + std::fabs(xi) * 1e-7f) << xi << " amax " << amax;
        }
      }
    }
  }
  // An all-zero q8 block decodes to zeros (scale 0, no division by it).
  std::vector<float> zeros(40, 0.0f), back(40, kNaN);
  std::vector<uint8_t> row(size_t(kv_row_bytes(KvType::kQ8, 40)));
  ref::kv_encode_row(KvType::kQ8, zeros.data(), 40, row.data());
  ref::kv_decode_row(KvType::kQ8, row.data(), 40, back.data());
  for (float v : back) EXPECT_EQ(v, 0.0f);
}

// Reference attention of `group` heads over decoded rows k, v (n, hd).
std::vector<float> ref_attention(const std::vector<float>& q, int group, const std::vector<float>& k,
                                 const std::vector<float>& v, int lo, int hi, int hd, float scale) {
  std::vector<float> out(size_t(group * hd)), scores(size_t(hi + 1));
  for (int g = 0; g < group; ++g)
    ref::attention_head(q.data() + g * hd, k.data(), v.data(), lo, hi, hd, scale, scores.data(), out.data() + g * hd);
  return out;
}

TEST(CpuAttention, F16AndQ8CachesMatchTheReference) {
  std::mt19937 rng(std::random_device{}());
  for (cpu::Isa isa : cpu::supported_isas())
    for (KvType t : kTypes)
      for (int hd : {16, 40, 64, 128}) {
        const std::string what = name(isa, t, hd);
        const int n = 1 + int(rng() % 200), group = 1 + int(rng() % 4), lo = int(rng() % uint32_t(n));
        const float scale = float(1.0 / std::sqrt(double(hd)));
        const auto q = test::random_floats(size_t(group * hd), rng), k = test::random_floats(size_t(n * hd), rng),
                   v = test::random_floats(size_t(n * hd), rng);
        const auto kr = encode_rows(t, k, n, hd), vr = encode_rows(t, v, n, hd);
        const auto kd = decode_rows(t, kr, n, hd), vd = decode_rows(t, vr, n, hd);
        std::vector<float> scratch(size_t(cpu::attention_scratch_floats(group, n - lo, hd)), kNaN);
        std::vector<float> got(size_t(group * hd), kNaN);
        cpu::attention_group(isa, q.data(), group, cpu::KvHeadRows{kr.data(), vr.data(), t}, lo, n - 1, hd, scale,
                             scratch.data(), got.data());
        // (1) The kernel against the reference on the very values the cache holds: only float
        // rounding differs.
        const auto want = ref_attention(q, group, kd, vd, lo, n - 1, hd, scale);
        for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << what << " at " << i;
        // (2) Against exact f32 K/V: to first order, |d out| <= max|dv| + 2 max|ds| max|v| with
        // ds = scale * q . dk (a softmax moves at most 2 max|ds| of probability mass).
        const auto exact = ref_attention(q, group, k, v, lo, n - 1, hd, scale);
        double dv = 0, vmax = 0;
        for (size_t i = size_t(lo) * size_t(hd); i < v.size(); ++i) {
          dv = std::max(dv, std::fabs(double(vd[i]) - double(v[i])));
          vmax = std::max(vmax, std::fabs(double(v[i])));
        }
        for (int g = 0; g < group; ++g) {
          double ds = 0;
          for (int p = lo; p < n; ++p) {
            double s = 0;
            for (int d = 0; d < hd; ++d)
              s += double(q[size_t(g * hd + d)]) * (double(kd[size_t(p * hd + d)]) - double(k[size_t(p * hd + d)]));
            ds = std::max(ds, std::fabs(s) * scale);
          }
          const double bound = 1.25 * (dv + 2 * ds * vmax) + 2e-5;
          for (int d = 0; d < hd; ++d)
            ASSERT_LE(std::fabs(double(got[size_t(g * hd + d)]) - double(exact[size_t(g * hd + d)])), bound)
                << what << " head " << g << " d " << d;
        }
      }
}

TEST(CpuBackend, KvStoreAndAttentionOverATypedCache) {
  // GQA (4 query heads per KV head), a prefill then single-token decodes; 8 threads so decode
  // splits each KV head's query heads across tasks.
  std::mt19937 rng(std::random_device{}());
  const int n_heads = 8, n_kv = 2, group = n_heads / n_kv, cap = 50;
  for (KvType t : kTypes)
    for (int hd : {16, 64}) {
      CpuBackend b(8);
      const std::string what = name(b.isa(), t, hd);
      const int64_t row = kv_row_bytes(t, hd), kv_dim = int64_t(n_kv) * hd, q_dim = int64_t(n_heads) * hd;
      std::vector<uint8_t> kc(size_t(n_kv * cap * row), 0xee), vc(size_t(n_kv * cap * row), 0xee);
      const KvLayerView kv{kc.data(), vc.data(), cap, t};
      std::vector<float> all_k, all_v;
      int pos = 0;
      for (int n : {37, 1, 1, 5}) {
        const auto k = test::random_floats(size_t(n * kv_dim), rng), v = test::random_floats(size_t(n * kv_dim), rng);
        const auto q = test::random_floats(size_t(n * q_dim), rng);
        b.kv_store(kv, k.data(), v.data(), n, pos, n_kv, hd);
        all_k.insert(all_k.end(), k.begin(), k.end());
        all_v.insert(all_v.end(), v.begin(), v.end());
        // Every stored row equals the reference encoding of its input.
        for (int p = 0; p < pos + n; ++p)
          for (int h = 0; h < n_kv; ++h) {
            std::vector<uint8_t> want(static_cast<size_t>(row));
            ref::kv_encode_row(t, all_k.data() + p * kv_dim + h * hd, hd, want.data());
            ASSERT_EQ(std::memcmp(kc.data() + (h * cap + p) * row, want.data(), size_t(row)), 0) << what << " k " << p;
            ref::kv_encode_row(t, all_v.data() + p * kv_dim + h * hd, hd, want.data());
            ASSERT_EQ(std::memcmp(vc.data() + (h * cap + p) * row, want.data(), size_t(row)), 0) << what << " v " << p;
          }
        std::vector<float> out(size_t(n * q_dim), kNaN);
        b.attention(q.data(), kv, out.data(), n, pos, AttentionShape{n_heads, n_kv, hd, 0});
        for (int i = 0; i < n; ++i)
          for (int h = 0; h < n_heads; ++h) {
            const int kvh = h / group;
            std::vector<float> kd(size_t((pos + i + 1) * hd)), vd(kd.size()), scores(size_t(pos + i + 1));
            std::vector<float> want(static_cast<size_t>(hd));
            for (int p = 0; p <= pos + i; ++p) {
              ref::kv_decode_row(t, kc.data() + (kvh * cap + p) * row, hd, kd.data() + p * hd);
              ref::kv_decode_row(t, vc.data() + (kvh * cap + p) * row, hd, vd.data() + p * hd);
            }
            ref::attention_head(q.data() + i * q_dim + h * hd, kd.data(), vd.data(), 0, pos + i, hd,
                                float(1.0 / std::sqrt(double(hd))), scores.data(), want.data());
            for (int d = 0; d < hd; ++d)
              ASSERT_NEAR(out[size_t(i * q_dim + h * hd + d)], want[size_t(d)], 2e-5)
                  << what << " token " << i << " head " << h;
          }
        pos += n;
      }
    }
}

}  // namespace
}  // namespace trapetum
