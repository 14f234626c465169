// RopeLayout: how RoPE pairs the dimensions of a head. GGUF llama permutes Q/K rows so that
// pairs are adjacent (2i, 2i+1); HF checkpoints and GGUF qwen2 rotate halves (i, i + d/2).
#pragma once

namespace trapetum {

enum class RopeLayout { kInterleaved, kHalf };

}  // namespace trapetum
