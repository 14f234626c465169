// trapetum synth: tiny models in both formats load and run, the tokenizer round-trips text,
// output is deterministic, and the tensor plans of the real presets have the published shapes.
#include "press/synth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <cstring>

#include "backend/cpu_backend.h"
#include "common/test_util.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "io/gguf.h"
#include "model/model.h"
#include "runtime/session.h"

namespace trapetum {
namespace {

namespace fs = std::filesystem;

SynthOptions tiny(const std::string& out, uint64_t seed = 1, const std::string& preset = "tiny") {
  SynthOptions o;
  o.preset = preset;
  o.out = out;
  o.seed = seed;
  return o;
}

void synth(const SynthOptions& o, int threads = 2) {
  ThreadPool pool(threads);
  Status st = synth_model(o, pool, nullptr);
  ASSERT_TRUE(st.ok()) << st.error();
}

std::unique_ptr<Model> load(const std::string& path) {
  auto m = Model::load(path);
  EXPECT_TRUE(m.ok()) << m.error();
  return m.ok() ? std::move(m).value() : nullptr;
}

// Logits after every position of a prompt.
std::vector<std::vector<float>> logits(const Model& m, const std::vector<int32_t>& ids) {
  CpuBackend backend(2);
  auto t = Transformer::create(m, backend);
  EXPECT_TRUE(t.ok()) << t.error();
  auto s = Session::create(*t.value(), int(ids.size()) + 1);
  EXPECT_TRUE(s.ok()) << s.error();
  std::vector<std::vector<float>> out;
  const int vocab = m.config().vocab_size;
  auto st = s.value()->eval_all(ids, [&](int64_t, const float* l) { out.emplace_back(l, l + vocab); });
  EXPECT_TRUE(st.ok()) << st.error();
  return out;
}

// The tiny presets cover llama (GPT-2 pre-tokenizer), qwen2 (QKV bias, its own GGUF arch and
// pre-tokenizer) and llama3 RoPE scaling (GGUF rope_freqs.weight vs config.json rope_scaling).
class SynthTiny : public ::testing::TestWithParam<const char*> {};

TEST_P(SynthTiny, LoadsInBothFormatsAndTheyAgree) {
  const std::string preset = GetParam();
  test::TempDir dir;
  SynthOptions g = tiny(dir.file("tiny.gguf"), 1, preset), h = tiny(dir.file("tiny-hf"), 1, preset);
  g.dtype = h.dtype = DType::kF32;  // identical weights, so the two formats must compute the same
  synth(g);
  synth(h);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                        "generation_config.json"})
    EXPECT_TRUE(fs::exists(h.out + "/" + f)) << f;
  auto mg = load(g.out), mh = load(h.out);
  ASSERT_TRUE(mg && mh);
  for (const Model* m : {mg.get(), mh.get()}) {
    const ModelConfig& c = m->config();
    EXPECT_EQ(c.dim, 64);
    EXPECT_EQ(c.n_layers, 2);
    EXPECT_EQ(c.n_heads, 4);
    EXPECT_EQ(c.n_kv_heads, 2);
    EXPECT_EQ(c.hidden_dim, 160);
    EXPECT_EQ(c.vocab_size, 512);
    EXPECT_EQ(c.qkv_bias, preset == "tiny-qwen2");
    EXPECT_EQ(c.arch, preset == "tiny-qwen2" ? Arch::kQwen2 : Arch::kLlama);
    EXPECT_EQ(m->tokenizer().vocab_size(), 512);
    EXPECT_FALSE(m->tokenizer().spec().chat_template.empty());
  }
  EXPECT_EQ(mg->config().rope_layout, preset == "tiny-qwen2" ? RopeLayout::kHalf : RopeLayout::kInterleaved);
  EXPECT_EQ(mh->config().rope_scaling.type,
            preset == "tiny-llama3" ? RopeScaling::Type::kLlama3 : RopeScaling::Type::kNone);
  const float* rope_g = mg->rope_inv_freq().data();
  for (size_t i = 0; i < mh->rope_inv_freq().size(); ++i)
    EXPECT_NEAR(rope_g[i], mh->rope_inv_freq()[i], 1e-6 * mh->rope_inv_freq()[i]) << i;
  const std::string prompt = "The morning was cold, and 42 cats sang.";
  const std::vector<int32_t> ids = mg->tokenizer().encode(prompt, true);
  EXPECT_EQ(ids, mh->tokenizer().encode(prompt, true));
  ASSERT_EQ(ids.front(), mg->tokenizer().bos_id());
  auto lg = logits(*mg, ids), lh = logits(*mh, ids);
  ASSERT_EQ(lg.size(), ids.size());
  ASSERT_EQ(lh.size(), ids.size());
  double max_diff = 0, max_abs = 0;
  for (size_t p = 0; p < lg.size(); ++p) {
    for (size_t i = 0; i < lg[p].size(); ++i) {
      ASSERT_TRUE(std::isfinite(lg[p][i]) && std::isfinite(lh[p][i]));
      max_diff = std::max(max_diff, double(std::fabs(lg[p][i] - lh[p][i])));
      max_abs = std::max(max_abs, double(std::fabs(lg[p][i])));
    }
  }
  EXPECT_GT(max_abs, 1e-3) << "logits should not be degenerate";
  EXPECT_LT(max_diff, 1e-4) << "the GGUF and HF layouts hold the same model";
}

INSTANTIATE_TEST_SUITE_P(Presets, SynthTiny, ::testing::Values("tiny", "tiny-qwen2", "tiny-llama3"));

TEST(Synth, TokenizerRoundTripsUtf8) {
  test::TempDir dir;
  synth(tiny(dir.file("t.gguf")));
  synth(tiny(dir.file("t-hf")));
  std::mt19937 rng(5);
  std::vector<std::string> texts = {"Hello, world! The library opens at nine o'clock.",
                                    "  leading and trailing spaces  \n\ttabs\r\n",
                                    "naïve café — 日本語のテキスト 🙂 Ωmega ß",
                                    std::string("nul\0byte", 8)};
  std::string random_utf8;  // code points from every UTF-8 length class
  std::uniform_int_distribution<uint32_t> cp(1, 0x10FFFF);
  for (int i = 0; i < 300; ++i) {
    uint32_t c = cp(rng) >> (rng() % 4 * 5);
    if (c == 0 || (c >= 0xD800 && c <= 0xDFFF)) c = 'x';
    if (c < 0x80) random_utf8 += char(c);
    else if (c < 0x800) random_utf8 += {char(0xC0 | c >> 6), char(0x80 | (c & 63))};
    else if (c < 0x10000) random_utf8 += {char(0xE0 | c >> 12), char(0x80 | (c >> 6 & 63)), char(0x80 | (c & 63))};
    else random_utf8 += {char(0xF0 | c >> 18), char(0x80 | (c >> 12 & 63)), char(0x80 | (c >> 6 & 63)), char(0x80 | (c & 63))};
  }
  texts.push_back(random_utf8);
  for (const std::string& path : {dir.file("t.gguf"), dir.file("t-hf")}) {
    auto m = load(path);
    ASSERT_TRUE(m);
    const Tokenizer& tok = m->tokenizer();
    for (const std::string& text : texts) {
      const std::vector<int32_t> ids = tok.encode(text, false);
      for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < 512);
      EXPECT_EQ(tok.decode(ids, false), text) << path;
    }
    // Merges learned from English make English text shorter than its bytes.
    const std::string english = "The weather was warm and the children walked to the river with their grandfather.";
    EXPECT_LT(tok.encode(english, false).size(), english.size() / 2) << path;
    // Special tokens in text are matched whole.
    const std::vector<int32_t> chat = tok.encode("<|im_start|>user\nhi<|im_end|>", false);
    EXPECT_EQ(tok.token_bytes(chat.front(), false), "<|im_start|>");
    EXPECT_TRUE(tok.is_end_of_generation(chat.back()));
  }
  // The Qwen2 style splits digits one by one and normalizes to NFC, as Qwen2's tokenizer does.
  synth(tiny(dir.file("q.gguf"), 1, "tiny-qwen2"));
  synth(tiny(dir.file("q-hf"), 1, "tiny-qwen2"));
  for (const std::string& path : {dir.file("q.gguf"), dir.file("q-hf")}) {
    auto m = load(path);
    ASSERT_TRUE(m);
    const Tokenizer& tok = m->tokenizer();
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(tok.decode(tok.encode(texts[i], false), false), texts[i]) << path;  // NFC
    EXPECT_EQ(tok.encode("2024", false).size(), 4u) << path;
    EXPECT_EQ(tok.decode(tok.encode("e\xCC\x81", false), false), "\xC3\xA9") << path;  // e + U+0301 -> U+00E9
  }
}

TEST(Synth, SameSeedSameBytesAcrossThreadCounts) {
  test::TempDir dir;
  SynthOptions a = tiny(dir.file("a.gguf"), 7), b = tiny(dir.file("b.gguf"), 7), c = tiny(dir.file("c.gguf"), 8);
  a.outlier_cols = b.outlier_cols = c.outlier_cols = 0.05;
  synth(a, 1);
  synth(b, 3);
  synth(c, 2);
  EXPECT_EQ(test::read_file(a.out), test::read_file(b.out));
  // A different seed changes every tensor's data, but not the header.
  auto ga = GgufFile::open(a.out), gc = GgufFile::open(c.out);
  ASSERT_TRUE(ga.ok() && gc.ok());
  for (size_t i = 0; i < ga.value()->tensors().size(); ++i) {
    const GgufTensorInfo& t = ga.value()->tensors()[i];
    EXPECT_NE(std::memcmp(ga.value()->view(t).data, gc.value()->view(gc.value()->tensors()[i]).data, t.nbytes), 0)
        << t.name;
  }
  SynthOptions d = tiny(dir.file("d"), 7), e = tiny(dir.file("e"), 7), f = tiny(dir.file("f"), 9);
  synth(d, 1);
  synth(e, 2);
  synth(f, 2);
  EXPECT_EQ(test::read_file(d.out + "/model.safetensors"), test::read_file(e.out + "/model.safetensors"));
  EXPECT_NE(test::read_file(d.out + "/model.safetensors"), test::read_file(f.out + "/model.safetensors"));
  EXPECT_EQ(test::read_file(d.out + "/tokenizer.json"), test::read_file(f.out + "/tokenizer.json"));
}

}  // namespace
}  // namespace trapetum
