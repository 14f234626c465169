#!/usr/bin/env python3
"""Differential test: `trapetum tokenize/detokenize` against the HuggingFace `tokenizers` package.

For each tokenizer (llama2, llama3, qwen3 from ../shared/tokenizers; stories260K and llama2-tiny-random
from their GGUFs; SmolLM2 from $TRAPETUM_SMOLLM2_GGUF) and each string of the corpus (every line of
WikiText-2 test and the whole file, seeded adversarial strings from adversarial_corpus.py, and
strings around the vocabulary's added tokens) it checks that our ids equal HF's encode(text) ids
(add_special_tokens=True) and that our decode of our ids equals HF's decode of HF's ids, with and
without skip_special_tokens. Invalid UTF-8: the CLI replaces each maximal invalid subpart by U+FFFD,
so our ids for raw bytes must equal HF's ids for bytes.decode("utf-8", "replace").
GGUF vocabularies get their HF reference from scripts/make_tokenizer_fixtures.py (imported).
Exits 0 with a message when `tokenizers` or ../shared is missing; 1 on any mismatch.

Usage: differential_test.py --cli build/bin/trapetum --shared ../shared [--show 5] [--only qwen3]
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import adversarial_corpus  # noqa: E402


def load_fixture_module():
    path = os.path.join(ROOT, "scripts", "make_tokenizer_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_tokenizer_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tokenizer_cases(shared, fixtures):
    """(name, CLI source arguments, HF factory) for every tokenizer whose files are present."""
    from tokenizers import Tokenizer
    cases, skipped = [], []
    for name in ("llama2", "llama3", "qwen3"):
        path = os.path.join(shared, "tokenizers", name, "tokenizer.json")
        if os.path.exists(path):
            cases.append((name, ["--tokenizer", path], lambda p=path: Tokenizer.from_file(p)))
        else:
            skipped.append(f"{name} ({path} missing)")
    have_gguf = importlib.util.find_spec("gguf") is not None
    gguf_cases = [
        ("stories260k", os.path.join(shared, "models/stories260K/stories260K.gguf"), fixtures.spm_from_gguf),
        ("llama2_gguf", os.path.join(shared, "models/llama2-tiny-random/llama-2-tiny-random.gguf"),
         fixtures.spm_from_gguf),
        ("smollm2", os.environ.get("TRAPETUM_SMOLLM2_GGUF", ""), fixtures.byte_level_from_gguf),
    ]
    for name, path, factory in gguf_cases:
        if not path:
            skipped.append(f"{name} (TRAPETUM_SMOLLM2_GGUF unset)")
        elif not os.path.exists(path):
            skipped.append(f"{name} ({path} missing)")
        elif not have_gguf:
            skipped.append(f"{name} (the gguf Python package is needed to read {path})")
        else:
            cases.append((name, ["-m", path], lambda p=path, f=factory: f(p)))
    return cases, skipped


def corpus(shared, hf_tok):
    """[(group, text)], deduplicated, in a fixed order."""
    with open(os.path.join(shared, "data/wikitext-2/wikitext-2-raw-v1.test.txt"), encoding="utf-8") as f:
        whole = f.read()
    groups = [("wikitext", whole.split("\n") + [whole]),
              ("adversarial", adversarial_corpus.texts()),
              ("added-token", adversarial_corpus.special_texts(
                  [t.content for t in hf_tok.get_added_tokens_decoder().values()]))]
    seen, out = set(), []
    for group, texts in groups:
        for t in texts:
            if t not in seen:
                seen.add(t)
                out.append((group, t))
    return out


def run_cli(cli, args, stdin_path=None):
    """Runs the CLI; returns stdout lines, or raises RuntimeError with its error message."""
    cmd = [cli] + args + (["-f", stdin_path] if stdin_path else [])
    p = subprocess.run(cmd, capture_output=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode('utf-8', 'replace').strip()}")
    return p.stdout.decode("utf-8").split("\n")[:-1]


def write_lines(path, rows):
    with open(path, "wb") as f:
        for r in rows:
            f.write(r + b"\n")


def short(x, limit=300):
    s = repr(x)
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} chars)"


class Checker:
    """Counts one pass or one failure per input; prints the first `show` mismatches."""

    def __init__(self, show):
        self.passed = self.failed = 0
        self.show = show
        self.shown = 0

    def check(self, name, text, comparisons):
        """comparisons: [(what, ours, hf)]; the input passes when every pair is equal."""
        for what, ours, ref in comparisons:
            if ours != ref:
                self.failed += 1
                if self.shown < self.show:
                    self.shown += 1
                    print(f"  MISMATCH {name} {what}\n    text: {short(text)}\n    ours: {short(ours)}\n"
                          f"    hf:   {short(ref)}")
                return False
        self.passed += 1
        return True


def batch_checks(name, source, hf, texts, cli, tmp, chk):
    """--lines tokenize and detokenize over the whole corpus; one check per string."""
    src = os.path.join(tmp, name + ".jsonl")
    # Every other line \u-escaped, so the CLI's JSON parsing of both forms is exercised.
    write_lines(src, [json.dumps(t, ensure_ascii=bool(i % 2)).encode("utf-8") for i, t in enumerate(texts)])
    ours = [json.loads(ln) for ln in run_cli(cli, ["tokenize"] + source + ["--lines"], src)]
    refs = [e.ids for e in hf.encode_batch(texts)]
    if len(ours) != len(refs):
        raise RuntimeError(f"tokenize --lines printed {len(ours)} lines for {len(refs)} inputs")
    ids_path = os.path.join(tmp, name + ".ids")
    write_lines(ids_path, [json.dumps(ids).encode() for ids in ours])
    decoded = {}
    for skip in (False, True):
        flags = ["--skip-special"] if skip else []
        decoded[skip] = [json.loads(ln) for ln in run_cli(cli, ["detokenize"] + source + flags + ["--lines"], ids_path)]
    ref_dec = {skip: hf.decode_batch(refs, skip_special_tokens=skip) for skip in (False, True)}
    for i, t in enumerate(texts):
        chk.check(name, t, [("ids", ours[i], refs[i])] +
                  [(f"decode(skip_special={s})", decoded[s][i], ref_dec[s][i]) for s in (False, True)])


def invalid_utf8_checks(name, source, hf, cli, tmp, chk):
    """Raw invalid bytes inside JSON-lines strings: ids equal HF's for the U+FFFD-replaced text."""
    raws = adversarial_corpus.invalid_utf8()
    src = os.path.join(tmp, name + ".invalid.jsonl")
    write_lines(src, [b'"' + r + b'"' for r in raws])
    ours = [json.loads(ln) for ln in run_cli(cli, ["tokenize"] + source + ["--lines"], src)]
    replaced = [r.decode("utf-8", "replace") for r in raws]
    refs = [e.ids for e in hf.encode_batch(replaced)]
    for r, o, ref in zip(raws, ours, refs):
        chk.check(name, r, [("ids (invalid UTF-8)", o, ref)])


def single_checks(name, source, hf, texts, cli, tmp, chk):
    """The non-batch paths: -f FILE --json (ids and pieces), --no-special, -p, and detokenize IDS."""
    for i, raw in enumerate(texts):
        path = os.path.join(tmp, f"{name}.single{i}.txt")
        with open(path, "wb") as f:
            f.write(raw)
        text = raw.decode("utf-8", "replace")
        enc = hf.encode(text)
        out = json.loads(run_cli(cli, ["tokenize"] + source + ["--json"], path)[0])
        chk.check(name, raw, [("tokenize -f --json", (out["ids"], out["pieces"]), (enc.ids, enc.tokens))])
        out = json.loads(run_cli(cli, ["tokenize"] + source + ["--json", "--no-special"], path)[0])
        chk.check(name, raw, [("tokenize --no-special", out["ids"], hf.encode(text, add_special_tokens=False).ids)])
        if b"\0" not in raw:
            out = json.loads(run_cli(cli, ["tokenize"] + source + ["--json", "-p", raw])[0])
            chk.check(name, raw, [("tokenize -p", out["ids"], enc.ids)])
        if enc.ids:
            out = json.loads(run_cli(cli, ["detokenize"] + source + ["--json"] + [str(x) for x in enc.ids])[0])
            chk.check(name, enc.ids, [("detokenize IDS", out["text"], hf.decode(enc.ids, skip_special_tokens=False))])


SINGLE_TEXTS = [
    "Hello world, it's 2024! 日本語 🙂",
    b" <s>x</s> <|im_start|>user\n\tHi<|im_end|>\n<|endoftext|> bad \xff bytes \xe2\x82 and "
    b"\xf0\x9f\x99\x82 \xed\xa0\x80  spaces \r\n".decode("utf-8", "surrogateescape"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="path of the trapetum binary")
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--show", type=int, default=5, help="mismatches printed per tokenizer")
    ap.add_argument("--only", action="append", help="run only this tokenizer (repeatable)")
    args = ap.parse_args()
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        print("SKIP: the `tokenizers` Python package is not installed (pip install tokenizers)")
        return 0
    if not os.path.isdir(args.shared):
        print(f"SKIP: {args.shared} is missing (tokenizers, models and WikiText-2 live there)")
        return 0
    if not os.access(args.cli, os.X_OK):
        print(f"error: --cli {args.cli} is not an executable file")
        return 1
    cases, skipped = tokenizer_cases(args.shared, load_fixture_module())
    for s in skipped:
        print(f"skipping {s}")
    singles = [t.encode("utf-8", "surrogateescape") for t in SINGLE_TEXTS]
    total_pass = total_fail = 0
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="trapetum_tokdiff_") as tmp:
        for name, source, factory in cases:
            if args.only and name not in args.only:
                continue
            t0 = time.time()
            hf = factory()
            items = corpus(args.shared, hf)
            texts = [t for _, t in items]
            chk = Checker(args.show)
            try:
                batch_checks(name, source, hf, texts, args.cli, tmp, chk)
                invalid_utf8_checks(name, source, hf, args.cli, tmp, chk)
                single_checks(name, source, hf, singles, args.cli, tmp, chk)
            except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
                chk.failed += 1
                print(f"  ERROR {name}: {e}")
            counts = {}
            for g, _ in items:
                counts[g] = counts.get(g, 0) + 1
            groups = ", ".join(f"{n} {g}" for g, n in counts.items())
            print(f"{name}: {chk.passed} passed, {chk.failed} failed ({groups}, "
                  f"{len(adversarial_corpus.invalid_utf8())} invalid UTF-8, CLI paths) in {time.time() - t0:.1f} s",
                  flush=True)
            total_pass += chk.passed
            total_fail += chk.failed
    print(f"total time {time.time() - start:.1f} s")
    print(f"{total_pass} passed, {total_fail} failed")
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
