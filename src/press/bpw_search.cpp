// Per-tensor codec choice under a bits-per-weight budget.
#include "press/bpw_search.h"

#include <algorithm>

#include "core/mmap_file.h"
#include "press/quantize_tensor.h"
#include "press/recipe.h"

namespace trapetum {
namespace {

struct Option {
  DType dtype;
  double bits;  // stored bits of the tensor
  double cost;  // relative error energy: rel_error^2 * numel
};

// Lower convex hull of options sorted by bits, keeping only those that lower the cost.
std::vector<Option> hull(std::vector<Option> opts) {
  std::sort(opts.begin(), opts.end(), [](const Option& a, const Option& b) { return a.bits < b.bits; });
  std::vector<Option> h;
  for (const Option& o : opts) {
    if (!h.empty() && o.cost >= h.back().cost) continue;
    while (h.size() >= 2) {  // drop the middle point when it lies above the chord
      const Option &a = h[h.size() - 2], &b = h.back();
      if ((b.cost - a.cost) * (o.bits - a.bits) >= (o.cost - a.cost) * (b.bits - a.bits)) h.pop_back();
      else break;
    }
    h.push_back(o);
  }
  return h;
}

}  // namespace

Result<std::vector<DType>> choose_for_budget(const std::vector<BudgetTensor>& matrices, double target_bpw,
                                             double fixed_bits, double total_params, ThreadPool& pool,
                                             const std::function<void(int, const std::string&)>& on_tensor,
                                             const std::atomic<bool>* cancel) {
  std::vector<DType> candidates;
  for (DType t : writable_codecs())
    if (t != DType::kF32 && t != DType::kBF16) candidates.push_back(t);
  std::vector<std::vector<Option>> hulls;
  for (size_t i = 0; i < matrices.size(); ++i) {
    if (cancel && cancel->load()) return make_error("interrupted");
    if (on_tensor) on_tensor(int(i), matrices[i].name);
    std::vector<Option> opts;
    const double numel = double(matrices[i].view.numel());
    for (DType t : candidates) {
      const PressedTensor p = press_tensor(matrices[i].view, t, 0.0, pool);
      opts.push_back({t, 8.0 * double(p.stored_bytes()), p.rel_error() * p.rel_error() * numel});
    }
    hulls.push_back(hull(std::move(opts)));
    drop_mapped_pages(matrices[i].view.data, size_t(matrices[i].view.nbytes()));
  }
  const double budget = target_bpw * total_params;
  double used = fixed_bits;
  std::vector<size_t> at(matrices.size(), 0);
  for (const auto& h : hulls) used += h[0].bits;
  if (used > budget)
    return make_error("--target-bpw ", target_bpw, " is below the smallest possible size (", used / total_params,
                      " bits per weight with the cheapest codec everywhere)");
  for (;;) {
    size_t best = matrices.size();
    double best_slope = 0;
    for (size_t i = 0; i < hulls.size(); ++i) {
      if (at[i] + 1 >= hulls[i].size()) continue;
      const Option &a = hulls[i][at[i]], &b = hulls[i][at[i] + 1];
      if (used + (b.bits - a.bits) > budget) continue;
      const double slope = (a.cost - b.cost) / (b.bits - a.bits);
      if (slope > best_slope) best_slope = slope, best = i;
    }
    if (best == matrices.size()) break;
    used += hulls[best][at[best] + 1].bits - hulls[best][at[best]].bits;
    ++at[best];
  }
  std::vector<DType> out;
  for (size_t i = 0; i < hulls.size(); ++i) out.push_back(hulls[i][at[i]].dtype);
  return out;
}

}  // namespace trapetum
