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
