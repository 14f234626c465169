#!/usr/bin/env python3
"""HF check of `trapetum dequantize`: transformers loads the directory it writes, and agrees with us.

  * tiny_llama's model.gguf (Q/K in the interleaved RoPE order) dequantized: HF logits over the
    fixture prompt equal the fixture's reference logits (made by HF from the original safetensors);
  * stories260K.gguf and a q8 .cbk of it dequantized: AutoTokenizer's ids equal ours
    (`trapetum tokenize --lines` on the GGUF; `tokenize` reads no .cbk) and HF's greedy generate (8 tokens) equals
    `trapetum run -m SOURCE --temp 0 -n 8 --json`.
Prints SKIP and exits 0 when torch or transformers cannot be imported; exits 1 on any mismatch.

Usage: dequantize_hf_check.py --cli build/bin/trapetum --shared ../shared
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "data", "models")
PROMPTS = ["Once upon a time", "Lily saw a big dog. She was happy", "The sun is"]
TEXTS = PROMPTS + ["Hello, world!  Two  spaces\tand a tab\nand a newline.", "naïve café — 日本語 🙂", " leading space"]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def load_hf(transformers, torch, path):
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    model = transformers.AutoModelForCausalLM.from_pretrained(path, **{dtype_key: torch.float32},
                                                              attn_implementation="eager")
    model.eval()
    return model


def check_tiny_llama(cli, tmp, torch, transformers, np):
    case = os.path.join(DATA, "tiny_llama")
    if not os.path.exists(os.path.join(case, "model.gguf")):
        return []
    out = os.path.join(tmp, "tiny_llama_hf")
    run([cli, "dequantize", os.path.join(case, "model.gguf"), "-o", out, "-q"])
    ref = json.load(open(os.path.join(case, "reference.json")))
    model = load_hf(transformers, torch, out)
    failures = []
    for p in ref["prompts"]:
        if not p.get("logits_file"):
            continue
        want = np.fromfile(os.path.join(case, p["logits_file"]), dtype=np.float32).reshape(len(p["ids"]), -1)
        with torch.no_grad():
            got = model(torch.tensor([p["ids"]])).logits[0].numpy()
        err = float(np.abs(got - want).max() / max(1e-9, np.abs(want).max()))
        print(f"tiny_llama (gguf -> HF dir): max |dlogit| / max |logit| = {err:.2e}")
        if err > 1e-4:
            failures.append(f"tiny_llama: HF logits of the dequantized GGUF differ from the reference by {err:.2e}")
    return failures


def check_source(cli, source, tok_source, tmp, torch, transformers):
    name = os.path.basename(source)
    out = os.path.join(tmp, name + "-hf")
    run([cli, "dequantize", source, "-o", out, "-q"])
    tok = transformers.AutoTokenizer.from_pretrained(out)
    model = load_hf(transformers, torch, out)
    failures = []
    path = os.path.join(tmp, "texts.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for t in TEXTS:
            f.write(json.dumps(t) + "\n")
    ours = [json.loads(line) for line in run([cli, "tokenize", "-m", tok_source, "-f", path, "--lines"]).splitlines()
            if line.strip()]
    for text, mine in zip(TEXTS, ours):
        theirs = tok(text)["input_ids"]
        if theirs != mine:
            failures.append(f"{name}: ids differ for {text!r}: HF {theirs[:16]} ours {mine[:16]}")
    for prompt in PROMPTS:
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False)
        want = gen[0, ids.shape[1]:].tolist()
        got = json.loads(run([cli, "run", "-m", source, "-p", prompt, "--temp", "0", "-n", "8", "--json"]))
        if got["generated_ids"] != want:
            failures.append(f"{name}: greedy {got['generated_ids']} vs HF {want} for {prompt!r}")
    print(f"{name}: {len(TEXTS)} texts tokenized, {len(PROMPTS)} greedy prompts checked")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "shared"))
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
        import transformers
    except Exception as e:  # noqa: BLE001 (any import failure means "not available here")
        print(f"SKIP: torch/transformers not importable ({e})")
        return 0
    transformers.logging.set_verbosity_error()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        failures += check_tiny_llama(args.cli, tmp, torch, transformers, np)
        stories = os.path.join(args.shared, "models", "stories260K", "stories260K.gguf")
        if os.path.exists(stories):
            cbk = os.path.join(tmp, "stories_q8.cbk")
            run([args.cli, "quantize", "-m", stories, "-o", cbk, "--codec", "q8", "-q", "--no-source-hash"])
            for source in (stories, cbk):
                failures += check_source(args.cli, source, stories, tmp, torch, transformers)
        else:
            print(f"stories260K not found under {args.shared}; skipped")
    for f in failures:
        print("FAIL:", f)
    print("dequantize HF check:", "FAILED" if failures else "passed", f"(transformers {transformers.__version__})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
