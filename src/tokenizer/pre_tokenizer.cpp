// Regex pre-tokenization with PCRE2 (JIT when available) and the GGUF pre-name pattern table.
#include "tokenizer/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>


namespace trapetum {
namespace {

// Llama-3 (tiktoken cl100k-style): case-insensitive contractions, numbers of 1-3 digits.
constexpr const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2/Qwen3: as Llama-3 with single digits.
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// HF Digits(individual_digits=true).
constexpr const char* kDigitPattern = R"(\p{N})";

// Unicode White_Space, the meaning of \s in HF's regex engine (Oniguruma). PCRE2 10.42's \s
// also matches U+180E (Mongolian vowel separator, White_Space only before Unicode 6.3).
constexpr const char* kSpaceClassBody = R"(\t-\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

// Rewrites \s (in and out of character classes) and \S (outside classes) to kSpaceClassBody.
std::string with_unicode_spaces(std::string_view p) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      ++i;
      if (e == 's') {
        out += in_class ? std::string(kSpaceClassBody) : str_cat("[", kSpaceClassBody, "]");
      } else if (e == 'S' && !in_class) {
        out += str_cat("[^", kSpaceClassBody, "]");
      } else {
        out.push_back('\\');
        out.push_back(e);
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out.push_back(c);
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') out.push_back(p[++i]);
      if (i + 1 < p.size() && p[i + 1] == ']') out.push_back(p[++i]);
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // [:alpha:]
      size_t end = p.find(":]", i + 2);
      if (end != std::string_view::npos) {
        out.append(p.substr(i, end + 2 - i));
        i = end + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<std::string> pre_patterns_for_gguf(const std::string& pre, bool* known, bool* nfc,
                                               bool* ignore_merges) {
  *known = true;
  *nfc = false;
  *ignore_merges = false;
  // Names and patterns as llama.cpp's llama-vocab.cpp maps them, with HF's GPT-2 pattern.
  if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe" || pre == "smaug-bpe" || pre == "falcon3") {
    *ignore_merges = pre != "smaug-bpe";
    return {kLlama3Pattern};
  }
  if (pre == "qwen2" || pre == "deepseek-r1-qwen") {
    *nfc = true;
    return {kQwen2Pattern};
  }
  if (pre == "smollm" || pre == "starcoder" || pre == "refact" || pre == "command-r") return {kDigitPattern, kGpt2Pattern};
  if (pre == "default" || pre == "gpt-2" || pre == "gpt2" || pre == "phi-2" || pre == "olmo" || pre == "jais") {
    return {kGpt2Pattern};
  }
  *known = false;
  return {kGpt2Pattern};
}

const char* supported_gguf_pre_names() {
  return "llama3, llama-v3, llama-bpe, smaug-bpe, falcon3, qwen2, deepseek-r1-qwen, smollm, starcoder, refact, "
         "command-r, default, gpt-2, gpt2, phi-2, olmo, jais";
}

std::string regex_escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/#").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

struct RegexSplitter::Step {
  pcre2_code* code = nullptr;
  SplitBehavior behavior = SplitBehavior::kIsolated;
};

RegexSplitter::~RegexSplitter() {
  for (Step& s : steps_) pcre2_code_free(s.code);
}

Result<std::unique_ptr<RegexSplitter>> RegexSplitter::create(const std::vector<std::string>& patterns,
                                                             const std::vector<SplitBehavior>& behaviors) {
  if (!behaviors.empty() && behaviors.size() != patterns.size()) {
    return make_error("pre_behaviors: expected ", patterns.size(), " entries (one per pre_regexes entry), got ",
                      behaviors.size());
  }
  std::unique_ptr<RegexSplitter> r(new RegexSplitter());
  for (size_t i = 0; i < patterns.size(); ++i) {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    const std::string pattern = with_unicode_spaces(patterns[i]);
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &err_offset, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return make_error("pre-tokenizer regex '", patterns[i], "' at offset ", err_offset, ": ",
                        reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional speed-up; the interpreter is the fallback
    r->steps_.push_back({code, behaviors.empty() ? SplitBehavior::kIsolated : behaviors[i]});
  }
  return r;
}

void RegexSplitter::split_one(const Step& step, std::string_view piece, void* match_data,
                              std::vector<std::string_view>* out) const {
  auto* md = static_cast<pcre2_match_data*>(match_data);
  struct Span {
    size_t begin, end;
    bool is_match;
  };
  std::vector<Span> spans;
  size_t offset = 0, gap_start = 0;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  while (offset < piece.size()) {
    int rc = pcre2_match(step.code, subject, piece.size(), offset, 0, md, nullptr);
    if (rc < 0) break;  // no (further) match; rc == 0 only means a small ovector
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t b = ov[0], e = ov[1];
    if (e == b) {  // empty match: step over one character
      offset = b + 1;
      while (offset < piece.size() && (uint8_t(piece[offset]) & 0xC0) == 0x80) ++offset;
      continue;
    }
    if (b > gap_start) spans.push_back({gap_start, b, false});
    spans.push_back({b, e, true});
    offset = gap_start = e;
  }
  if (gap_start < piece.size()) spans.push_back({gap_start, piece.size(), false});

  // Combine matches and gaps as HF's SplitDelimiterBehavior does.
  auto emit = [&](size_t b, size_t e) {
    if (e > b) out->push_back(piece.substr(b, e - b));
  };
  switch (step.behavior) {
    case SplitBehavior::kIsolated:
      for (const Span& s : spans) emit(s.begin, s.end);
      return;
    case SplitBehavior::kRemoved:
      for (const Span& s : spans)
        if (!s.is_match) emit(s.begin, s.end);
      return;
    case SplitBehavior::kMergedWithPrevious:
    case SplitBehavior::kContiguous: {
      // A match joins the piece before it: the first match of a run of matches with the gap
      // before it (MergedWithPrevious), or every match after the first with the one before
      // it (Contiguous).
      const bool contiguous = step.behavior == SplitBehavior::kContiguous;
      size_t cur_b = 0, cur_e = 0;
      bool have = false, prev_match = false;
      for (const Span& s : spans) {
        bool join = have && s.is_match && (contiguous ? prev_match : !prev_match);
        if (join) {
          cur_e = s.end;
        } else {
          if (have) emit(cur_b, cur_e);
          cur_b = s.begin, cur_e = s.end, have = true;
        }
        prev_match = s.is_match;
      }
      if (have) emit(cur_b, cur_e);
      return;
    }
    case SplitBehavior::kMergedWithNext: {
      // The first match of a run (from the right) joins the gap after it.
      std::vector<std::pair<size_t, size_t>> rev;
      bool prev_match = false;
      for (size_t i = spans.size(); i-- > 0;) {
        if (spans[i].is_match && !prev_match && !rev.empty()) {
          rev.back().first = spans[i].begin;
        } else {
          rev.emplace_back(spans[i].begin, spans[i].end);
        }
        prev_match = spans[i].is_match;
      }
      for (size_t i = rev.size(); i-- > 0;) emit(rev[i].first, rev[i].second);
      return;
    }
  }
}

std::vector<std::string_view> RegexSplitter::split(std::string_view text) const {
  std::vector<std::string_view> cur, next;
  if (!text.empty()) cur.push_back(text);
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  for (const Step& step : steps_) {
    next.clear();
    for (std::string_view piece : cur) split_one(step, piece, md, &next);
    cur.swap(next);
  }
  pcre2_match_data_free(md);
  return cur;
}

}  // namespace trapetum
