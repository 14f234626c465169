// ByteReader: bounds-checked little-endian reads from a memory range; every failure
// records what was being read and at which offset.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace trapetum {

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }

  template <class T>
  bool read(T* out, const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!need(sizeof(T), what)) return false;
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  // A GGUF string: u64 length then bytes.
  bool read_string(std::string* out, const char* what) {
    uint64_t len = 0;
    if (!read(&len, what)) return false;
    if (len > remaining()) {
      fail(what, "string length " + std::to_string(len) + " runs past the end of the file (" +
                     std::to_string(remaining()) + " bytes left)");
      return false;
    }
    out->assign(reinterpret_cast<const char*>(data_ + pos_), size_t(len));
    pos_ += size_t(len);
    return true;
  }

  bool skip(size_t n, const char* what) {
    if (!need(n, what)) return false;
    pos_ += n;
    return true;
  }

  void fail(const char* what, const std::string& why) {
    if (failed_) return;
    failed_ = true;
    failure_ = std::string(what) + " at offset " + std::to_string(pos_) + ": " + why;
  }

 private:
  bool need(size_t n, const char* what) {
    if (failed_) return false;
    if (n > remaining()) {
      fail(what, "truncated (needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left)");
      return false;
    }
    return true;
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  bool failed_ = false;
  std::string failure_;
};

}  // namespace trapetum
