#!/usr/bin/env python3
"""Markdown tables from the JSON that bench/cpu_bench.sh writes (docs/results/cpu/*.json)."""
import json
import os
import platform
import subprocess
import sys


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    caches = [l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.strip().startswith(("L2", "L3"))]
    return f"{model}, {os.cpu_count()} logical CPUs, {mem} RAM, caches L2 {caches[0] if caches else '?'}, " \
           f"L3 {caches[1] if len(caches) > 1 else '?'}; {platform.system()} {platform.release()}"


# Weights one decode step multiplies (every layer's matrices, the output head, one embedding
# row), from the architectures of `trapetum synth`'s presets: for bits per weight.
DECODE_PARAMS = {
    "tinyllama": 22 * (2 * 2048 * 2048 + 2 * 256 * 2048 + 3 * 5632 * 2048) + 32000 * 2048 + 2048,
    "llama7b": 32 * (4 * 4096 * 4096 + 3 * 11008 * 4096) + 32000 * 4096 + 4096,
}

# The yardstick of issue 5: the best llama.cpp-family CPU engine on this kind of machine (2
# threads, tinyllama-1.1b shape, random weights), as published in the issue.
YARDSTICK = [("Q4_K_M", 4.89, 47.6, 232, "about all of it"), ("Q4_0", 4.5, 37.3, 263, "about 75%"),
             ("F16", 16, 14.8, 135, "")]


def yardstick(runs):
    print("\n## Against the yardstick (tinyllama-1.1b shape, 2 threads)\n")
    print("The yardstick's figures are those given in issue 5 (pp64); ours are pp512 and tg128 from the table "
          "below. Bits per weight count the matrices one decode step reads.\n")
    print("| engine | format | bits/weight | decode tok/s | prefill tok/s | share of bandwidth |")
    print("|---|---|---|---|---|---|")
    for f, bpw, tg, pp, share in YARDSTICK:
        print(f"| yardstick | {f} | {bpw} | {tg} | {pp} (pp64) | {share} |")
    for name, r in runs.items():
        if not name.startswith("tinyllama-") or not name.endswith("-t2"):
            continue
        bpw = 8 * r["decode_weight_bytes"] / DECODE_PARAMS["tinyllama"]
        print(f"| trapetum | {name[len('tinyllama-'):-3]} | {bpw:.2f} | {r['tg_tok_s']['median']:.1f} | "
              f"{r['pp_tok_s']['median']:.1f} (pp{r['prompt_tokens']}) | {100 * r['bandwidth_fraction']:.0f}% of "
              f"{r['copy_bandwidth_gb_s']:.1f} GB/s copy |")


def main():
    d = sys.argv[1]
    runs = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".json") and not f.startswith("kernels"):
            runs[f[:-5]] = json.load(open(os.path.join(d, f)))
    print("# CPU inference results\n")
    print(f"Machine: {machine()}.\n")
    print("Written by `bench/cpu_bench.sh` (JSON beside this file in `cpu/`). Every figure is the median of "
          "the repetitions shown; the bandwidth is measured by `trapetum bench` itself with a multi-threaded copy "
          "(bytes read + written per second), and the roofline is that bandwidth divided by the weight bytes one "
          "decode step reads.\n")
    yardstick(runs)
    print("\n## Every run\n")
    print("| model | threads | isa / act / KV | pp | pp tok/s | tg | tg tok/s | weights MB/token | GB/s | "
          "share of copy bandwidth | roofline tok/s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in runs.items():
        model = name.rsplit("-t", 1)[0]
        cfg = " / ".join(str(r.get(k, "?")) for k in ("isa", "act", "kv_type"))
        print(f"| {model} | {r['threads']} | {cfg} | {r['prompt_tokens']} | {r['pp_tok_s']['median']:.1f} | "
              f"{r['gen_tokens']} | {r['tg_tok_s']['median']:.1f} | {r['decode_weight_bytes'] / 1e6:.0f} | "
              f"{r['achieved_gb_s']:.1f} | {100 * r['bandwidth_fraction']:.0f}% (of {r['copy_bandwidth_gb_s']:.1f}) | "
              f"{r['roofline_tg_tok_s']:.1f} | {r['peak_rss_mb']:.0f} |")
    for kf, title in (("kernels-m1.json", "GEMV (M = 1, decode)"), ("kernels-m512.json", "GEMM (M = 512, prefill)")):
        p = os.path.join(d, kf)
        if not os.path.exists(p):
            continue
        k = json.load(open(p))
        print(f"\n## Kernels: {title}\n")
        print(f"`trapetum bench kernels`, isa {k['isa']}, {k['threads']} threads, median of {k['reps']} reps. "
              "Error: max |y - ref| / max |ref| over the checked rows, ref in float64 from the reference "
              "dequantizer (int8 rows include the activation quantization).\n")
        print("| codec | shape | M | act | ms | GB/s | GFLOP/s | max error |")
        print("|---|---|---|---|---|---|---|---|")
        for r in k["rows"]:
            print(f"| {r['codec']} | {r['rows']}x{r['cols']} | {r['tokens']} | {r['act']} | {1e3 * r['seconds']:.3f} | "
                  f"{r['gb_per_s']:.1f} | {r['gflop_per_s']:.1f} | {r['max_rel_error']:.1e} |")


if __name__ == "__main__":
    main()
