#!/usr/bin/env python3
"""trapetum against HuggingFace transformers on one model, on the GPU (or the CPU): greedy tokens,
logit gaps and, for pressed codecs, greedy agreement and KL against HF fp16. Prints a table and
writes JSON. With --bench-hf it instead times HF's fp16 prefill and decode (for bench/gpu.sh).

Per prompt (ids are trapetum's own, from `run --json`, fed unchanged to HF):
  * HF greedy (KV cache) for --tokens tokens against `trapetum run --temp 0 --ignore-eos`: identical
    tokens, first divergence;
  * the worst |logit gap| and top-1/KL between trapetum's `--logits-out` rows and HF's logits scored
    teacher-forced on trapetum's own generated ids (so rows stay aligned after a divergence);
  * per codec (a .cbk pressed by `trapetum quantize --codec C`, reused when present): greedy agreement
    with HF over --codec-tokens tokens, and mean KL(HF || trapetum) over those rows.

Usage: gpu_agreement.py MODEL_DIR [--device cuda|cpu] [--trapetum PATH] [--tokens 64]
         [--prompts P ...] [--codecs q4g64,cb4] [--json OUT]
       gpu_agreement.py MODEL_DIR --bench-hf [--prompt-tokens 512 --gen-tokens 128 --reps 3] [--json OUT]
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPTS = ["Once upon a time", "The capital of France is", "def fibonacci(n):",
           "In 1905 Albert Einstein published"]
NEW_FLAGS = ("--device", "--logits-out")


def default_trapetum():
    for d in ("build-gpu", "build"):
        p = os.path.join(ROOT, d, "bin", "trapetum")
        if os.path.exists(p):
            return p
    return "trapetum"


def fail(msg):
    print(f"gpu_agreement: error: {msg}", file=sys.stderr)
    sys.exit(1)


def call(cmd):
    """Runs a trapetum command; a failure says whether it looks like a missing new flag."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        fail(f"cannot run {cmd[0]}: {e}")
    if r.returncode != 0:
        err = r.stderr.strip()
        missing = [f for f in NEW_FLAGS if f in cmd and f in err]
        hint = ""
        if missing or "not expected" in err or "extraneous" in err.lower():
            hint = (f"\n  this trapetum does not accept {' / '.join(missing or NEW_FLAGS)}: it needs the CLI "
                    "with `run --device cpu|cuda --logits-out FILE` (the CUDA-backend work); rebuild it, or "
                    "point --trapetum at a build that has them")
        fail(f"command failed ({r.returncode}): {shlex.join(cmd)}\n  {err}{hint}")
    return r.stdout


def read_rows(path, vocab):
    """Little-endian float32 rows of `vocab` logits, as a float32 torch tensor (rows, vocab)."""
    import torch
    data = open(path, "rb").read()
    if len(data) % (4 * vocab):
        fail(f"{path}: {len(data)} bytes is not a whole number of rows of {vocab} float32 logits")
    t = torch.frombuffer(bytearray(data), dtype=torch.float32)
    if sys.byteorder != "little":
        t = t.byteswap()
    return t.reshape(-1, vocab)


def trapetum_run(a, model, prompt, n, tmp):
    """`trapetum run` greedy: (prompt ids, generated ids, logits file, what it ran on)."""
    logits = os.path.join(tmp, "logits.f32")
    if os.path.exists(logits):
        os.remove(logits)
    cmd = [a.trapetum, "run", "-m", model, "-p", prompt, "-n", str(n), "--temp", "0", "--ignore-eos", "--json",
           "--device", a.device, "--logits-out", logits, *shlex.split(a.trapetum_args)]
    out = json.loads(call(cmd))
    for key in ("prompt_ids", "generated_ids"):
        if key not in out:
            fail(f"`trapetum run --json` printed no {key!r} (fields: {sorted(out)})")
    if not os.path.exists(logits):
        fail(f"`trapetum run --logits-out {logits}` wrote no file")
    return out["prompt_ids"], out["generated_ids"], logits, {k: out.get(k) for k in ("device", "kernels", "kv_type")}


def check_rows(rows, gen, what):
    if rows.shape[0] != len(gen):
        print(f"  warning: {what}: {rows.shape[0]} logit rows for {len(gen)} generated tokens", file=sys.stderr)


def press(a, codec):
    base = os.path.basename(os.path.normpath(a.model))
    out = os.path.join(a.work or os.path.dirname(os.path.abspath(os.path.normpath(a.model))), f"{base}-{codec}.cbk")
    if not os.path.exists(out):
        print(f"  pressing {codec} -> {out}", file=sys.stderr)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        call([a.trapetum, "quantize", "-q", "-m", a.model, "-o", out, "--codec", codec])
    return out


def preflight(a):
    """Fails early, before any model loads, when the CLI lacks the flags this script needs."""
    help_text = call([a.trapetum, "run", "--help"])
    missing = [f for f in NEW_FLAGS if f not in help_text]
    if missing:
        fail(f"{a.trapetum} run does not accept {' / '.join(missing)}: it needs the CLI with `run --device "
             "cpu|cuda --logits-out FILE` (the CUDA-backend work); rebuild it, or point --trapetum at a build "
             "that has them")


def agree(a):
    preflight(a)
    device = a.device
    dtype = a.dtype if a.dtype != "auto" else ("f16" if device.startswith("cuda") else "f32")
    print(f"loading {a.model} in transformers ({device}, {dtype})", file=sys.stderr)
    ref = hf_reference.Reference(a.model, "cuda" if device.startswith("cuda") else "cpu", dtype)
    codecs = [c for c in a.codecs.split(",") if c]
    cbks = {c: press(a, c) for c in codecs}
    report = {"model": a.model, "device": device, "hf_dtype": dtype, "tokens": a.tokens,
              "codec_tokens": a.codec_tokens, "trapetum": a.trapetum, "trapetum_args": a.trapetum_args,
              **ref.versions, "prompts": []}
    with tempfile.TemporaryDirectory() as tmp:
        for prompt in a.prompts:
            print(f"prompt {prompt!r}", file=sys.stderr)
            p_ids, t_gen, logits_path, meta = trapetum_run(a, a.model, prompt, a.tokens, tmp)
            report.setdefault("trapetum_run", meta)
            t_rows = read_rows(logits_path, ref.vocab)
            check_rows(t_rows, t_gen, "f16")
            hf_ids = ref.tokenize(prompt)
            h_gen, _ = ref.greedy(p_ids, a.tokens)
            h_rows = ref.score(p_ids, t_gen)
            entry = {"prompt": prompt, "prompt_ids": p_ids, "hf_tokenizer_ids_match": None if hf_ids is None
                     else hf_ids == p_ids, "hf_greedy": h_gen, "trapetum_greedy": t_gen,
                     "greedy": hf_reference.greedy_agreement(h_gen, t_gen),
                     "logits": hf_reference.compare_rows(h_rows, t_rows), "codecs": {}}
            for c, cbk in cbks.items():
                q_ids, q_gen, q_path, _ = trapetum_run(a, cbk, prompt, a.codec_tokens, tmp)
                if q_ids != p_ids:
                    fail(f"{cbk}: prompt ids {q_ids} differ from the source model's {p_ids}")
                q_rows = read_rows(q_path, ref.vocab)
                check_rows(q_rows, q_gen, c)
                entry["codecs"][c] = {"greedy": hf_reference.greedy_agreement(h_gen[:a.codec_tokens], q_gen),
                                      "logits": hf_reference.compare_rows(ref.score(p_ids, q_gen), q_rows),
                                      "trapetum_greedy": q_gen}
            report["prompts"].append(entry)
    report["summary"] = summarize(report, codecs)
    return report


def summarize(report, codecs):
    def fold(entries):
        g = [e["greedy"] for e in entries]
        lg = [e["logits"] for e in entries if e["logits"]["rows"]]
        firsts = [x["first_divergence"] for x in g if x["first_divergence"] is not None]
        return {"identical": sum(x["identical"] for x in g), "compared": sum(x["compared"] for x in g),
                "all_identical_prompts": sum(1 for x in g if x["first_divergence"] is None),
                "earliest_divergence": min(firsts) if firsts else None,
                "max_abs_dlogit": max((x["max_abs_dlogit"] for x in lg), default=None),
                "top1": sum(x["top1"] * x["rows"] for x in lg) / max(1, sum(x["rows"] for x in lg)) if lg else None,
                "kl_mean": sum(x["kl_mean"] * x["rows"] for x in lg) / max(1, sum(x["rows"] for x in lg)) if lg else None}
    out = {"f16": fold(report["prompts"])}
    for c in codecs:
        out[c] = fold([p["codecs"][c] for p in report["prompts"]])
    return out


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def print_table(report):
    n = len(report["prompts"])
    print(f"\n{report['model']} on {report['device']}: HF {report['hf_dtype']} vs trapetum, {n} prompts")
    print(f"{'format':8} {'greedy identical':>18} {'prompts exact':>14} {'first div':>10} "
          f"{'max|dlogit|':>12} {'top-1':>7} {'mean KL':>10}")
    for name, s in report["summary"].items():
        print(f"{name:8} {s['identical']:>8}/{s['compared']:<9} {s['all_identical_prompts']:>9}/{n:<4} "
              f"{fmt(s['earliest_divergence'], 'd'):>10} {fmt(s['max_abs_dlogit'], '.4f'):>12} "
              f"{fmt(s['top1'], '.3f'):>7} {fmt(s['kl_mean'], '.2e'):>10}")
    bad = [p["prompt"] for p in report["prompts"] if p["hf_tokenizer_ids_match"] is False]
    if bad:
        print(f"note: HF's tokenizer gives other ids than trapetum for {bad} (HF was fed trapetum's ids)")


def bench_hf(a):
    device = "cuda" if a.device.startswith("cuda") else "cpu"
    dtype = a.dtype if a.dtype != "auto" else ("f16" if device == "cuda" else "f32")
    ref = hf_reference.Reference(a.model, device, dtype)
    r = ref.bench(a.prompt_tokens, a.gen_tokens, a.reps)
    r.update({"engine": "transformers", "model": a.model, "device": device, "dtype": dtype, **ref.versions})
    if device == "cuda":
        r["gpu"] = ref.torch.cuda.get_device_name()
    print(f"HF {dtype} on {device}: pp{a.prompt_tokens} {r['pp_tok_s']['median']:.1f} tok/s, "
          f"tg{a.gen_tokens} {r['tg_tok_s']['median']:.1f} tok/s (median of {a.reps})")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="HuggingFace model directory (e.g. from `trapetum synth`)")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda when torch sees a GPU)")
    ap.add_argument("--dtype", default="auto", choices=["auto", "f16", "bf16", "f32"],
                    help="HF dtype (auto: f16 on cuda, f32 on cpu)")
    ap.add_argument("--trapetum", default=default_trapetum(), help="trapetum CLI (default: build-gpu or build)")
    ap.add_argument("--trapetum-args", default="", help="extra arguments for every `trapetum run`, e.g. '--kv-type f32'")
    ap.add_argument("--tokens", type=int, default=64, help="greedy tokens per prompt for the unpressed model")
    ap.add_argument("--codec-tokens", type=int, default=16, help="greedy tokens per prompt for each codec")
    ap.add_argument("--prompts", nargs="+", default=PROMPTS)
    ap.add_argument("--codecs", default="", help="comma-separated codecs to press and compare, e.g. q4g64,cb4,q8")
    ap.add_argument("--work", default=None, help="where pressed .cbk files go (default: beside MODEL_DIR)")
    ap.add_argument("--json", default=None, help="write the report here")
    ap.add_argument("--bench-hf", action="store_true", help="time HF prefill and greedy decode instead")
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    if not os.path.isdir(a.model):
        fail(f"{a.model} is not a HuggingFace model directory")
    try:
        import torch
    except ImportError:
        fail("PyTorch is not installed (pip install torch transformers)")
    if a.device is None:
        a.device = "cuda" if torch.cuda.is_available() else "cpu"
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        fail("--device cuda, but torch sees no GPU")
    if a.tokens < 1 or a.codec_tokens < 1:
        fail("--tokens and --codec-tokens must be at least 1")
    a.codec_tokens = min(a.codec_tokens, a.tokens)  # codecs are compared with the HF greedy run's tokens
    report = bench_hf(a) if a.bench_hf else agree(a)
    if not a.bench_hf:
        print_table(report)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
        print(f"wrote {a.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
