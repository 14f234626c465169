// Runtime CPU feature detection (cpuid) used to pick a kernel variant.
#pragma once

namespace trapetum::cpu {

enum class Isa { kGeneric, kAvx2, kAvx512 };

Isa detect_isa();
const char* isa_name(Isa isa);

}  // namespace trapetum::cpu
