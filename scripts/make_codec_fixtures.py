#!/usr/bin/env python3
"""Writes tests/data/codecs/<TYPE>.bin: random GGUF blocks and their dequantization by gguf-py
(the reference implementation of the GGUF block formats), for the C++ codec tests.

File layout (little-endian): u32 n_elements, u32 n_bytes, packed blocks, n_elements float32.
"""
import pathlib
import struct

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "codecs"

# (type, block elements, block bytes, byte offsets of fp16 scale fields inside a block)
LAYOUTS = {
    "Q8_0": (T.Q8_0, 32, 34, [0]),
    "Q4_0": (T.Q4_0, 32, 18, [0]),
    "Q4_1": (T.Q4_1, 32, 20, [0, 2]),
    "Q4_K": (T.Q4_K, 256, 144, [0, 2]),
    "Q6_K": (T.Q6_K, 256, 210, [208]),
}


def random_blocks(rng, n_blocks, block_bytes, half_offsets):
    raw = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    for off in half_offsets:
        # Finite scales of both signs and a spread of magnitudes, including subnormal fp16.
        scale = rng.choice([-1.0, 1.0], size=n_blocks) * 10.0 ** rng.uniform(-6, 0, size=n_blocks)
        raw[:, off:off + 2] = scale.astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
    return raw


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)
    for name, (qtype, elems, nbytes, halves) in LAYOUTS.items():
        n_blocks = 37
        raw = random_blocks(rng, n_blocks, nbytes, halves)
        ref = quants.dequantize(raw.reshape(1, -1), qtype).astype(np.float32).reshape(-1)
        assert ref.size == n_blocks * elems and np.all(np.isfinite(ref))
        path = OUT / f"{name}.bin"
        with open(path, "wb") as f:
            f.write(struct.pack("<II", ref.size, raw.size))
            f.write(raw.tobytes())
            f.write(ref.astype("<f4").tobytes())
        print(f"{path.relative_to(ROOT)}: {n_blocks} blocks")


if __name__ == "__main__":
    main()
