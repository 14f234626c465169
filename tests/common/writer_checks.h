// Checks shared by the streaming-writer tests (GGUF, safetensors): a misuse gives an error
// naming the file, errors are sticky, and nothing is left in the directory afterwards.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace trapetum::test {

inline std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

// w writes `path` inside `dir`; misuse gets 48 bytes of data to misuse it with.
template <class Writer>
void expect_misuse_leaves_nothing(Result<std::unique_ptr<Writer>> w, const std::string& dir, const std::string& path,
                                  const std::string& needle,
                                  const std::function<Status(Writer&, const std::vector<uint8_t>&)>& misuse) {
  ASSERT_TRUE(w.ok()) << w.error();
  const std::vector<uint8_t> a(48, 1);
  Status st = misuse(*w.value(), a);
  ASSERT_FALSE(st.ok()) << needle;
  EXPECT_NE(st.error().find(path), std::string::npos) << st.error();
  EXPECT_NE(st.error().find(needle), std::string::npos) << st.error();
  EXPECT_FALSE(w.value()->finish().ok()) << "errors are sticky";
  w.value().reset();
  EXPECT_TRUE(dir_entries(dir).empty());
}

}  // namespace trapetum::test
