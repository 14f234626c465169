// MappedFile: a read-only memory map of a whole file, released on destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace trapetum {

class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size) : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

// Lets the kernel drop the resident pages of [p, p + n) inside a read-only file mapping, so
// a pass that reads a model once (the press) keeps its RSS bounded; later reads fault the
// pages back in from the page cache. Never call it on anonymous (heap) memory.
void drop_mapped_pages(const void* p, size_t n);

}  // namespace trapetum
