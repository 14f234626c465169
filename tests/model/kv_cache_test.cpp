// KvCache sizes per element type: bytes_needed, the layer views, and the memory check that
// fails before allocating and names the type and the MiB it needed.
#include <gtest/gtest.h>

#include "backend/cpu_backend.h"
#include "model/kv_cache.h"

namespace trapetum {
namespace {

ModelConfig config(int n_layers, int n_kv_heads, int head_dim) {
  ModelConfig c;
  c.n_layers = n_layers;
  c.n_kv_heads = n_kv_heads;
  c.head_dim = head_dim;
  return c;
}

TEST(KvCache, BytesNeededFollowTheElementType) {
  const ModelConfig c = config(22, 4, 64);  // TinyLlama's KV shape
  const int64_t values = 2 * 22 * 4 * int64_t(2048) * 64;
  EXPECT_EQ(KvCache::bytes_needed(c, 2048, KvType::kF32), values * 4);
  EXPECT_EQ(KvCache::bytes_needed(c, 2048, KvType::kF16), values * 2);
  EXPECT_EQ(KvCache::bytes_needed(c, 2048, KvType::kQ8), values / 32 * 36);
}

TEST(KvCache, LayerViewsCarryTheTypeAndDoNotOverlap) {
  const ModelConfig c = config(3, 2, 40);
  CpuBackend b(1);
  for (KvType t : {KvType::kF32, KvType::kF16, KvType::kQ8}) {
    auto kv = KvCache::create(b, c, 10, t);
    ASSERT_TRUE(kv.ok()) << kv.error();
    EXPECT_EQ(kv->type(), t);
    const int64_t layer = 2 * 10 * kv_row_bytes(t, 40);
    for (int l = 0; l < 3; ++l) {
      const KvLayerView v = kv->layer(l);
      EXPECT_EQ(v.type, t);
      EXPECT_EQ(v.capacity, 10);
      EXPECT_EQ(static_cast<char*>(v.k) - static_cast<char*>(kv->layer(0).k), l * layer);
      EXPECT_EQ(static_cast<char*>(v.v) - static_cast<char*>(kv->layer(0).v), l * layer);
    }
  }
}

TEST(KvCache, ContextThatCannotFitNamesTheTypeAndSize) {
  const ModelConfig c = config(4096, 64, 128);
  CpuBackend b(1);
  // 2 * 4096 * 64 * 2^20 * 128 values at 2 bytes: 2^47 bytes = 134217728 MiB.
  auto kv = KvCache::create(b, c, 1 << 20, KvType::kF16);
  ASSERT_FALSE(kv.ok());
  EXPECT_NE(kv.error().find("f16 kv cache for a context of 1048576 tokens needs 134217728 MiB"), std::string::npos)
      << kv.error();
  EXPECT_NE(kv.error().find("MiB of memory are available"), std::string::npos) << kv.error();
}

}  // namespace
}  // namespace trapetum
