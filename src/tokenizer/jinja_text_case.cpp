// Python's str case mapping (upper, lower, title, capitalize, swapcase, islower, isupper) and
// jinja's |title, over a table of Latin, Greek, Cyrillic and Armenian letters (jinja_text.h).
#include "tokenizer/jinja_text.h"

namespace trapetum::jinja {
namespace {

// A one-to-one upper/lower pairing over a code point range.
struct CaseRange {
  char32_t first, last;  // the range of upper-case letters
  int32_t delta;         // lower = upper + delta; 1 means alternating upper/lower pairs
};

// Simple (one code point) case pairs. Alternating ranges list the upper-case first element.
constexpr CaseRange kCaseRanges[] = {
    {0x41, 0x5A, 32},       {0xC0, 0xD6, 32},       {0xD8, 0xDE, 32},
    {0x100, 0x12F, 1},      {0x132, 0x137, 1},      {0x139, 0x148, 1},
    {0x14A, 0x177, 1},      {0x179, 0x17E, 1},      {0x386, 0x386, 38},
    {0x388, 0x38A, 37},     {0x38C, 0x38C, 64},     {0x38E, 0x38F, 63},
    {0x391, 0x3A1, 32},     {0x3A3, 0x3AB, 32},     {0x400, 0x40F, 80},
    {0x410, 0x42F, 32},     {0x460, 0x481, 1},      {0x48A, 0x4BF, 1},
    {0x4C0, 0x4C0, 15},     {0x4C1, 0x4CE, 1},      {0x4D0, 0x52F, 1},
    {0x531, 0x556, 48},     {0x1E00, 0x1E95, 1},    {0x1EA0, 0x1EFF, 1},
    {0xFF21, 0xFF3A, 32},
};

bool in_alternating(const CaseRange& r, char32_t c) {
  // Ranges with delta 1 hold pairs (U, U+1) starting at r.first.
  return c >= r.first && c <= r.last && r.delta == 1;
}

char32_t lower1(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c == 0x178) return 0xFF;
  if (c == 0x1E9E) return 0xDF;
  for (const CaseRange& r : kCaseRanges) {
    if (in_alternating(r, c)) return ((c - r.first) % 2 == 0) ? c + 1 : c;
    if (r.delta != 1 && c >= r.first && c <= r.last) return c + r.delta;
  }
  return c;
}

char32_t upper1(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  if (c == 0xFF) return 0x178;
  if (c == 0xB5) return 0x39C;
  if (c == 0x131) return 'I';
  if (c == 0x17F) return 'S';
  if (c == 0x3C2) return 0x3A3;
  for (const CaseRange& r : kCaseRanges) {
    if (in_alternating(r, c)) return ((c - r.first) % 2 == 1) ? c - 1 : c;
    if (r.delta != 1 && c >= r.first + r.delta && c <= r.last + r.delta) return c - r.delta;
  }
  return c;
}

bool is_cased(char32_t c) {
  return lower1(c) != c || upper1(c) != c || c == 0xDF || c == 0x138 || c == 0x149;
}
bool is_lower_cased(char32_t c) { return is_cased(c) && upper1(c) != c; }
bool is_upper_cased(char32_t c) { return is_cased(c) && lower1(c) != c; }

// Full upper-case mapping: a few letters become two code points.
void append_upper(std::u32string* out, char32_t c) {
  if (c == 0xDF) {
    out->append(U"SS");
  } else if (c == 0x149) {
    out->push_back(0x2BC);
    out->push_back('N');
  } else {
    out->push_back(upper1(c));
  }
}

void append_title(std::u32string* out, char32_t c) {
  if (c == 0xDF) {
    out->append(U"Ss");
  } else {
    append_upper(out, c);
  }
}

void append_lower(std::u32string* out, const std::u32string& s, size_t i) {
  char32_t c = s[i];
  if (c == 0x130) {
    out->push_back('i');
    out->push_back(0x307);
  } else if (c == 0x3A3) {
    // Final sigma: after a cased letter and not before one.
    bool after_cased = i > 0 && is_cased(s[i - 1]);
    bool before_cased = i + 1 < s.size() && is_cased(s[i + 1]);
    out->push_back(after_cased && !before_cased ? 0x3C2 : 0x3C3);
  } else {
    out->push_back(lower1(c));
  }
}

}  // namespace

std::string py_upper(std::string_view s) {
  std::u32string out;
  for (char32_t c : to_u32(s)) append_upper(&out, c);
  return to_utf8(out);
}

std::string py_lower(std::string_view s) {
  std::u32string u = to_u32(s), out;
  for (size_t i = 0; i < u.size(); ++i) append_lower(&out, u, i);
  return to_utf8(out);
}

std::string py_title(std::string_view s) {
  std::u32string u = to_u32(s), out;
  bool previous_cased = false;
  for (size_t i = 0; i < u.size(); ++i) {
    if (previous_cased) {
      append_lower(&out, u, i);
    } else {
      append_title(&out, u[i]);
    }
    previous_cased = is_cased(u[i]);
  }
  return to_utf8(out);
}

std::string py_capitalize(std::string_view s) {
  std::u32string u = to_u32(s), out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 0) {
      append_title(&out, u[i]);
    } else {
      append_lower(&out, u, i);
    }
  }
  return to_utf8(out);
}

std::string py_swapcase(std::string_view s) {
  std::u32string u = to_u32(s), out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (is_upper_cased(u[i])) {
      append_lower(&out, u, i);
    } else if (is_lower_cased(u[i]) || u[i] == 0xDF) {
      append_upper(&out, u[i]);
    } else {
      out.push_back(u[i]);
    }
  }
  return to_utf8(out);
}

std::string jinja_title(std::string_view s) {
  // re.split(r"([-\s({\[<]+)") then item[0].upper() + item[1:].lower() for each piece.
  std::u32string u = to_u32(s), out;
  auto is_sep = [](char32_t c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c);
  };
  size_t i = 0;
  while (i < u.size()) {
    size_t j = i;
    bool sep = is_sep(u[i]);
    while (j < u.size() && is_sep(u[j]) == sep) ++j;
    std::u32string piece = u.substr(i, j - i);
    append_upper(&out, piece[0]);
    for (size_t k = 1; k < piece.size(); ++k) append_lower(&out, piece, k);
    i = j;
  }
  return to_utf8(out);
}

bool py_islower(std::string_view s) {
  bool any = false;
  for (char32_t c : to_u32(s)) {
    if (is_upper_cased(c)) return false;
    any = any || is_lower_cased(c) || c == 0xDF;
  }
  return any;
}

bool py_isupper(std::string_view s) {
  bool any = false;
  for (char32_t c : to_u32(s)) {
    if (is_lower_cased(c) || c == 0xDF) return false;
    any = any || is_upper_cased(c);
  }
  return any;
}

}  // namespace trapetum::jinja
