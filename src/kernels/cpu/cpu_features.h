// Runtime CPU feature detection (cpuid) used to pick a kernel variant, and the
// TRAPETUM_ISA override that forces a lower one.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace trapetum::cpu {

enum class Isa {
  kGeneric,  // portable code for the baseline target
  kAvx2,     // AVX2 + FMA + F16C
  kAvx512,   // AVX-512 F/BW/VL/VNNI + FMA + F16C
  kNeon,     // AArch64 NEON with dot products
};

// The best ISA this CPU supports.
Isa detect_isa();
// Every ISA this CPU can run, generic first.
std::vector<Isa> supported_isas();
const char* isa_name(Isa isa);
std::optional<Isa> isa_from_name(std::string_view name);

}  // namespace trapetum::cpu
