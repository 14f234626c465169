// Test helpers: paths to data, temporary files, random packed tensors, and a small GGUF
// writer for building valid and deliberately broken files.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "quant/codec.h"

namespace trapetum::test {

// TRAPETUM_TEST_DATA in the environment overrides the build's path (a test binary carried to
// another machine, bench/gpu.sh).
inline std::string test_data(const std::string& rel) {
  const char* env = std::getenv("TRAPETUM_TEST_DATA");
  return std::string(env && *env ? env : TRAPETUM_TEST_DATA) + "/" + rel;
}
inline std::string shared_dir() { return std::string(TRAPETUM_SHARED_DIR); }
inline std::string shared(const std::string& rel) { return shared_dir() + "/" + rel; }
// The real files of ../shared that many tests read.
inline std::string stories() { return shared("models/stories260K/stories260K.gguf"); }
inline std::string wikitext() { return shared("data/wikitext-2/wikitext-2-raw-v1.test.txt"); }

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& bytes) const;

 private:
  std::string path_;
};

std::string read_file(const std::string& path);

// Sets an environment variable (seen by CLI children) for the scope; restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_, old_;
  bool had_ = false;
};

// rows x cols random weights packed in dtype; quantized blocks get finite random scales.
// A dense view of packed bytes (no outliers).
inline TensorView view(DType dtype, std::vector<int64_t> shape, const void* data) {
  TensorView v;
  v.dtype = dtype;
  v.shape = std::move(shape);
  v.data = data;
  return v;
}

std::vector<uint8_t> random_packed(DType dtype, int64_t rows, int64_t cols, std::mt19937& rng);
std::vector<float> random_floats(size_t n, std::mt19937& rng, float scale = 1.0f);

// GGUF file builder. Dims are given outermost first (as TensorView shapes).
class GgufBuilder {
 public:
  void str(const std::string& key, const std::string& v);
  void u32(const std::string& key, uint32_t v);
  void i32(const std::string& key, int32_t v);
  void f32(const std::string& key, float v);
  void boolean(const std::string& key, bool v);
  void str_array(const std::string& key, const std::vector<std::string>& v);
  void f32_array(const std::string& key, const std::vector<float>& v);
  void i32_array(const std::string& key, const std::vector<int32_t>& v);
  void tensor(const std::string& name, uint32_t ggml_type, const std::vector<int64_t>& shape,
              const std::vector<uint8_t>& data);
  // The whole file; the last tensor's data ends exactly at the end of the file.
  std::string build(uint32_t version = 3) const;
  size_t n_kv() const { return n_kv_; }

 private:
  std::string kv_;
  size_t n_kv_ = 0;
  struct T {
    std::string name;
    uint32_t type;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
  };
  std::vector<T> tensors_;
};

inline constexpr uint32_t kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ8_0 = 8, kGgmlQ4_K = 12,
                          kGgmlQ6_K = 14, kGgmlBF16 = 30;

// A complete tiny llama GGUF (dim 32, 1 layer, vocab of 8 + 256 byte tokens, SPM tokenizer)
// with random F32 weights; used by bad-input tests that mutate it.
GgufBuilder tiny_llama_gguf(std::mt19937& rng, bool with_output = true);

}  // namespace trapetum::test
