// Small string helpers: concatenation of streamable values and human-readable sizes.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace trapetum {

template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// "[4096, 11008]"
std::string shape_str(const std::vector<int64_t>& shape);

bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);

// Reads a whole file into a string; returns false on failure.
bool read_text_file(const std::string& path, std::string* out);

}  // namespace trapetum
