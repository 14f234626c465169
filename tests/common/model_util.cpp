// Loaded-model helpers shared by the model, runtime and press tests.
#include "common/model_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "quant/row.h"
#include "runtime/session.h"

namespace trapetum::test {

std::unique_ptr<Model> load_model(const std::string& path) {
  auto m = Model::load(path);
  EXPECT_TRUE(m.ok()) << m.error();
  return m.ok() ? std::move(m.value()) : nullptr;
}

Loaded load_for_cpu(const std::string& path, int threads, cpu::ActMode act) {
  Loaded l;
  l.model = load_model(path);
  if (!l.model) return l;
  l.backend = std::make_unique<CpuBackend>(threads, CpuOptions{std::nullopt, act});
  auto t = Transformer::create(*l.model, *l.backend);
  EXPECT_TRUE(t.ok()) << t.error();
  if (t.ok()) l.t = std::move(t.value());
  return l;
}

std::vector<float> all_logits(const Transformer& t, const std::vector<int32_t>& ids, int batch, KvType kv_type) {
  const int vocab = t.config().vocab_size;
  std::vector<float> out(ids.size() * size_t(vocab), std::nanf(""));
  auto s = Session::create(t, int(ids.size()) + 1, batch, kv_type);
  EXPECT_TRUE(s.ok()) << s.error();
  if (!s.ok()) return out;
  auto st = s.value()->eval_all(ids, [&](int64_t i, const float* l) { std::copy(l, l + vocab, out.begin() + i * vocab); });
  EXPECT_TRUE(st.ok()) << st.error();
  return out;
}

std::vector<float> tensor_f32(const Model& m, const std::string& name) {
  const TensorView& v = m.tensors().at(name);
  std::vector<float> f(static_cast<size_t>(v.numel()));
  for (int64_t r = 0; r < v.rows(); ++r) dequantize_row(v, r, f.data() + r * v.cols());
  return f;
}

}  // namespace trapetum::test
