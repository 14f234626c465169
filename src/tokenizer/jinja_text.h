// Python str semantics on UTF-8 text for the Jinja interpreter: code point indexing, strip,
// split, case mapping (a table covering Latin, Greek, Cyrillic and Armenian), float repr and
// string repr, so templates print exactly what jinja2 prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trapetum::jinja {

// Decodes valid UTF-8 (callers repair input with utf8_lossy first) into code points.
std::u32string to_u32(std::string_view s);
std::string to_utf8(std::u32string_view s);
size_t cp_length(std::string_view s);
// Byte offset of code point `index` (0-based) in s; s.size() when index >= cp_length(s).
size_t cp_offset(std::string_view s, int64_t index);
bool is_ascii(std::string_view s);

// str.isspace(): the characters Python's str.split()/strip() and the regex \s treat as space.
bool py_isspace(char32_t c);

// Byte offset of needle in s at or after pos (npos if none), in linear time: hostile inputs
// cannot make a substring search quadratic.
size_t find_text(std::string_view s, std::string_view needle, size_t pos = 0);
// The last occurrence of needle in s (npos if none), also linear.
size_t rfind_text(std::string_view s, std::string_view needle);

// str.strip / lstrip / rstrip; chars == nullopt strips whitespace.
std::string py_strip(std::string_view s, const std::optional<std::string>& chars, bool left,
                     bool right);
// str.split / str.rsplit; sep == nullopt splits on runs of whitespace. maxsplit < 0: no limit.
// sep must not be empty.
std::vector<std::string> py_split(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit, bool from_right);
// str.replace(old, new, count); count < 0 replaces all. An empty `old` inserts between chars.
std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count);
// Number of non-overlapping occurrences (str.count); an empty needle counts len + 1.
size_t py_count(std::string_view s, std::string_view needle);

std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_title(std::string_view s);       // str.title()
std::string py_capitalize(std::string_view s);  // str.capitalize()
std::string py_swapcase(std::string_view s);
std::string jinja_title(std::string_view s);    // jinja's |title filter (splits on -, space, brackets)
bool py_islower(std::string_view s);
bool py_isupper(std::string_view s);

// repr(str): quotes and escapes as CPython does.
std::string py_repr_string(std::string_view s);
// repr(float) / str(float): shortest round-trip digits, Python's exponent thresholds.
std::string py_float_repr(double x);
// markupsafe.escape: & < > " ' as HTML entities.
std::string escape_html(std::string_view s);

// Python slice semantics: [start:stop:step] over a sequence of length n selects `count`
// indices start, start + step, ... step must not be 0.
struct SliceRange {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};
SliceRange slice_range(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop,
                       int64_t step);

}  // namespace trapetum::jinja
