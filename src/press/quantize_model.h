// quantize_model: presses a loaded model into a .cbk, tensor by tensor in bounded memory,
// written atomically and deterministically, with a per-tensor report.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "press/recipe.h"

namespace trapetum {

class Model;

struct PressProgress {
  int index = 0, total = 0;       // tensor being written (1-based) and how many there are
  std::string name;
  int64_t bytes_done = 0, bytes_total = 0;  // source bytes
  const char* phase = "write";  // "measure" (--target-bpw search) or "write"
};

struct PressOptions {
  Recipe recipe;
  double target_bpw = 0;  // > 0: pick codecs per tensor to meet this budget, the recipe ignored
  int threads = 1;
  std::string command_line;        // recorded in the metadata
  bool hash_source = true;         // record the source's sha256
  const std::atomic<bool>* cancel = nullptr;  // set (e.g. by SIGINT) to stop between tensors
  std::function<void(const PressProgress&)> progress;
};

struct PressedInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  double bits_per_weight = 0, rel_error = 0;
  int64_t n_outliers = 0;
  uint64_t bytes = 0;
};

struct PressReport {
  std::vector<PressedInfo> tensors;
  uint64_t file_bytes = 0;
  int64_t params = 0;
  double bits_per_weight = 0;      // all stored tensor bytes over all parameters
  double matrix_bits_per_weight = 0;  // the same over 2-D tensors only
  double rel_error = 0;            // over all 2-D tensors: sqrt(sum err^2 / sum norm^2)
  double seconds = 0;
  double peak_rss_mb = 0;
};

Result<PressReport> quantize_model(const Model& src, const std::string& out_path, const PressOptions& options);

}  // namespace trapetum
