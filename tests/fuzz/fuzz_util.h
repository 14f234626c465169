// Helpers shared by the fuzz targets: splitting one input into NUL-separated parts, and a
// per-process scratch directory (under /dev/shm when it exists) for loaders that take a path.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace trapetum::fuzz {

// Splits at '\0' into at most max_parts parts; the last part keeps any further NULs.
inline std::vector<std::string> split_parts(const uint8_t* data, size_t size, size_t max_parts) {
  std::vector<std::string> parts;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t begin = 0;
  while (parts.size() + 1 < max_parts) {
    const size_t nul = all.find('\0', begin);
    if (nul == std::string_view::npos) break;
    parts.emplace_back(all.substr(begin, nul - begin));
    begin = nul + 1;
  }
  parts.emplace_back(all.substr(begin));
  return parts;
}

// A directory private to this process, removed when the process exits normally.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path(ec);
    dir_ = (base / ("trapetum-fuzz-" + tag + "-" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_, ec);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& dir() const { return dir_; }

  // Writes bytes to dir/name (replacing it) and returns the path.
  std::string write(const std::string& name, std::string_view bytes) const {
    const std::string path = dir_ + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return path;
    if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return path;
  }

  void remove(const std::string& name) const {
    std::error_code ec;
    std::filesystem::remove(dir_ + "/" + name, ec);
  }

 private:
  std::string dir_;
};

}  // namespace trapetum::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
