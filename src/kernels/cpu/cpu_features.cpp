// Runtime CPU feature detection.
#include "kernels/cpu/cpu_features.h"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace trapetum::cpu {

std::vector<Isa> supported_isas() {
  std::vector<Isa> v = {Isa::kGeneric};
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  if (avx2) v.push_back(Isa::kAvx2);
  if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
    v.push_back(Isa::kAvx512);
#elif defined(__aarch64__) && defined(__linux__)
  if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) v.push_back(Isa::kNeon);
#endif
  return v;
}

Isa detect_isa() { return supported_isas().back(); }

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kNeon: return "neon";
    default: return "generic";
  }
}

std::optional<Isa> isa_from_name(std::string_view name) {
  for (Isa i : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512, Isa::kNeon})
    if (name == isa_name(i)) return i;
  return std::nullopt;
}

}  // namespace trapetum::cpu
