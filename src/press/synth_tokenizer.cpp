// Synthetic byte-level BPE: learning merges from the built-in text, and exporting the
// vocabulary as HF tokenizer files and GGUF metadata.
#include "press/synth_tokenizer.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

namespace trapetum {

std::string_view synth_training_text();  // synth_corpus.cpp

namespace {

using nlohmann::ordered_json;

// BOS, EOS, ChatML start, ChatML end. The Qwen2 style names EOS as Qwen2 does, because
// transformers' Qwen2 tokenizer adds "<|endoftext|>" as a new token when the vocabulary lacks it.
constexpr const char* kSpecials[] = {"<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>"};
constexpr const char* kQwen2Eos = "<|endoftext|>";
constexpr int kNumSpecials = 4;
// Qwen2's split pattern, as in its tokenizer.json.
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the rest map to
// U+0100 upwards in byte order.
std::vector<std::string> byte_pieces() {
  std::vector<std::string> pieces(256);
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    append_utf8(&pieces[b], printable ? b : next++);
  }
  return pieces;
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// An ASCII approximation of GPT-2's split pattern, good enough to learn merges that the real
// pattern's pre-tokens can use: contractions, " ?letters", " ?digits", " ?other", spaces.
std::vector<std::string> pre_tokens(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    if (text[i] == '\'' && i + 1 < text.size() && is_letter(text[i + 1])) {
      j = i + 1;
      while (j < text.size() && is_letter(text[j]) && j - i < 3) ++j;
    } else if (is_space(text[i]) && !(text[i] == ' ' && i + 1 < text.size() && !is_space(text[i + 1]))) {
      while (j < text.size() && is_space(text[j])) ++j;
    } else {
      if (text[j] == ' ') ++j;
      auto kind = [](char c) { return is_letter(c) ? 0 : is_digit(c) ? 1 : is_space(c) ? 3 : 2; };
      const int k = kind(text[j]);
      while (j < text.size() && kind(text[j]) == k) ++j;
    }
    out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// Learns merges until max_tokens tokens exist or no pair occurs twice (most frequent pair
// first, ties to the smallest ids). A merge whose result is already a token reuses its id.
void learn_merges(size_t max_tokens, SynthVocab* v) {
  std::map<std::string, int> counts;
  for (const auto& w : pre_tokens(synth_training_text())) ++counts[w];
  std::vector<std::pair<std::vector<int32_t>, int>> words;
  for (const auto& [w, n] : counts) {
    std::vector<int32_t> ids;
    for (unsigned char c : w) ids.push_back(c);
    words.emplace_back(std::move(ids), n);
  }
  std::map<std::string, int32_t> ids_of;
  for (size_t i = 0; i < v->tokens.size(); ++i) ids_of[v->tokens[i]] = int32_t(i);
  while (v->tokens.size() < max_tokens) {
    std::map<std::pair<int32_t, int32_t>, int> pairs;
    for (const auto& [ids, n] : words)
      for (size_t i = 0; i + 1 < ids.size(); ++i) pairs[{ids[i], ids[i + 1]}] += n;
    std::pair<int32_t, int32_t> best{-1, -1};
    int best_n = 1;
    for (const auto& [p, n] : pairs)
      if (n > best_n) best = p, best_n = n;  // map order: the first of equal counts has the smallest ids
    if (best.first < 0) break;
    const std::string& left = v->tokens[size_t(best.first)];
    const std::string& right = v->tokens[size_t(best.second)];
    v->merges.push_back(left + " " + right);
    auto [it, added] = ids_of.emplace(left + right, int32_t(v->tokens.size()));
    if (added) v->tokens.push_back(it->first);
    const int32_t id = it->second;
    for (auto& [ids, n] : words) {
      std::vector<int32_t> next;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i + 1 < ids.size() && ids[i] == best.first && ids[i + 1] == best.second) {
          next.push_back(id);
          ++i;
        } else {
          next.push_back(ids[i]);
        }
      }
      ids = std::move(next);
    }
  }
}

}  // namespace

Result<SynthVocab> synth_vocab(int vocab_size, SynthPreTokenizer pre) {
  if (vocab_size < 256 + kNumSpecials)
    return make_error("vocab size ", vocab_size, " is too small: a byte-level vocabulary needs at least ",
                      256 + kNumSpecials, " tokens");
  SynthVocab v;
  v.pre = pre;
  v.tokens = byte_pieces();
  learn_merges(size_t(vocab_size - kNumSpecials), &v);
  const int32_t first_special = int32_t(v.tokens.size());
  for (const char* s : kSpecials) v.tokens.emplace_back(s);
  if (pre == SynthPreTokenizer::kQwen2) v.tokens[size_t(first_special + 1)] = kQwen2Eos;
  v.bos_id = first_special;
  v.eos_id = first_special + 1;
  v.im_start_id = first_special + 2;
  v.im_end_id = first_special + 3;
  v.n_real = int32_t(v.tokens.size());
  v.special.assign(size_t(vocab_size), false);
  for (int i = 0; i < kNumSpecials; ++i) v.special[size_t(first_special + i)] = true;
  while (int(v.tokens.size()) < vocab_size) v.tokens.push_back("<unused_" + std::to_string(v.tokens.size()) + ">");
  return v;
}

std::string synth_chat_template() {
  return "{{ bos_token }}{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
         "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}"
         "{{ '<|im_start|>assistant\\n' }}{% endif %}";
}

std::string synth_hf_tokenizer_json(const SynthVocab& v) {
  ordered_json added = ordered_json::array();
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (!v.special[i]) continue;
    added.push_back({{"id", i}, {"content", v.tokens[i]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  ordered_json vocab = ordered_json::object();
  for (size_t i = 0; i < v.tokens.size(); ++i) vocab[v.tokens[i]] = i;
  const std::string& bos = v.tokens[size_t(v.bos_id)];
  ordered_json bos_item = {{"SpecialToken", {{"id", bos}, {"type_id", 0}}}};
  ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added;
  if (v.pre == SynthPreTokenizer::kQwen2) {
    j["normalizer"] = {{"type", "NFC"}};
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", kQwen2Pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};
  } else {
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  }
  j["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {bos_item, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"pair", {bos_item, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, bos_item,
                {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
      {"special_tokens", {{bos, {{"id", bos}, {"ids", {v.bos_id}}, {"tokens", {bos}}}}}}};
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  j["model"] = {{"type", "BPE"},         {"dropout", nullptr},         {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},     {"byte_fallback", false},     {"ignore_merges", false},
                {"vocab", vocab},        {"merges", v.merges}};
  return j.dump(1, '\t') + "\n";
}

std::string synth_hf_tokenizer_config_json(const SynthVocab& v, int max_length) {
  ordered_json decoder = ordered_json::object();
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (!v.special[i]) continue;
    decoder[std::to_string(i)] = {{"content", v.tokens[i]}, {"lstrip", false}, {"normalized", false},
                                  {"rstrip", false}, {"single_word", false}, {"special", true}};
  }
  ordered_json j;
  j["added_tokens_decoder"] = decoder;
  j["bos_token"] = v.tokens[size_t(v.bos_id)];
  j["eos_token"] = v.tokens[size_t(v.eos_id)];
  j["pad_token"] = v.tokens[size_t(v.eos_id)];
  j["chat_template"] = synth_chat_template();
  j["clean_up_tokenization_spaces"] = false;
  j["model_max_length"] = max_length;
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  return j.dump(2) + "\n";
}

void add_synth_gguf_tokenizer(const SynthVocab& v, GgufMetadata* kv) {
  std::vector<int32_t> types(v.tokens.size());
  for (size_t i = 0; i < types.size(); ++i) types[i] = v.special[i] ? 3 : 1;  // control : normal
  kv->emplace_back("tokenizer.ggml.model", gguf_string("gpt2"));
  kv->emplace_back("tokenizer.ggml.pre", gguf_string(v.pre == SynthPreTokenizer::kQwen2 ? "qwen2" : "gpt-2"));
  kv->emplace_back("tokenizer.ggml.tokens", gguf_string_array(v.tokens));
  kv->emplace_back("tokenizer.ggml.token_type", gguf_i32_array(types));
  kv->emplace_back("tokenizer.ggml.merges", gguf_string_array(v.merges));
  kv->emplace_back("tokenizer.ggml.bos_token_id", gguf_u32(uint32_t(v.bos_id)));
  kv->emplace_back("tokenizer.ggml.eos_token_id", gguf_u32(uint32_t(v.eos_id)));
  kv->emplace_back("tokenizer.ggml.padding_token_id", gguf_u32(uint32_t(v.eos_id)));
  kv->emplace_back("tokenizer.ggml.eot_token_id", gguf_u32(uint32_t(v.im_end_id)));
  kv->emplace_back("tokenizer.ggml.add_bos_token", gguf_bool(true));
  kv->emplace_back("tokenizer.ggml.add_eos_token", gguf_bool(false));
  kv->emplace_back("tokenizer.chat_template", gguf_string(synth_chat_template()));
}

}  // namespace trapetum
