// trapetum synth: the tensor plans of the real presets (checked without generating them), the
// value statistics and outlier columns, sharded directories, and the CLI.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/wait.h>

#include "common/test_util.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "io/gguf.h"
#include "model/model.h"
#include "press/synth.h"
#include "press/synth_internal.h"

namespace trapetum {
namespace {

namespace fs = std::filesystem;

SynthPlan plan(const std::string& preset, const std::string& out, int layers = 0) {
  SynthOptions o;
  o.preset = preset;
  o.out = out;
  o.layers = layers;
  auto p = plan_synth(o);
  EXPECT_TRUE(p.ok()) << p.error();
  return p.ok() ? *p : SynthPlan{};
}

const SynthTensor* find(const SynthPlan& p, const std::string& name) {
  for (const auto& t : p.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

void expect_shape(const SynthPlan& p, const std::string& name, std::vector<int64_t> shape) {
  const SynthTensor* t = find(p, name);
  ASSERT_TRUE(t) << name;
  EXPECT_EQ(t->shape, shape) << name;
}

TEST(SynthPlan, PublishedShapes) {
  SynthPlan l2 = plan("llama-2-7b", "x.gguf", 1);
  EXPECT_EQ(l2.tensors.size(), 3u + 9u);
  expect_shape(l2, "token_embd.weight", {32000, 4096});
  expect_shape(l2, "blk.0.attn_q.weight", {4096, 4096});
  expect_shape(l2, "blk.0.attn_k.weight", {4096, 4096});
  expect_shape(l2, "blk.0.ffn_gate.weight", {11008, 4096});
  expect_shape(l2, "blk.0.ffn_down.weight", {4096, 11008});
  expect_shape(l2, "output.weight", {32000, 4096});
  EXPECT_EQ(find(l2, "blk.0.attn_norm.weight")->dtype, DType::kF32);
  EXPECT_EQ(find(l2, "blk.0.attn_q.weight")->dtype, DType::kF16);
  // The whole of Llama 2 7B: 6,738,415,616 parameters (norms in f32).
  SynthPlan full = plan("llama-2-7b", "x.gguf");
  int64_t params = 0;
  for (const auto& t : full.tensors) params += t.bytes / (t.dtype == DType::kF32 ? 4 : 2);
  EXPECT_EQ(params, 6738415616);
  SynthPlan full_hf = plan("llama-2-7b", "dir");
  EXPECT_EQ(full_hf.total_bytes, 2 * 6738415616);
  EXPECT_EQ(full_hf.n_shards, 3);  // 5 GB shards, as HF saves it

  SynthPlan l3 = plan("llama-3-8b", "x.gguf", 1);
  expect_shape(l3, "token_embd.weight", {128256, 4096});
  expect_shape(l3, "rope_freqs.weight", {64});
  expect_shape(l3, "blk.0.attn_k.weight", {1024, 4096});
  expect_shape(l3, "blk.0.ffn_up.weight", {14336, 4096});
  EXPECT_EQ(plan("llama-3-8b", "dir").tensors.size(), 3u + 9u * 32);  // no rope_freqs in HF

  SynthPlan q = plan("qwen2-7b", "q-hf", 1);
  expect_shape(q, "model.embed_tokens.weight", {152064, 3584});
  expect_shape(q, "model.layers.0.self_attn.k_proj.weight", {512, 3584});
  expect_shape(q, "model.layers.0.self_attn.q_proj.bias", {3584});
  expect_shape(q, "model.layers.0.self_attn.v_proj.bias", {512});
  expect_shape(q, "model.layers.0.mlp.down_proj.weight", {3584, 18944});
  expect_shape(q, "lm_head.weight", {152064, 3584});
  EXPECT_EQ(q.preset.n_layers, 1);

  SynthPlan s = plan("smollm2-135m", "s.gguf");
  EXPECT_FALSE(find(s, "output.weight"));  // tied embeddings
  expect_shape(s, "blk.29.attn_k.weight", {192, 576});
  int64_t smol = 0;
  for (const auto& t : s.tensors) smol += t.bytes / (t.dtype == DType::kF32 ? 4 : 2);
  EXPECT_EQ(smol, 134515008);  // SmolLM2-135M

  expect_shape(plan("mistral-7b", "m.gguf", 1), "blk.0.attn_v.weight", {1024, 4096});
  expect_shape(plan("llama-2-13b", "m.gguf", 1), "blk.0.ffn_gate.weight", {13824, 5120});
  expect_shape(plan("tinyllama-1.1b", "m.gguf", 1), "blk.0.attn_k.weight", {256, 2048});
}

TEST(SynthPlan, BadOptions) {
  SynthOptions o;
  o.out = "x.gguf";
  o.preset = "llama-9";
  auto p = plan_synth(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("unknown preset 'llama-9' (presets: tiny, tiny-qwen2, tiny-llama3, tinyllama-1.1b"), std::string::npos) << p.error();
  o.preset = "tiny";
  o.outlier_cols = 1.5;
  EXPECT_FALSE(plan_synth(o).ok());
  o.outlier_cols = 0;
  o.dtype = DType::kQ8_0;
  EXPECT_FALSE(plan_synth(o).ok());
}

std::vector<float> read_f16(const GgufFile& g, const std::string& name) {
  for (const auto& t : g.tensors()) {
    if (t.name != name) continue;
    std::vector<float> v(t.nbytes / 2);
    const auto* h = static_cast<const uint16_t*>(g.view(t).data);
    for (size_t i = 0; i < v.size(); ++i) v[i] = fp16_to_float(h[i]);
    return v;
  }
  ADD_FAILURE() << name;
  return {};
}

TEST(SynthValues, StatisticsAndOutlierColumns) {
  test::TempDir dir;
  SynthOptions o;
  o.preset = "tiny";
  o.out = dir.file("o.gguf");
  o.outlier_cols = 0.05;  // round(0.05 * 64) = 3 heavy input columns
  ThreadPool pool(2);
  ASSERT_TRUE(synth_model(o, pool, nullptr).ok());
  auto g = GgufFile::open(o.out);
  ASSERT_TRUE(g.ok());
  const std::vector<float> emb = read_f16(*g.value(), "token_embd.weight");  // no outliers there
  double sum = 0, sq = 0;
  for (float x : emb) sum += x, sq += double(x) * x;
  const double mean = sum / double(emb.size()), sd = std::sqrt(sq / double(emb.size()) - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.001);
  EXPECT_NEAR(sd, 0.02, 0.0005);
  const GgufTensorInfo* norm = nullptr;
  for (const auto& t : g.value()->tensors())
    if (t.name == "blk.0.attn_norm.weight") norm = &t;
  ASSERT_TRUE(norm && norm->dtype == DType::kF32);
  const float* nv = static_cast<const float*>(g.value()->view(*norm).data);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(nv[i], 1.0f, 0.1f);

  std::vector<int> heavy_gate, heavy_q;
  for (auto [name, heavy] : {std::pair{"blk.0.ffn_gate.weight", &heavy_gate}, {"blk.1.attn_q.weight", &heavy_q}}) {
    const std::vector<float> w = read_f16(*g.value(), name);
    const size_t rows = w.size() / 64;
    std::vector<double> col_rms(64);
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < 64; ++c) col_rms[c] += double(w[r * 64 + c]) * w[r * 64 + c] / double(rows);
    for (int c = 0; c < 64; ++c) {
      const double rms = std::sqrt(col_rms[size_t(c)]);
      if (rms > 0.1) heavy->push_back(c);
      EXPECT_TRUE(rms < 0.03 || (rms > 0.15 && rms < 0.45)) << name << " column " << c << " rms " << rms;
    }
  }
  EXPECT_EQ(heavy_gate.size(), 3u);
  EXPECT_EQ(heavy_gate, heavy_q) << "layers reading the hidden state share their heavy channels";
}

TEST(SynthOutput, ShardedDirectoryLoads) {
  test::TempDir dir;
  SynthOptions o;
  o.preset = "tiny";
  o.out = dir.file("sharded");
  o.max_shard_bytes = 40000;  // the 64 KiB embedding gets a shard of its own
  ThreadPool pool(2);
  Status st = synth_model(o, pool, nullptr);
  ASSERT_TRUE(st.ok()) << st.error();
  ASSERT_TRUE(fs::exists(o.out + "/model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(o.out + "/model.safetensors"));
  auto index = nlohmann::json::parse(test::read_file(o.out + "/model.safetensors.index.json"));
  std::set<std::string> shards;
  for (auto& [k, v] : index["weight_map"].items()) shards.insert(v.get<std::string>());
  EXPECT_GT(shards.size(), 2u);
  EXPECT_TRUE(shards.count("model-00001-of-0000" + std::to_string(shards.size()) + ".safetensors"));
  auto m = Model::load(o.out);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(int64_t(index["metadata"]["total_size"]), m.value()->weight_bytes());
}

// The branch-free conversion the generator uses is bit-identical to core/half.h's.
TEST(SynthValues, Fp16ConversionMatchesReference) {
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 257) {
    const float f = bits_to_float(uint32_t(u));
    ASSERT_EQ(synth_fp16(f), float_to_fp16(f)) << std::hex << u;
  }
  for (float f : {0.0f, -0.0f, 6.1e-5f, 5.96e-8f, 2.98e-8f, 65504.0f, 65520.0f, 1e30f})
    EXPECT_EQ(synth_fp16(f), float_to_fp16(f)) << f;
}

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run_cli(const std::string& args) {
  test::TempDir dir;
  const std::string out = dir.file("out"), err = dir.file("err");
  const std::string cmd = std::string(TRAPETUM_CLI_PATH) + " " + args + " >" + out + " 2>" + err + " </dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::read_file(out), test::read_file(err)};
}

TEST(SynthCli, WritesRunsAndRefusesToOverwrite) {
  CliRun help = run_cli("synth --help");
  EXPECT_EQ(help.code, 0);
  for (const char* p : {"tiny", "tinyllama-1.1b", "llama-2-7b", "llama-2-13b", "llama-3-8b", "mistral-7b", "qwen2-7b",
                        "smollm2-135m"})
    EXPECT_NE(help.out.find(p), std::string::npos) << p;

  test::TempDir dir;
  for (const std::string& out : {dir.file("m.gguf"), dir.file("m-hf")}) {
    CliRun r = run_cli("synth --preset tiny --seed 3 -t 2 -o " + out);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("[1/"), std::string::npos) << "plain progress lines when not a TTY: " << r.err;
    CliRun run = run_cli("run -m " + out + " -p 'Once upon a time' -n 8 --temp 0 --ignore-eos --json");
    ASSERT_EQ(run.code, 0) << run.err;
    auto j = nlohmann::json::parse(run.out);
    const auto gen = j["generated_ids"].get<std::vector<int>>();
    EXPECT_EQ(gen.size(), 8u);
    for (int id : gen) EXPECT_TRUE(id >= 0 && id < 512);

    const std::string before = fs::is_directory(out) ? test::read_file(out + "/model.safetensors") : test::read_file(out);
    CliRun again = run_cli("synth --preset tiny --seed 4 -o " + out);
    EXPECT_EQ(again.code, 1);
    EXPECT_NE(again.err.find("already exists (use --force"), std::string::npos) << again.err;
    CliRun forced = run_cli("synth --preset tiny --seed 4 --force -o " + out);
    ASSERT_EQ(forced.code, 0) << forced.err;
    const std::string after = fs::is_directory(out) ? test::read_file(out + "/model.safetensors") : test::read_file(out);
    EXPECT_NE(before, after);
  }
  // Nothing but the outputs: no temporary files or directories left behind.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"m-hf", "m.gguf"}));

  CliRun dry = run_cli("synth --preset llama-3-8b --dry-run -o " + dir.file("big.gguf"));
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("rope_freqs.weight"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.file("big.gguf")));
  CliRun slash = run_cli("synth --preset tiny --force -o " + dir.file("m-hf/"));  // the directory itself
  EXPECT_EQ(slash.code, 0) << slash.err;
  EXPECT_TRUE(fs::exists(dir.file("m-hf/config.json")));
  CliRun not_model = run_cli("synth --preset tiny --force -o " + dir.path());
  EXPECT_EQ(not_model.code, 1);
  EXPECT_NE(not_model.err.find("without config.json"), std::string::npos) << not_model.err;
  EXPECT_TRUE(fs::exists(dir.file("m.gguf")));
  CliRun missing = run_cli("synth --preset tiny -o " + dir.file("no/such/dir/m.gguf"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace trapetum
