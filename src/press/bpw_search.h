// --target-bpw: choose a codec per matrix so that the whole model meets a size budget
// while losing as little as possible, measured by each tensor's relative error.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/tensor.h"

namespace trapetum {

class ThreadPool;

struct BudgetTensor {
  std::string name;
  TensorView view;
};

// Returns one codec per tensor of `matrices`. fixed_bits: bits of everything else (1-D
// tensors) counted against the budget; total_params: parameters of the whole model.
// The greedy search walks each tensor's lower convex hull of (bits, error energy) and
// takes the steepest affordable step until none fits.
Result<std::vector<DType>> choose_for_budget(const std::vector<BudgetTensor>& matrices, double target_bpw,
                                             double fixed_bits, double total_params, ThreadPool& pool,
                                             const std::function<void(int, const std::string&)>& on_tensor,
                                             const std::atomic<bool>* cancel);

}  // namespace trapetum
