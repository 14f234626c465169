#!/usr/bin/env python3
"""Markdown tables from the JSON that bench/gpu.sh writes (docs/results/gpu-<card>/): the card,
copy bandwidth, kernel speed-ups over cuBLAS fp16, decode tok/s per format against HF fp16, VRAM,
J/token, bandwidth fraction, and HF agreement. Usage: gpu_table.py RESULTS_DIR > RESULTS_DIR.md"""
import glob
import json
import math
import os
import re
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def num(v, spec, scale=1.0):
    return "-" if v is None else format(v * scale if scale != 1.0 else v, spec)


def pick(d, *keys):
    """The first of keys present in d (field names differ between the CPU and CUDA CLIs)."""
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


def median(v):
    return v["median"] if isinstance(v, dict) else v


def card_section(d):
    c = load(os.path.join(d, "card.json")) if os.path.exists(os.path.join(d, "card.json")) else {}
    name = c.get("name", os.path.basename(d))
    print(f"# GPU results: {name}\n")
    if c:
        print(f"Card: {name}, {c.get('memory_total_mib', '?')} MiB, driver {c.get('driver', '?')}, "
              f"power limit {c.get('power_limit_w', '?')} W, max clocks SM {c.get('max_sm_clock_mhz', '?')} / memory "
              f"{c.get('max_memory_clock_mhz', '?')} MHz; CUDA {c.get('nvcc', '?')}; {c.get('cpus', '?')} CPUs; "
              f"commit {c.get('commit', '?')}, {c.get('date', '?')}" + (" (QUICK smoke run)" if c.get("quick") else "")
              + ".\n")
    print("Written by `bench/gpu.sh` and `bench/gpu_table.py` (JSON beside this file). Models are random-weight "
          "f16 HF directories of real shapes from `trapetum synth`, pressed with `trapetum quantize --codec C`. "
          "Speeds are medians of the repetitions shown; nothing here is asserted.\n")


def bench_section(d):
    models = sorted({re.match(r"bench-(.+)-([^-]+)\.json$", os.path.basename(p)).group(1)
                     for p in glob.glob(os.path.join(d, "bench-*-*.json"))})
    for m in models:
        runs = {}
        for p in sorted(glob.glob(os.path.join(d, f"bench-{m}-*.json"))):
            fmt = os.path.basename(p)[len(f"bench-{m}-"):-5]
            if "-" not in fmt:
                runs[fmt] = load(p)
        hf_path = os.path.join(d, f"hf-{m}.json")
        hf = load(hf_path) if os.path.exists(hf_path) else None
        # Widest format first: f16, q8, then the 4-bit codecs, then ternary.
        order = sorted(runs, key=lambda f: (f != "f16", -(runs[f].get("decode_weight_bytes") or 0), f))
        any_run = next(iter(runs.values()))
        copy_bw = [r["copy_bandwidth_gb_s"] for r in runs.values() if r.get("copy_bandwidth_gb_s")]
        print(f"## {m}: end to end\n")
        print(f"`trapetum bench -p {any_run.get('prompt_tokens')} -n {any_run.get('gen_tokens')} "
              f"-r {any_run.get('reps')} --device {any_run.get('device', '?')}`. Copy bandwidth measured on the "
              f"device: {num(sorted(copy_bw)[len(copy_bw) // 2] if copy_bw else None, '.0f')} GB/s (read + write); "
              "bandwidth fraction = weight bytes per token x decode tok/s / copy bandwidth. Bits per weight are "
              "relative to the f16 run's decode bytes.\n")
        f16_bytes = runs.get("f16", {}).get("decode_weight_bytes")
        hf_tg = median(hf["tg_tok_s"]) if hf else None
        print(f"| format | bits/weight | prefill tok/s | decode tok/s | x HF {hf.get('dtype', 'f16') if hf else 'fp16'} | "
              "MB/token | GB/s | "
              "of copy bandwidth | VRAM MiB | J/token | mean W | energy |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for f in order:
            if f not in runs:
                continue
            r = runs[f]
            tg, pp = median(r["tg_tok_s"]), median(r["pp_tok_s"])
            wb = r.get("decode_weight_bytes")
            bpw = 16.0 * wb / f16_bytes if wb and f16_bytes else None
            frac = r.get("bandwidth_fraction")
            if frac is None and wb and r.get("copy_bandwidth_gb_s"):
                frac = wb * tg / 1e9 / r["copy_bandwidth_gb_s"]
            achieved = pick(r, "achieved_gb_s")
            print(f"| {f} | {num(bpw, '.2f')} | {pp:.1f} | {tg:.1f} | {num(tg / hf_tg if hf_tg else None, '.2f')} | "
                  f"{num(wb, '.1f', 1e-6)} | {num(achieved, '.0f')} | {num(frac, '.0%')} | "
                  f"{num(r.get('vram_mb') or (r.get('gpu') or {}).get('vram_peak_mb'), '.0f')} | {num(r.get('j_per_token'), '.3f')} | "
                  f"{num(r.get('mean_power_w'), '.0f')} | {r.get('energy_method') or '-'} |")
        if hf:
            hf_bits = {"f16": 16, "bf16": 16, "f32": 32}.get(hf.get("dtype"), "?")
            print(f"| HF transformers {hf.get('dtype', 'f16')} | {hf_bits} | {median(hf['pp_tok_s']):.1f} | {hf_tg:.1f} | "
                  f"1.00 | - | - | - | {num(hf.get('vram_mb'), '.0f')} | - | - | - |")
            print(f"\nHF: transformers {hf.get('transformers', '?')}, torch {hf.get('torch', '?')}, greedy decode with "
                  f"the KV cache after a {hf.get('prompt_tokens')}-token prompt, median of {hf.get('reps')}; VRAM = "
                  "torch's peak allocation.")
        print()


def kernels_section(d):
    p = os.path.join(d, "kernels.json")
    if not os.path.exists(p):
        return
    k = load(p)
    rows = k.get("rows", [])
    print("## Kernels\n")
    print(f"`trapetum bench kernels --device {k.get('device', 'cuda')}`, median of {k.get('reps', '?')} reps. "
          "Speed-up: cuBLAS fp16 time over ours on the same shape and token count.\n")
    print("| codec | act | shape | M | ms | GB/s | x cuBLAS fp16 | max error |")
    print("|---|---|---|---|---|---|---|---|")
    speedups = {}
    for r in rows:
        ms = pick(r, "ms")
        if ms is None and r.get("seconds") is not None:
            ms = 1e3 * r["seconds"]
        sp = r.get("speedup_vs_cublas_f16")
        if sp and r.get("tokens", 1) == 1:
            speedups.setdefault(f"{r['codec']}" + (f" ({r['act']})" if r.get("act") else ""), []).append(sp)
        print(f"| {r.get('codec')} | {r.get('act', '-')} | {r.get('rows')}x{r.get('cols')} | {r.get('tokens', '?')} | {num(ms, '.3f')} | "
              f"{num(pick(r, 'gb_s', 'gb_per_s'), '.0f')} | {num(sp, '.2f')} | {num(r.get('max_rel_error'), '.1e')} |")
    if speedups:
        print("\nDecode (M = 1) speed-up over cuBLAS fp16, geometric mean over shapes: " + ", ".join(
            f"{c} {math.exp(sum(map(math.log, v)) / len(v)):.2f}x" for c, v in sorted(speedups.items())) + ".")
    print()


def agree_section(d):
    files = sorted(glob.glob(os.path.join(d, "agree-*.json")))
    if not files:
        return
    print("## Agreement with HF transformers\n")
    print("`scripts/gpu_agreement.py`: trapetum's prompt ids fed to HF; HF greedy with the KV cache against "
          "`trapetum run --temp 0`; logit gaps against HF scored teacher-forced on trapetum's own tokens; "
          "codecs against HF's unpressed model. KL is KL(HF || trapetum), mean over rows.\n")
    print("| model | format | HF dtype | greedy identical | prompts identical | earliest divergence | max abs dlogit | "
          "top-1 | mean KL |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p in files:
        a = load(p)
        name = os.path.basename(p)[len("agree-"):-5]
        n = len(a["prompts"])
        for fmt, s in a["summary"].items():
            print(f"| {name} | {fmt} | {a['hf_dtype']} | {s['identical']}/{s['compared']} | "
                  f"{s['all_identical_prompts']}/{n} | {num(s['earliest_divergence'], 'd')} | "
                  f"{num(s['max_abs_dlogit'], '.4f')} | {num(s['top1'], '.3f')} | {num(s['kl_mean'], '.2e')} |")
        bad = [q["prompt"] for q in a["prompts"] if q.get("hf_tokenizer_ids_match") is False]
        if bad:
            print(f"\n{name}: HF's tokenizer gives other ids than trapetum for {bad}.\n")
    print()


def tests_section(d):
    p = os.path.join(d, "ctest-cuda.txt")
    if not os.path.exists(p):
        return
    lines = [l.strip() for l in open(p) if "tests passed" in l or "tests failed" in l]
    if lines:
        print(f"## CUDA tests\n\n`ctest -R Cuda`: {lines[-1]}\n")


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: gpu_table.py RESULTS_DIR")
    d = sys.argv[1]
    card_section(d)
    tests_section(d)
    bench_section(d)
    kernels_section(d)
    agree_section(d)


if __name__ == "__main__":
    main()
