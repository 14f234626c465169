// Jinja lexer following jinja2's lexer.py: data/tag splitting with trim_blocks and
// lstrip_blocks, raw blocks, comments, and the expression tokens inside tags.
#include "tokenizer/jinja_lexer.h"

#include <cstring>

#include "tokenizer/jinja_text.h"
#include "tokenizer/unicode.h"

namespace trapetum::jinja {
namespace {

// Byte length of the whitespace code point at s[i] (Python's \s), or 0.
size_t space_len(const std::string& s, size_t i) {
  if (i >= s.size()) return 0;
  unsigned char c = s[i];
  if (c < 0x80) return py_isspace(c) ? 1 : 0;
  size_t n = utf8_valid_len(s, i);
  return (n && py_isspace(utf8_decode(s, i, n))) ? n : 0;
}

size_t skip_space(const std::string& s, size_t i) {
  while (size_t n = space_len(s, i)) i += n;
  return i;
}

bool is_all_space(const std::string& s, size_t b, size_t e) {
  while (b < e) {
    size_t n = space_len(s, b);
    if (n == 0) return false;
    b += n;
  }
  return true;
}

int count_newlines(const std::string& s, size_t b, size_t e) {
  int n = 0;
  for (size_t i = b; i < e; ++i) n += s[i] == '\n';
  return n;
}

bool starts_at(const std::string& s, size_t i, const char* lit) {
  return s.compare(i, std::strlen(lit), lit) == 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Letters of common scripts, which Python (and so jinja2) accepts in identifiers.
bool is_unicode_letter(char32_t c) {
  return c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
         (c >= 0x386 && c <= 0x3FF && c != 0x387) || (c >= 0x400 && c <= 0x52F && (c < 0x482 || c > 0x489)) ||
         (c >= 0x531 && c <= 0x587) || (c >= 0x5D0 && c <= 0x5EA) || (c >= 0x620 && c <= 0x64A) ||
         (c >= 0x3041 && c <= 0x30FF && c != 0x30FB) || (c >= 0x4E00 && c <= 0x9FFF) ||
         (c >= 0xAC00 && c <= 0xD7A3);
}

// Byte length of an identifier character at s[i] (start: no digits), or 0.
size_t name_char_len(const std::string& s, size_t i, bool start) {
  if (i >= s.size()) return 0;
  unsigned char c = s[i];
  if (c < 0x80) return (start ? is_name_start(char(c)) : is_name_char(char(c))) ? 1 : 0;
  size_t n = utf8_valid_len(s, i);
  return (n && is_unicode_letter(utf8_decode(s, i, n))) ? n : 0;
}

// Python's unicode-escape decoding of a string literal body.
Result<std::string> unescape(const std::string& body, int line) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 == body.size()) {
      out.push_back(c);
      continue;
    }
    char e = body[++i];
    switch (e) {
      case '\n': break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x':
      case 'u':
      case 'U': {
        size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (size_t k = 1; k <= digits; ++k) {
          char h = i + k < body.size() ? body[i + k] : '\0';
          int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                                        : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
          if (d < 0) return error_at(line, str_cat("truncated \\", e, " escape in string literal"));
          v = v * 16 + uint32_t(d);
        }
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
          return error_at(line, "illegal Unicode character in string literal");
        }
        utf8_append(&out, v);
        i += digits;
        break;
      }
      case 'N':
        return error_at(line, "\\N{...} escapes are not supported");
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = 0;
          size_t k = 0;
          while (k < 3 && i + k < body.size() && body[i + k] >= '0' && body[i + k] <= '7') {
            v = v * 8 + uint32_t(body[i + k] - '0');
            ++k;
          }
          utf8_append(&out, v);
          i += k - 1;
        } else {
          out.push_back('\\');
          out.push_back(e);
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string src) : s_(std::move(src)) {}

  Result<std::vector<Token>> run() {
    while (pos_ < s_.size()) TRY_STATUS(root());
    tokens_.push_back(Token{TokenType::kEof, line_, ""});
    return std::move(tokens_);
  }

 private:
  // Text up to the next tag, then the tag.
  Status root() {
    size_t open = pos_;
    while (true) {
      open = s_.find('{', open);
      if (open == std::string::npos || open + 1 >= s_.size()) {
        emit_data(pos_, s_.size(), 0);
        pos_ = s_.size();
        return Ok{};
      }
      char k = s_[open + 1];
      if (k == '{' || k == '%' || k == '#') break;
      ++open;
    }
    char kind = s_[open + 1];
    char sign = open + 2 < s_.size() ? s_[open + 2] : '\0';
    if (sign != '-' && sign != '+') sign = '\0';
    size_t raw_end = kind == '%' ? match_raw_begin(open) : 0;
    emit_stripped_text(pos_, open, sign, kind != '{');
    size_t after = open + 2 + (sign ? 1 : 0);
    if (raw_end) return raw(open, raw_end);
    if (kind == '#') return comment(after);
    tokens_.push_back(Token{kind == '%' ? TokenType::kBlockBegin : TokenType::kVarBegin, line_, ""});
    pos_ = after;
    return tag(kind == '%');
  }

  // Emits s_[b, e) as data, applying '-' (strip all trailing space) or lstrip_blocks.
  void emit_stripped_text(size_t b, size_t e, char sign, bool lstrip_applies) {
    size_t end = e;
    if (sign == '-') {
      while (end > b) {
        size_t k = end - 1;
        while (k > b && (static_cast<unsigned char>(s_[k]) & 0xC0) == 0x80) --k;
        if (space_len(s_, k) != end - k) break;
        end = k;
      }
    } else if (sign != '+' && lstrip_applies) {
      size_t nl = s_.rfind('\n', e == 0 ? 0 : e - 1);
      size_t l_pos = (nl == std::string::npos || nl < b) ? b : nl + 1;
      bool line_starting = b == 0 || s_[b - 1] == '\n';
      if ((l_pos > b || line_starting) && l_pos < e && is_all_space(s_, l_pos, e)) end = l_pos;
    }
    emit_data(b, end, count_newlines(s_, end, e));
  }

  void emit_data(size_t b, size_t e, int stripped_newlines) {
    if (e > b) tokens_.push_back(Token{TokenType::kData, line_, s_.substr(b, e - b)});
    line_ += count_newlines(s_, b, e) + stripped_newlines;
  }

  // {%(-|+|)\s*raw\s*(-%}\s*|%}) at i: returns the end of the match, or 0.
  size_t match_raw_begin(size_t i) {
    size_t p = i + 2;
    if (p < s_.size() && (s_[p] == '-' || s_[p] == '+')) ++p;
    p = skip_space(s_, p);
    if (!starts_at(s_, p, "raw") || (p + 3 < s_.size() && is_name_char(s_[p + 3]))) return 0;
    p = skip_space(s_, p + 3);
    if (starts_at(s_, p, "-%}")) return skip_space(s_, p + 3);
    if (starts_at(s_, p, "%}")) return p + 2;
    return 0;
  }

  // The body of {% raw %} (the tag spans [open, body)) up to {% endraw %}, as data.
  Status raw(size_t open, size_t body) {
    line_ += count_newlines(s_, open, body);
    for (size_t i = s_.find("{%", body); i != std::string::npos; i = s_.find("{%", i + 1)) {
      size_t p = i + 2;
      char sign = (p < s_.size() && (s_[p] == '-' || s_[p] == '+')) ? s_[p] : '\0';
      if (sign) ++p;
      p = skip_space(s_, p);
      if (!starts_at(s_, p, "endraw")) continue;
      p = skip_space(s_, p + 6);
      size_t end;
      if (starts_at(s_, p, "+%}")) {
        end = p + 3;
      } else if (starts_at(s_, p, "-%}")) {
        end = skip_space(s_, p + 3);
      } else if (starts_at(s_, p, "%}")) {
        end = p + 2 + (starts_at(s_, p + 2, "\n") ? 1 : 0);
      } else {
        continue;
      }
      emit_stripped_text(body, i, sign, true);
      line_ += count_newlines(s_, i, end);
      pos_ = end;
      return Ok{};
    }
    return error_at(line_, "missing end of raw directive");
  }

  Status comment(size_t body) {
    for (size_t i = body; i + 1 < s_.size(); ++i) {
      size_t end = 0;
      if (s_[i] == '+' && starts_at(s_, i + 1, "#}")) {
        end = i + 3;
      } else if (s_[i] == '-' && starts_at(s_, i + 1, "#}")) {
        end = skip_space(s_, i + 3);
      } else if (s_[i] == '#' && s_[i + 1] == '}') {
        end = i + 2 + (starts_at(s_, i + 2, "\n") ? 1 : 0);
      }
      if (end) {
        line_ += count_newlines(s_, pos_, end);
        pos_ = end;
        return Ok{};
      }
    }
    return error_at(line_, "missing end of comment tag '#}'");
  }

  // Expression tokens up to the tag end ('%}' or '}}' with brackets balanced).
  Status tag(bool block) {
    std::string balance;  // expected closing brackets
    while (true) {
      if (balance.empty() && match_tag_end(block)) return Ok{};
      size_t ws = skip_space(s_, pos_);
      if (ws != pos_) {
        line_ += count_newlines(s_, pos_, ws);
        pos_ = ws;
        continue;
      }
      if (pos_ >= s_.size()) {
        return error_at(line_, str_cat("unexpected end of template, expected '",
                                       block ? "%}" : "}}", "'"));
      }
      char c = s_[pos_];
      if (is_digit(c)) {
        TRY_STATUS(number());
      } else if (name_char_len(s_, pos_, true)) {
        size_t e = pos_;
        while (size_t n = name_char_len(s_, e, e == pos_)) e += n;
        tokens_.push_back(Token{TokenType::kName, line_, s_.substr(pos_, e - pos_)});
        pos_ = e;
      } else if (c == '\'' || c == '"') {
        TRY_STATUS(string_literal(c));
      } else {
        TRY_STATUS(op(&balance));
      }
    }
  }

  bool match_tag_end(bool block) {
    size_t end = 0;
    if (block) {
      if (starts_at(s_, pos_, "+%}")) {
        end = pos_ + 3;
      } else if (starts_at(s_, pos_, "-%}")) {
        end = skip_space(s_, pos_ + 3);
      } else if (starts_at(s_, pos_, "%}")) {
        end = pos_ + 2 + (starts_at(s_, pos_ + 2, "\n") ? 1 : 0);
      }
    } else if (starts_at(s_, pos_, "-}}")) {
      end = skip_space(s_, pos_ + 3);
    } else if (starts_at(s_, pos_, "}}")) {
      end = pos_ + 2;
    }
    if (!end) return false;
    tokens_.push_back(Token{block ? TokenType::kBlockEnd : TokenType::kVarEnd, line_, ""});
    line_ += count_newlines(s_, pos_, end);
    pos_ = end;
    return true;
  }

  // Digits with '_' separators: the length of (\d+_)*\d+ at i, or 0.
  size_t digit_run(size_t i) {
    size_t p = i, good = 0;
    while (p < s_.size() && is_digit(s_[p])) {
      while (p < s_.size() && is_digit(s_[p])) ++p;
      good = p - i;
      if (p + 1 < s_.size() && s_[p] == '_' && is_digit(s_[p + 1])) {
        ++p;
      } else {
        break;
      }
    }
    return good;
  }

  Status number() {
    size_t start = pos_;
    bool after_dot = start > 0 && s_[start - 1] == '.';
    size_t int_len = digit_run(start);
    size_t p = start + int_len;
    size_t frac = 0, exp = 0;
    if (!after_dot) {
      if (p < s_.size() && s_[p] == '.') frac = digit_run(p + 1);
      size_t q = frac ? p + 1 + frac : p;
      if (q < s_.size() && (s_[q] == 'e' || s_[q] == 'E')) {
        size_t r = q + 1;
        if (r < s_.size() && (s_[r] == '+' || s_[r] == '-')) ++r;
        size_t d = digit_run(r);
        if (d) exp = r + d - q;
      }
    }
    if (frac || exp) {
      size_t end = p + (frac ? frac + 1 : 0) + exp;
      std::string text;
      for (size_t i = start; i < end; ++i) {
        if (s_[i] != '_') text.push_back(s_[i]);
      }
      Token t{TokenType::kFloat, line_, text};
      t.float_value = std::strtod(text.c_str(), nullptr);
      tokens_.push_back(t);
      pos_ = end;
      return Ok{};
    }
    int base = 10;
    if (s_[start] == '0' && start + 1 < s_.size()) {
      char b = char(s_[start + 1] | 0x20);
      base = b == 'x' ? 16 : b == 'o' ? 8 : b == 'b' ? 2 : 10;
    }
    // Decimal: [1-9](_?\d)* or 0; prefixed: 0x(_?[0-9a-f])+ and friends.
    size_t e = base == 10 ? start + int_len : start + 2;
    if (base == 10 && s_[start] == '0') {  // 0(_?0)*: "00" is one token, "01" is two
      e = start + 1;
      while (e < s_.size() && (s_[e] == '0' || (s_[e] == '_' && e + 1 < s_.size() && s_[e + 1] == '0'))) ++e;
    }
    uint64_t v = 0;
    for (size_t i = base == 10 ? start : start + 2;; ++i) {
      if (base == 10 && i >= e) break;
      if (i + 1 < s_.size() && s_[i] == '_') continue;
      char c = i < s_.size() ? char(s_[i] | 0x20) : '\0';
      int d = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0 || d >= base) break;
      if (v > (uint64_t(INT64_MAX) - uint64_t(d)) / uint64_t(base)) {
        return error_at(line_, "integer literal is too large (the limit is 64-bit)");
      }
      v = v * uint64_t(base) + uint64_t(d);
      if (base != 10) e = i + 1;
    }
    if (base != 10 && e == start + 2) return error_at(line_, "invalid integer literal");
    Token t{TokenType::kInteger, line_, s_.substr(start, e - start)};
    t.int_value = int64_t(v);
    tokens_.push_back(t);
    pos_ = e;
    return Ok{};
  }

  Status string_literal(char quote) {
    size_t i = pos_ + 1;
    while (i < s_.size() && s_[i] != quote) i += (s_[i] == '\\') ? 2 : 1;
    if (i >= s_.size()) return error_at(line_, "unterminated string literal");
    TRY(std::string text, unescape(s_.substr(pos_ + 1, i - pos_ - 1), line_));
    tokens_.push_back(Token{TokenType::kString, line_, std::move(text)});
    line_ += count_newlines(s_, pos_, i);
    pos_ = i + 1;
    return Ok{};
  }

  Status op(std::string* balance) {
    static constexpr const char* kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* two : kTwo) {
      if (starts_at(s_, pos_, two)) {
        tokens_.push_back(Token{TokenType::kOperator, line_, two});
        pos_ += 2;
        return Ok{};
      }
    }
    char c = s_[pos_];
    if (!std::strchr("+-*/%~[](){}<>=.:|,;", c)) {
      size_t n = utf8_valid_len(s_, pos_);
      return error_at(line_, str_cat("unexpected char '", s_.substr(pos_, n ? n : 1), "'"));
    }
    if (c == '(' || c == '[' || c == '{') {
      balance->push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance->empty()) return error_at(line_, str_cat("unexpected '", c, "'"));
      if (balance->back() != c) {
        return error_at(line_, str_cat("unexpected '", c, "', expected '", balance->back(), "'"));
      }
      balance->pop_back();
    }
    tokens_.push_back(Token{TokenType::kOperator, line_, std::string(1, c)});
    ++pos_;
    return Ok{};
  }

  std::string s_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

// \r\n and \r become \n; one trailing newline is dropped (keep_trailing_newline=False).
std::string normalize_newlines(const std::string& src) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      out.push_back(src[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

Error error_at(int line, const std::string& message) {
  return make_error("chat template line ", line, ": ", message);
}

Error locate(int line, Error e) {
  if (e.message.rfind("chat template line ", 0) == 0) return e;
  return error_at(line, e.message);
}

Result<std::vector<Token>> tokenize(const std::string& source) {
  return Lexer(normalize_newlines(source)).run();
}

}  // namespace trapetum::jinja
