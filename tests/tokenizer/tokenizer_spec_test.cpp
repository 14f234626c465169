// Spec sources on small hand-made inputs: tokenizer.json / tokenizer_config.json and GGUF
// metadata, valid ones and broken ones whose errors must name the file and the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {
namespace {

using nlohmann::json;

const char* kSpace = "\xE2\x96\x81";

// A tiny SentencePiece-style tokenizer.json: "ab" merges, ▁ prefix, <unk>/<s>/</s> added.
json small_tokenizer_json() {
  json j;
  j["model"] = {{"type", "BPE"},
                {"vocab", {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}, {kSpace, 3}, {"a", 4}, {"b", 5}, {"ab", 6},
                           {std::string(kSpace) + "ab", 7}}},
                {"merges", {"a b", std::string(kSpace) + " ab"}},
                {"unk_token", "<unk>"}};
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers", {{{"type", "Prepend"}, {"prepend", kSpace}},
                                      {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpace}}}}};
  j["added_tokens"] = json::array();
  int id = 0;
  for (const char* t : {"<unk>", "<s>", "</s>"}) {
    j["added_tokens"].push_back({{"id", id++}, {"content", t}, {"special", true}});
  }
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                     {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                         {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
  return j;
}

json small_config() { return {{"bos_token", "<s>"}, {"eos_token", {{"content", "</s>"}}}}; }

struct Files {
  test::TempDir dir;
  std::string tok, cfg;
  Files(const json& t, const json& c) : tok(dir.write("tokenizer.json", t.dump())), cfg(dir.write("tokenizer_config.json", c.dump())) {}
};

// The error of loading (t, c); fails the test if loading succeeds.
std::string hf_error(const json& t, const json& c = small_config()) {
  Files f(t, c);
  auto spec = tokenizer_spec_from_hf(f.tok, f.cfg);
  EXPECT_FALSE(spec.ok());
  return spec.ok() ? "" : spec.error();
}

#define EXPECT_MENTIONS(msg, a, b)                                   \
  do {                                                               \
    std::string m_ = (msg);                                          \
    EXPECT_NE(m_.find(a), std::string::npos) << m_;                  \
    EXPECT_NE(m_.find(b), std::string::npos) << m_;                  \
  } while (0)

TEST(TokenizerSpecHf, SmallTokenizerWorks) {
  for (bool pair_merges : {false, true}) {
    json t = small_tokenizer_json();
    if (pair_merges) t["model"]["merges"] = json::array({json::array({"a", "b"}), json::array({kSpace, "ab"})});
    json c = small_config();
    c["chat_template"] = {{{"name", "tool_use"}, {"template", "T"}}, {{"name", "default"}, {"template", "D"}}};
    Files f(t, c);
    auto spec = tokenizer_spec_from_hf(f.tok, f.cfg);
    ASSERT_TRUE(spec.ok()) << spec.error();
    EXPECT_EQ(spec->chat_template, "D");
    EXPECT_TRUE(spec->add_bos);
    EXPECT_EQ(spec->eos_id, 2);
    auto tok = Tokenizer::create(std::move(spec).value());
    ASSERT_TRUE(tok.ok()) << tok.error();
    EXPECT_EQ(tok.value()->encode("ab ab", true), (std::vector<int32_t>{1, 7, 7}));
    EXPECT_EQ(tok.value()->encode("abc", false), (std::vector<int32_t>{7, 0}));  // no byte tokens: <unk>
    EXPECT_EQ(tok.value()->decode({1, 7, 7}, true), "ab ab");
  }
  json c = small_config();
  c["add_bos_token"] = false;
  Files f(small_tokenizer_json(), c);
  auto spec = tokenizer_spec_from_hf(f.tok, f.cfg);
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_FALSE(spec->add_bos);  // tokenizer_config.json overrides the post-processor
}

TEST(TokenizerSpecHf, MissingAndMalformedFiles) {
  test::TempDir dir;
  auto r = tokenizer_spec_from_hf(dir.file("tokenizer.json"), dir.file("tokenizer_config.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("tokenizer.json"), std::string::npos) << r.error();

  std::string bad = dir.write("tokenizer.json", "{\"model\": {\"vocab\": [1, 2,}");
  r = tokenizer_spec_from_hf(bad, "");
  ASSERT_FALSE(r.ok());
  EXPECT_MENTIONS(r.error(), "tokenizer.json", "malformed JSON");

  std::string good = dir.write("tokenizer.json", small_tokenizer_json().dump());
  r = tokenizer_spec_from_hf(good, dir.file("tokenizer_config.json"));  // config absent
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("tokenizer_config.json"), std::string::npos) << r.error();
  dir.write("tokenizer_config.json", "[1, 2");
  r = tokenizer_spec_from_hf(good, dir.file("tokenizer_config.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_MENTIONS(r.error(), "tokenizer_config.json", "malformed JSON");
  EXPECT_TRUE(tokenizer_spec_from_hf(good, "").ok());  // no config: the post-processor decides
}

TEST(TokenizerSpecHf, WrongFieldTypes) {
  json t = small_tokenizer_json();
  t["model"]["vocab"] = json::array({1, 2});
  EXPECT_MENTIONS(hf_error(t), "tokenizer.json", "model.vocab");

  t = small_tokenizer_json();
  t["model"]["vocab"]["a"] = "four";
  EXPECT_MENTIONS(hf_error(t), "tokenizer.json", "model.vocab[\"a\"]");

  t = small_tokenizer_json();
  t["model"]["merges"][1] = 17;
  EXPECT_MENTIONS(hf_error(t), "tokenizer.json", "model.merges[1]");

  t = small_tokenizer_json();
  t["model"]["type"] = "Unigram";
  EXPECT_MENTIONS(hf_error(t), "tokenizer.json", "model.type");

  t = small_tokenizer_json();
  t["added_tokens"][1]["id"] = "one";
  EXPECT_MENTIONS(hf_error(t), "tokenizer.json", "added_tokens[1].id");

  t = small_tokenizer_json();
  t["normalizer"]["normalizers"][1] = {{"type", "Lowercase"}};
  EXPECT_MENTIONS(hf_error(t), "tokenizer.json", "normalizer.normalizers[1].type");

  t = small_tokenizer_json();
  t["post_processor"]["single"] = "oops";
  EXPECT_MENTIONS(hf_error(t), "tokenizer.json", "post_processor.single");

  json c = small_config();
  c["add_bos_token"] = "yes";
  EXPECT_MENTIONS(hf_error(small_tokenizer_json(), c), "tokenizer_config.json", "add_bos_token");
  c = small_config();
  c["chat_template"] = 3;
  EXPECT_MENTIONS(hf_error(small_tokenizer_json(), c), "tokenizer_config.json", "chat_template");
  c = small_config();
  c["eos_token"] = "<|not_here|>";
  EXPECT_MENTIONS(hf_error(small_tokenizer_json(), c), "tokenizer_config.json", "eos_token");
}

// A GGUF file with a llama vocabulary: <unk> <s> </s> ▁ a b ab ▁ab (scores favour longer pieces).
test::GgufBuilder small_gguf() {
  test::GgufBuilder b;
  b.str("general.architecture", "llama");
  b.str("tokenizer.ggml.model", "llama");
  b.str_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", kSpace, "a", "b", "ab", std::string(kSpace) + "ab"});
  b.f32_array("tokenizer.ggml.scores", {0, 0, 0, -1, -2, -3, -4, -5});
  b.i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1, 1, 1});
  b.u32("tokenizer.ggml.bos_token_id", 1);
  b.u32("tokenizer.ggml.eos_token_id", 2);
  b.u32("tokenizer.ggml.padding_token_id", 0xFFFFFFFFu);  // "none", as converters write it
  return b;
}

Result<TokenizerSpec> spec_of(const test::GgufBuilder& b, std::string* path) {
  test::TempDir dir;
  *path = dir.write("vocab.gguf", b.build());
  auto g = GgufFile::open(*path);
  if (!g.ok()) return std::move(g).take_error();
  return tokenizer_spec_from_gguf(*g.value());
}

TEST(TokenizerSpecGguf, SmallVocabularyWorks) {
  std::string path;
  auto spec = spec_of(small_gguf(), &path);
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_TRUE(spec->add_bos);
  EXPECT_TRUE(spec->add_space_prefix);
  EXPECT_EQ(spec->pad_id, -1);
  auto tok = Tokenizer::create(std::move(spec).value());
  ASSERT_TRUE(tok.ok()) << tok.error();
  EXPECT_EQ(tok.value()->encode("ab ab", true), (std::vector<int32_t>{1, 7, 7}));
  EXPECT_EQ(tok.value()->decode({1, 7, 7}, false), "<s> ab ab");
}

TEST(TokenizerSpecGguf, BrokenMetadataNamesFileAndKey) {
  std::string path;
  test::GgufBuilder b;
  b.str("tokenizer.ggml.model", "llama");
  auto r = spec_of(b, &path);
  ASSERT_FALSE(r.ok());
  EXPECT_MENTIONS(r.error(), "tokenizer.ggml.tokens", ".gguf");

  test::GgufBuilder c;
  c.str("tokenizer.ggml.model", "llama");
  c.str_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"});
  c.f32_array("tokenizer.ggml.scores", {0, 0, 0});
  c.u32("tokenizer.ggml.bos_token_id", 70000);
  r = spec_of(c, &path);
  ASSERT_FALSE(r.ok());
  EXPECT_MENTIONS(r.error(), "tokenizer.ggml.bos_token_id", ".gguf");
  EXPECT_NE(r.error().find("70000"), std::string::npos) << r.error();

  test::GgufBuilder d;
  d.str("tokenizer.ggml.model", "llama");
  d.str_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"});
  d.f32_array("tokenizer.ggml.scores", {0, 0});
  r = spec_of(d, &path);
  ASSERT_FALSE(r.ok());
  EXPECT_MENTIONS(r.error(), "tokenizer.ggml.scores", "expected 3");

  test::GgufBuilder e;
  e.str("tokenizer.ggml.model", "bert");
  r = spec_of(e, &path);
  ASSERT_FALSE(r.ok());
  EXPECT_MENTIONS(r.error(), "tokenizer.ggml.model", "bert");

  test::GgufBuilder f;
  f.str("tokenizer.ggml.model", "gpt2");
  f.str_array("tokenizer.ggml.tokens", {"a", "b"});
  r = spec_of(f, &path);
  ASSERT_FALSE(r.ok());
  EXPECT_MENTIONS(r.error(), "tokenizer.ggml.merges", path);

  test::GgufBuilder g;
  g.str("tokenizer.ggml.model", "llama");
  g.str_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"});
  g.f32_array("tokenizer.ggml.scores", {0, 0, 0});
  g.i32_array("tokenizer.ggml.token_type", {2, 3, 9});
  r = spec_of(g, &path);
  ASSERT_FALSE(r.ok());
  EXPECT_MENTIONS(r.error(), "tokenizer.ggml.token_type[2]", path);

  test::GgufBuilder h;
  h.str("tokenizer.ggml.model", "llama");
  h.u32("tokenizer.ggml.tokens", 5);  // wrong type: the reader's error names the key
  r = spec_of(h, &path);
  ASSERT_FALSE(r.ok());
  EXPECT_MENTIONS(r.error(), "tokenizer.ggml.tokens", path);
}

TEST(TokenizerSpecGguf, ByteLevelPreNames) {
  test::GgufBuilder b;
  b.str("tokenizer.ggml.model", "gpt2");
  b.str("tokenizer.ggml.pre", "qwen2");
  b.str_array("tokenizer.ggml.tokens", {"a", "b", "ab", "<|im_end|>"});
  b.i32_array("tokenizer.ggml.token_type", {1, 1, 1, 3});
  b.str_array("tokenizer.ggml.merges", {"a b"});
  b.u32("tokenizer.ggml.eot_token_id", 3);
  std::string path;
  auto spec = spec_of(b, &path);
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_TRUE(spec->normalize_nfc);
  EXPECT_FALSE(spec->add_bos);
  EXPECT_EQ(spec->eog_ids, (std::vector<int32_t>{3}));
  auto tok = Tokenizer::create(std::move(spec).value());
  ASSERT_TRUE(tok.ok()) << tok.error();
  EXPECT_EQ(tok.value()->encode("abab<|im_end|>", true), (std::vector<int32_t>{2, 2, 3}));
  EXPECT_TRUE(tok.value()->is_end_of_generation(3));
}

TEST(TokenizerSpecCreate, RejectsInconsistentSpecs) {
  TokenizerSpec s;
  s.tokens = {"a", "b"};
  s.scores = {0, 0};
  s.bos_id = 5;
  auto r = Tokenizer::create(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("bos_id"), std::string::npos) << r.error();
  s.bos_id = -1;
  s.token_types = {TokenType::kNormal};
  r = Tokenizer::create(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("token_types"), std::string::npos) << r.error();
  s.token_types.clear();
  s.kind = TokenizerSpec::Kind::kByteLevelBpe;
  s.merges = {"a b"};
  s.pre_regexes = {"[unclosed"};
  r = Tokenizer::create(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("[unclosed"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace trapetum
