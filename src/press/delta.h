// Deltas: a fine-tuned model stored as its compressed difference from a base model
// (`trapetum delta`), and the reconstruction W = base + delta (`trapetum materialize`).
#pragma once

#include <functional>
#include <string>

#include "core/result.h"
#include "press/dequantize.h"
#include "press/recipe.h"

namespace trapetum {

class Model;

struct DeltaOptions {
  Recipe recipe;  // codec of each difference matrix; 1-D tensors are stored whole as f32
  int threads = 1;
  std::string command_line;  // recorded in the metadata
  std::function<void(int index, int total, const std::string& name)> progress;
};

struct DeltaReport {
  int tensors = 0;
  uint64_t file_bytes = 0;
  double bits_per_weight = 0;  // stored bits over all parameters
  double rel_error = 0;        // ||Δ - Q(Δ)|| / ||Δ|| over matrices
  double weight_rel_error = 0; // ||Δ - Q(Δ)|| / ||W_finetuned|| over matrices
  double delta_rel_norm = 0;   // ||Δ|| / ||W_finetuned|| over matrices
};

// Records the base's sha256 (a file's, or per file of a directory) and path in the metadata
// under "delta"; config and tokenizer are the fine-tuned model's.
Result<DeltaReport> make_delta(const Model& base, const Model& finetuned, const std::string& out_path,
                               const DeltaOptions& o);

struct MaterializeOptions {
  Recipe recipe;             // codec for a .cbk output
  bool force = false;        // skip the base checksum check; replace an existing output
  int threads = 1;
  DequantizeOptions hf;      // for a directory output
  std::string command_line;
  std::function<void(int index, int total, const std::string& name)> progress;
};

// out ending in ".cbk": pressed with the recipe; otherwise a HuggingFace directory.
Status materialize_delta(const std::string& base_path, const std::string& delta_path, const std::string& out,
                         const MaterializeOptions& o);

// The base fingerprint stored in a delta: a hex string for a file, {file: hex} for a directory.
Result<std::string> model_fingerprint(const std::string& path);

}  // namespace trapetum
