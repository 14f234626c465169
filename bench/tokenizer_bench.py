#!/usr/bin/env python3
"""Encode throughput (MB/s, one thread) of trapetum's tokenizers next to HF `tokenizers` on WikiText-2.

Ours: `trapetum tokenize --bench [--per-line] --no-special -f FILE` (median of --reps encodes timed
inside the CLI, vocabulary load excluded). HF, in this process with RAYON_NUM_THREADS=1:
  whole  Tokenizer.encode(text) on the whole file as one string
  lines  Tokenizer.encode_batch(lines) on its lines (each keeps its '\\n'), one Rayon thread
both with add_special_tokens=False, median of --reps. HF's BPE keeps a word cache that ours lacks, so
HF is timed twice: "warm" (cache kept across reps, its normal use) and "cold" (model._clear_cache()
before each rep). Prints a table and writes JSON (default docs/results/tokenizer.json). Timings only,
never asserts.

Usage: python3 bench/tokenizer_bench.py --cli build/bin/trapetum [--shared ../shared] [--reps 5]
"""
import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers starts its thread pool
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "tokenizer"))
import differential_test  # noqa: E402  (its list of tokenizers and their HF references)


def lines_of(text):
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def ours(cli, source, path, reps, per_line):
    cmd = [cli, "tokenize"] + source + ["-f", path, "--bench", "--no-special", "--reps", str(reps)]
    if per_line:
        cmd.append("--per-line")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def hf_time(hf, fn, reps, cold):
    times, tokens = [], 0
    for _ in range(reps):
        if cold:
            hf.model._clear_cache()
        t0 = time.perf_counter()
        tokens = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), tokens


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "bin", "trapetum"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", action="append", help="only this tokenizer (repeatable)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "results", "tokenizer.json"))
    args = ap.parse_args()
    import tokenizers
    fixtures = differential_test.load_fixture_module()
    if not os.environ.get("TRAPETUM_SMOLLM2_GGUF") and fixtures.smollm2_gguf():
        os.environ["TRAPETUM_SMOLLM2_GGUF"] = fixtures.smollm2_gguf()
    cases, skipped = differential_test.tokenizer_cases(args.shared, fixtures)
    for s in skipped:
        print(f"skipping {s}", file=sys.stderr)
    path = os.path.join(args.shared, "data/wikitext-2/wikitext-2-raw-v1.test.txt")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = lines_of(text)
    mb = len(text.encode("utf-8")) / 1e6
    rows = []
    for name, source, factory in cases:
        if args.only and name not in args.only:
            continue
        hf = factory()
        r = {"tokenizer": name}
        for mode, per_line in (("whole", False), ("lines", True)):
            o = ours(args.cli, source, path, args.reps, per_line)
            if per_line:
                def fn():
                    return sum(len(e.ids) for e in hf.encode_batch(lines, add_special_tokens=False))
            else:
                def fn():
                    return len(hf.encode(text, add_special_tokens=False).ids)
            warm_s, hf_tokens = hf_time(hf, fn, args.reps, cold=False)
            cold_s, _ = hf_time(hf, fn, args.reps, cold=True)
            r[mode] = {"ours_mb_s": o["mb_s"], "ours_seconds": o["seconds"], "ours_tokens": o["tokens"],
                       "hf_warm_mb_s": mb / warm_s, "hf_cold_mb_s": mb / cold_s, "hf_warm_seconds": warm_s,
                       "hf_cold_seconds": cold_s, "hf_tokens": hf_tokens, "tokens_equal": o["tokens"] == hf_tokens}
        rows.append(r)
        print(f"{name}: done", file=sys.stderr, flush=True)

    head = (f"{'tokenizer':<12} {'mode':<6} {'tokens':>8} {'ours MB/s':>10} {'HF warm':>8} {'HF cold':>8} "
            f"{'ours/HF warm':>12} {'ours/HF cold':>12}")
    print(head)
    for r in rows:
        for mode in ("whole", "lines"):
            m = r[mode]
            tok = str(m["ours_tokens"]) + ("" if m["tokens_equal"] else f" (HF {m['hf_tokens']})")
            print(f"{r['tokenizer']:<12} {mode:<6} {tok:>8} {m['ours_mb_s']:>10.2f} {m['hf_warm_mb_s']:>8.2f} "
                  f"{m['hf_cold_mb_s']:>8.2f} {m['ours_mb_s'] / m['hf_warm_mb_s']:>11.2f}x "
                  f"{m['ours_mb_s'] / m['hf_cold_mb_s']:>11.2f}x")
    result = {
        "file": os.path.relpath(path, ROOT), "megabytes": mb, "lines": len(lines), "reps": args.reps,
        "statistic": "median", "threads": 1, "hf_tokenizers_version": tokenizers.__version__,
        "cpu": cpu_name(), "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "results": rows,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
