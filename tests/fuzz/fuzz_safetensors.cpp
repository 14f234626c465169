// Fuzz target: the safetensors reader. One part is a lone model.safetensors; several
// NUL-separated parts are model.safetensors.index.json followed by shards s1..s3.safetensors.
#include <cstdint>
#include <string>
#include <vector>

#include "core/check.h"
#include "fuzz_util.h"
#include "io/safetensors.h"

namespace {

void check_set(const trapetum::SafetensorsSet& set) {
  uint64_t sum = 0;
  for (const auto& [name, v] : set.tensors) {
    CHECK(set.origin.count(name) == 1);
    int64_t numel = 1;
    for (int64_t d : v.shape) numel *= d;
    if (numel == 0) continue;
    const auto* p = static_cast<const uint8_t*>(v.data);
    const int64_t bytes = numel * trapetum::codec(v.dtype).block_bytes;
    sum += p[0] + p[bytes - 1];  // the first and last byte of every tensor are readable
  }
  volatile uint64_t sink = sum;
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const trapetum::fuzz::ScratchDir scratch("safetensors");
  const std::vector<std::string> parts = trapetum::fuzz::split_parts(data, size, 4);
  const char* const kShards[] = {"s1.safetensors", "s2.safetensors", "s3.safetensors"};
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", kShards[0], kShards[1], kShards[2]})
    scratch.remove(name);
  if (parts.size() == 1) {
    const std::string path = scratch.write("model.safetensors", parts[0]);
    trapetum::SafetensorsSet one;
    if (trapetum::read_safetensors_file(path, &one).ok()) check_set(one);
  } else {
    scratch.write("model.safetensors.index.json", parts[0]);
    for (size_t i = 1; i < parts.size(); ++i) scratch.write(kShards[i - 1], parts[i]);
  }
  auto set = trapetum::read_safetensors_dir(scratch.dir());
  if (set.ok()) check_set(set.value());
  return 0;
}
