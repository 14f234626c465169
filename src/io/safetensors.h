// safetensors reader: one file or a sharded directory (model.safetensors.index.json),
// memory-mapped; F32, F16 and BF16 tensors, every offset checked against the file.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "core/result.h"
#include "core/tensor.h"

namespace trapetum {

struct SafetensorsSet {
  std::vector<std::unique_ptr<MappedFile>> files;  // keep the mappings alive
  std::map<std::string, TensorView> tensors;       // HF tensor name -> view
  std::map<std::string, std::string> origin;       // HF tensor name -> file path (for errors)
};

// Reads one .safetensors file and adds its tensors to out.
Status read_safetensors_file(const std::string& path, SafetensorsSet* out);

// Reads model.safetensors, or the shards listed in model.safetensors.index.json, from dir.
Result<SafetensorsSet> read_safetensors_dir(const std::string& dir);

}  // namespace trapetum
