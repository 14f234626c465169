// Python str semantics on UTF-8 for the Jinja interpreter (see jinja_text.h).
#include "tokenizer/jinja_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "tokenizer/unicode.h"

namespace trapetum::jinja {
namespace {

bool is_printable(char32_t c) {
  if (c < 0x20 || c == 0x7F) return false;
  if (c < 0x7F) return true;
  if (c <= 0xA0 || c == 0xAD) return false;
  if ((c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD || c == 0x70F || c == 0x1680 ||
      c == 0x180E)
    return false;
  if ((c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F))
    return false;
  if (c == 0x3000 || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) || c == 0xFFFE || c == 0xFFFF)
    return false;
  if ((c >= 0xD800 && c <= 0xF8FF) || c >= 0xF0000) return false;
  if (c == 0x110BD || (c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE007F)) return false;
  return true;
}

void append_hex(std::string* out, char prefix, uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\%c%0*x", prefix, digits, v);
  out->append(buf);
}

}  // namespace

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      out.push_back(char32_t(s[i++]));
      continue;
    }
    size_t n = utf8_valid_len(s, i);
    if (n == 0) {
      out.push_back(kReplacementChar);
      i += utf8_invalid_len(s, i);
    } else {
      out.push_back(utf8_decode(s, i, n));
      i += n;
    }
  }
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(char(c));
    } else {
      utf8_append(&out, c);
    }
  }
  return out;
}

size_t cp_offset(std::string_view s, int64_t index) {
  size_t pos = 0;
  int64_t seen = 0;
  for (pos = 0; pos < s.size(); ++pos) {
    if ((static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) continue;
    if (seen == index) return pos;
    ++seen;
  }
  return s.size();
}

size_t cp_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

size_t find_text(std::string_view s, std::string_view needle, size_t pos) {
  if (pos > s.size()) return std::string_view::npos;
  if (needle.empty()) return pos;
  // glibc's memmem is the two-way algorithm: linear time.
  const void* hit = memmem(s.data() + pos, s.size() - pos, needle.data(), needle.size());
  return hit ? size_t(static_cast<const char*>(hit) - s.data()) : std::string_view::npos;
}

size_t rfind_text(std::string_view s, std::string_view needle) {
  std::string rs(s.rbegin(), s.rend()), rn(needle.rbegin(), needle.rend());
  size_t hit = find_text(rs, rn);
  return hit == std::string::npos ? hit : s.size() - hit - needle.size();
}

bool py_isspace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left,
                     bool right) {
  std::u32string set = chars ? to_u32(*chars) : std::u32string();
  std::sort(set.begin(), set.end());
  auto strip_it = [&](char32_t c) {
    return chars ? std::binary_search(set.begin(), set.end(), c) : py_isspace(c);
  };
  // Decodes only the code points at the two ends (input is valid UTF-8).
  auto decode_at = [&](size_t i) {
    size_t n = utf8_valid_len(s, i);
    return std::pair<char32_t, size_t>(n ? utf8_decode(s, i, n) : kReplacementChar, n ? n : 1);
  };
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e) {
      auto [c, n] = decode_at(b);
      if (!strip_it(c)) break;
      b += n;
    }
  }
  if (right) {
    while (e > b) {
      size_t k = e - 1;
      while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
      if (!strip_it(decode_at(k).first)) break;
      e = k;
    }
  }
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit, bool from_right) {
  std::vector<std::string> out;
  if (sep) {
    // rsplit: split the byte-reversed text on the reversed separator, then reverse back.
    std::string text = from_right ? std::string(s.rbegin(), s.rend()) : std::string(s);
    std::string needle = from_right ? std::string(sep->rbegin(), sep->rend()) : *sep;
    size_t pos = 0;
    while (maxsplit < 0 || int64_t(out.size()) < maxsplit) {
      size_t hit = find_text(text, needle, pos);
      if (hit == std::string::npos) break;
      out.push_back(text.substr(pos, hit - pos));
      pos = hit + needle.size();
    }
    out.push_back(text.substr(pos));
    if (from_right) {
      for (std::string& piece : out) std::reverse(piece.begin(), piece.end());
      std::reverse(out.begin(), out.end());
    }
    return out;
  }
  std::u32string u = to_u32(s);
  if (!from_right) {
    size_t i = 0, n = u.size();
    while (true) {
      while (i < n && py_isspace(u[i])) ++i;
      if (i == n) break;
      if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
        out.push_back(to_utf8(std::u32string_view(u).substr(i)));
        break;
      }
      size_t j = i;
      while (j < n && !py_isspace(u[j])) ++j;
      out.push_back(to_utf8(std::u32string_view(u).substr(i, j - i)));
      i = j;
    }
    return out;
  }
  size_t e = u.size();
  while (true) {
    while (e > 0 && py_isspace(u[e - 1])) --e;
    if (e == 0) break;
    if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
      out.push_back(to_utf8(std::u32string_view(u).substr(0, e)));
      break;
    }
    size_t b = e;
    while (b > 0 && !py_isspace(u[b - 1])) --b;
    out.push_back(to_utf8(std::u32string_view(u).substr(b, e - b)));
    e = b;
  }
  return {out.rbegin(), out.rend()};
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count) {
  std::string out;
  if (old.empty()) {
    std::u32string u = to_u32(s);
    int64_t done = 0;
    for (size_t i = 0; i <= u.size(); ++i) {
      if (count < 0 || done < count) {
        out.append(repl);
        ++done;
      }
      if (i < u.size()) utf8_append(&out, u[i]);
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t hit = find_text(s, old, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(repl);
    pos = hit + old.size();
    ++done;
  }
  out.append(s.substr(pos));
  return out;
}

size_t py_count(std::string_view s, std::string_view needle) {
  if (needle.empty()) return cp_length(s) + 1;
  size_t n = 0;
  for (size_t pos = find_text(s, needle); pos != std::string_view::npos;
       pos = find_text(s, needle, pos + needle.size()))
    ++n;
  return n;
}

std::string py_repr_string(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : to_u32(s)) {
    if (c == char32_t(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(char(c));
    } else if (c == '\t') {
      out.append("\\t");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (is_printable(c)) {
      utf8_append(&out, c);
    } else if (c <= 0xFF) {
      append_hex(&out, 'x', c, 2);
    } else if (c <= 0xFFFF) {
      append_hex(&out, 'u', c, 4);
    } else {
      append_hex(&out, 'U', c, 8);
    }
  }
  out.push_back(quote);
  return out;
}

std::string py_float_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), std::fabs(x), std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e_pos; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  int decpt = std::stoi(sci.substr(e_pos + 1)) + 1;  // digits = 0.DDD * 10^decpt
  std::string out = std::signbit(x) ? "-" : "";
  int nd = int(digits.size());
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0." + std::string(size_t(-decpt), '0') + digits;
    } else if (decpt >= nd) {
      out += digits + std::string(size_t(decpt - nd), '0') + ".0";
    } else {
      out += digits.substr(0, size_t(decpt)) + "." + digits.substr(size_t(decpt));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (nd > 1) out += "." + digits.substr(1);
  int exp = decpt - 1;
  char ebuf[16];
  std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return out + ebuf;
}

std::string escape_html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

SliceRange slice_range(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop,
                       int64_t step) {
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> v, bool is_start) -> int64_t {
    if (!v) {
      if (step < 0) return is_start ? n - 1 : -1;
      return is_start ? 0 : n;
    }
    int64_t x = *v;
    if (x < 0) {
      x += n;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= n) {
      x = step < 0 ? n - 1 : n;
    }
    return x;
  };
  SliceRange r;
  r.start = adjust(start, true);
  r.step = step;
  int64_t e = adjust(stop, false);
  if (step > 0 && e > r.start) r.count = (e - r.start - 1) / step + 1;
  if (step < 0 && r.start > e) r.count = (r.start - e - 1) / -step + 1;
  return r;
}

}  // namespace trapetum::jinja
