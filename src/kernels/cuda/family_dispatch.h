// with_family: calls fn.template operator()<F>() for a runtime Family, so one generic lambda
// serves every device layout (the kernels' dispatch and the host tests).
#pragma once

#include "kernels/cuda/device_weight.h"

namespace trapetum::cuda {

template <class Fn>
void with_family(Family f, Fn&& fn) {
  switch (f) {
    case Family::kF32: return fn.template operator()<Family::kF32>();
    case Family::kF16: return fn.template operator()<Family::kF16>();
    case Family::kBF16: return fn.template operator()<Family::kBF16>();
    case Family::kI8: return fn.template operator()<Family::kI8>();
    case Family::kI8F: return fn.template operator()<Family::kI8F>();
    case Family::kQ4: return fn.template operator()<Family::kQ4>();
    case Family::kQ4K: return fn.template operator()<Family::kQ4K>();
    case Family::kCb4: return fn.template operator()<Family::kCb4>();
    case Family::kCb4S: return fn.template operator()<Family::kCb4S>();
    case Family::kT2: return fn.template operator()<Family::kT2>();
  }
}

}  // namespace trapetum::cuda
