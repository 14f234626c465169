#!/usr/bin/env python3
"""HF check of `trapetum synth`: transformers loads the synthesized directory, and our engine agrees.

For the `tiny`, `tiny-qwen2` (QKV bias, Qwen2 pre-tokenizer) and `tiny-llama3` (llama3 RoPE scaling)
presets and a 2-layer `smollm2-135m` (tied embeddings, 9/3 heads) it synthesizes an
f32 HF directory and a GGUF of the same seed, then checks that
  * AutoTokenizer and AutoModelForCausalLM load the directory;
  * HF's token ids equal ours (`trapetum tokenize --lines`) on English, UTF-8, ChatML and the
    adversarial corpus, and HF decodes its ids back to the text;
  * HF's greedy generate (8 new tokens) equals `trapetum run -m DIR --temp 0 -n 8 --json`, and the
    GGUF gives the same tokens (its Q/K rows are in the interleaved RoPE order).
Prints SKIP and exits 0 when torch or transformers cannot be imported; exits 1 on any mismatch.

Usage: synth_hf_check.py --cli build/bin/trapetum
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tokenizer"))

PROMPTS = ["Once upon a time", "The library opens at nine o'clock.", "Zürich, 東京 and 🙂", "1234567 + 89 ="]
TEXTS = PROMPTS + [
    "Hello, world!  Two  spaces\tand a tab\nand a newline.\r\n",
    "naïve café — 日本語のテキスト Ωmega ß",
    "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n",
    "<unused_600> is plain text, not a token",
]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def our_ids(cli, model, texts, tmp):
    path = os.path.join(tmp, "texts.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t) + "\n")
    out = run([cli, "tokenize", "-m", model, "-f", path, "--lines"])
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def check_model(cli, preset, extra, tmp, torch, transformers):
    failures = []
    hf_dir = os.path.join(tmp, preset + "-hf")
    gguf = os.path.join(tmp, preset + ".gguf")
    for out in (hf_dir, gguf):
        run([cli, "synth", "--preset", preset, *extra, "--seed", "11", "--dtype", "f32", "-o", out])
    tok = transformers.AutoTokenizer.from_pretrained(hf_dir)
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"  # renamed in 4.56
    model = transformers.AutoModelForCausalLM.from_pretrained(hf_dir, **{dtype_key: torch.float32})
    model.eval()

    import adversarial_corpus
    texts = TEXTS + adversarial_corpus.texts()[:300]
    ours = our_ids(cli, hf_dir, texts, tmp)
    for text, mine in zip(texts, ours):
        theirs = tok(text)["input_ids"]
        if theirs != mine:
            failures.append(f"{preset}: ids differ for {text[:60]!r}: HF {theirs[:12]} ours {mine[:12]}")
        elif text in TEXTS and tok.decode(theirs, skip_special_tokens=False) != tok.bos_token + text:
            failures.append(f"{preset}: HF decode does not round-trip {text[:60]!r}")
    if len(ours) != len(texts):
        failures.append(f"{preset}: {len(ours)} tokenize results for {len(texts)} texts")

    for prompt in PROMPTS:
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False)
        want = gen[0, ids.shape[1]:].tolist()
        for source in (hf_dir, gguf):
            got = json.loads(run([cli, "run", "-m", source, "-p", prompt, "--temp", "0", "-n", "8", "--json"]))
            if got["prompt_ids"] != ids[0].tolist():
                failures.append(f"{preset} {os.path.basename(source)}: prompt ids {got['prompt_ids']} vs HF {ids[0].tolist()}")
            if got["generated_ids"] != want:
                failures.append(f"{preset} {os.path.basename(source)}: greedy {got['generated_ids']} vs HF {want} "
                                f"for {prompt!r}")
    print(f"{preset}: {len(texts)} texts, {len(PROMPTS)} greedy prompts x 2 formats checked")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    try:
        import torch
        import transformers
    except Exception as e:  # noqa: BLE001 (any import failure means "not available here")
        print(f"SKIP: torch/transformers not importable ({e})")
        return 0
    transformers.logging.set_verbosity_error()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset, extra in (("tiny", []), ("tiny-qwen2", []), ("tiny-llama3", []),
                              ("smollm2-135m", ["--layers", "2"])):
            failures += check_model(args.cli, preset, extra, tmp, torch, transformers)
    for f in failures:
        print("FAIL:", f)
    print("synth HF check:", "FAILED" if failures else "passed", f"(transformers {transformers.__version__})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
