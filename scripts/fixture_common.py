"""Shared helpers for scripts/make_model_fixtures.py: paths, tiny tokenizers, GGUF writing, and the
HuggingFace reference computations (prompt logits, greedy continuations, sliding-window perplexity)."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
OUT = REPO / "tests" / "data" / "models"
WIKITEXT = SHARED / "data" / "wikitext-2" / "wikitext-2-raw-v1.test.txt"
WIKITEXT_REF = "{shared}/data/wikitext-2/wikitext-2-raw-v1.test.txt"

_T0 = time.time()


def log(msg: str) -> None:
    print(f"[{time.time() - _T0:7.1f}s] {msg}", flush=True)


def rel(path: Path) -> str:
    """Path relative to the repo root, with forward slashes."""
    return Path(path).resolve().relative_to(REPO).as_posix()


def wikitext() -> str:
    with open(WIKITEXT, encoding="utf-8", newline="") as f:
        return f.read()


# --------------------------------------------------------------------------------------------------
# Tiny tokenizers, trained with the `tokenizers` library on the first ~200 KB of wikitext.
# --------------------------------------------------------------------------------------------------

LLAMA3_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
TRAIN_BYTES = 200_000


def _training_lines() -> list[str]:
    text = wikitext()[:TRAIN_BYTES]
    return [line for line in text.split("\n") if line.strip()]


def build_spm_tokenizer(vocab_size: int, min_char_count: int):
    """Llama-2 style BPE: Metaspace (prepend_scheme first), byte fallback <0x00>..<0xFF> at ids 3..258,
    <unk>=0 <s>=1 </s>=2, BOS added by TemplateProcessing.

    Merges are regenerated the way transformers converts a SentencePiece model: every pair (a, b) whose
    concatenation is in the vocabulary, ranked by the id of a+b (lower id = higher SentencePiece score).
    With GGUF scores = -id this makes HF BPE and llama.cpp's score-driven SPM merge agree.
    Returns (tokenizers.Tokenizer, gguf_vocab dict)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{i:02X}>" for i in range(256)]
    n_reserved = len(specials) + len(byte_tokens)

    lines = _training_lines()
    # The alphabet: characters seen at least min_char_count times (a threshold, not the trainer's limit_alphabet,
    # whose ties among rare characters are broken differently from run to run). Others fall back to bytes.
    counts = {}
    for line in lines:
        for ch in "\u2581" + line.replace(" ", "\u2581"):
            counts[ch] = counts.get(ch, 0) + 1
    alphabet = sorted(ch for ch, c in counts.items() if c >= min_char_count)
    trainer_tok = Tokenizer(models.BPE())
    trainer_tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - n_reserved, initial_alphabet=alphabet, limit_alphabet=len(alphabet),
        special_tokens=[], show_progress=False,
    )
    trainer_tok.train_from_iterator(lines, trainer)
    assert all(len(t) > 1 or t in alphabet for t in trainer_tok.get_vocab()), "alphabet not respected"
    trained = sorted(trainer_tok.get_vocab().items(), key=lambda kv: kv[1])

    pieces = specials + byte_tokens + [tok for tok, _ in trained]
    assert len(pieces) == len(set(pieces)) == vocab_size, (len(pieces), vocab_size)
    vocab = {p: i for i, p in enumerate(pieces)}
    normal = pieces[n_reserved:]
    merges = []
    for piece in normal:
        for k in range(1, len(piece)):
            a, b = piece[:k], piece[k:]
            if a in vocab and b in vocab and vocab[a] >= n_reserved and vocab[b] >= n_reserved:
                merges.append((vocab[piece], vocab[a], vocab[b], a, b))
    merges.sort()
    merges = [(a, b) for *_, a, b in merges]

    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence(
        [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)]
    )
    # GGUF (llama.cpp "llama" / SPM) view of the same vocabulary.
    scores, types = [], []
    for i, p in enumerate(pieces):
        if p == "<unk>":
            scores.append(0.0), types.append(2)  # UNKNOWN
        elif p in specials:
            scores.append(0.0), types.append(3)  # CONTROL
        elif i < n_reserved:
            scores.append(0.0), types.append(6)  # BYTE
        else:
            scores.append(-float(i)), types.append(1)  # NORMAL
    gguf_vocab = dict(
        model="llama", tokens=pieces, scores=scores, types=types, merges=None, pre=None,
        bos=1, eos=2, unk=0, add_bos=True, add_space_prefix=True,
    )
    return tok, gguf_vocab


def build_bytelevel_tokenizer(vocab_size: int, regex: str, specials: list[str], bos: str | None, eos: str,
                              ignore_merges: bool, pre_name: str):
    """GPT-2 / Llama-3 style byte-level BPE: Split(regex) + ByteLevel(add_prefix_space=False, use_regex=False),
    ByteLevel decoder, special tokens appended after the trained vocabulary, BOS (if any) added by
    TemplateProcessing. Returns (tokenizers.Tokenizer, gguf_vocab dict)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    pre = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer_tok = Tokenizer(models.BPE())
    trainer_tok.pre_tokenizer = pre
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(specials), initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[], show_progress=False,
    )
    trainer_tok.train_from_iterator([line + "\n" for line in _training_lines()], trainer)
    trained = json.loads(trainer_tok.to_str())["model"]
    pieces = [tok for tok, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1])] + specials
    assert len(pieces) == len(set(pieces)) == vocab_size, (len(pieces), vocab_size)
    vocab = {p: i for i, p in enumerate(pieces)}
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]

    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=ignore_merges))
    tok.normalizer = None
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if bos is not None:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, vocab[bos])]
        )
    types = [3 if p in specials else 1 for p in pieces]
    gguf_vocab = dict(
        model="gpt2", tokens=pieces, scores=None, types=types, merges=[f"{a} {b}" for a, b in merges], pre=pre_name,
        bos=vocab[bos] if bos is not None else vocab[eos], eos=vocab[eos], unk=None, add_bos=bos is not None,
        add_space_prefix=None,
    )
    return tok, gguf_vocab


def save_tokenizer(tok, directory: Path, bos: str | None, eos: str, unk: str | None, add_bos: bool,
                   chat_template: str | None = None, max_len: int = 256) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tok.save(str(directory / "tokenizer.json"))
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bos,
        "eos_token": eos,
        "unk_token": unk,
        "add_bos_token": add_bos,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": max_len,
    }
    if chat_template is not None:
        cfg["chat_template"] = chat_template
    with open(directory / "tokenizer_config.json", "w") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")


def check_autotokenizer(directory: Path, tok, texts: list[str]) -> None:
    """transformers' AutoTokenizer on the saved directory must give the ids the tokenizers object gives."""
    from transformers import AutoTokenizer

    auto = AutoTokenizer.from_pretrained(str(directory))
    for text in texts:
        a = auto(text)["input_ids"]
        b = tok.encode(text).ids
        assert a == b, f"AutoTokenizer({directory.name}) disagrees with tokenizer.json on {text!r}: {a} vs {b}"


# --------------------------------------------------------------------------------------------------
# GGUF helpers
# --------------------------------------------------------------------------------------------------


def permute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """HF -> GGUF row order for llama Q/K, exactly as llama.cpp's convert_hf_to_gguf (n_head = n_kv for K)."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


HF_TO_GGUF_LAYER = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def hf_name_to_gguf(name: str) -> str:
    if name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if name == "model.norm.weight":
        return "output_norm.weight"
    if name == "lm_head.weight":
        return "output.weight"
    parts = name.split(".")
    assert parts[0] == "model" and parts[1] == "layers", name
    return f"blk.{parts[2]}." + HF_TO_GGUF_LAYER[".".join(parts[3:])]


def add_gguf_vocab(w, v: dict) -> None:
    w.add_tokenizer_model(v["model"])
    if v["pre"] is not None:
        w.add_tokenizer_pre(v["pre"])
    w.add_token_list(v["tokens"])
    if v["scores"] is not None:
        w.add_token_scores(v["scores"])
    w.add_token_types(v["types"])
    if v["merges"] is not None:
        w.add_token_merges(v["merges"])
    w.add_bos_token_id(v["bos"])
    w.add_eos_token_id(v["eos"])
    if v["unk"] is not None:
        w.add_unk_token_id(v["unk"])
    w.add_add_bos_token(v["add_bos"])
    w.add_add_eos_token(False)
    if v["add_space_prefix"] is not None:
        w.add_add_space_prefix(v["add_space_prefix"])
    if v.get("chat_template"):
        w.add_chat_template(v["chat_template"])


def write_gguf(path: Path, arch: str, cfg, gguf_vocab: dict, tensors: list, name: str, file_type: int,
               extra=None) -> None:
    """tensors: list of (gguf_name, np.ndarray, raw_dtype or None). Float arrays are written as their dtype
    (float32 -> F32, float16 -> F16); uint8 arrays with raw_dtype are pre-quantized blocks."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name(name)
    w.add_file_type(file_type)
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_freq_base(float(cfg.rope_parameters["rope_theta"]))
    w.add_rope_dimension_count(head_dim)
    w.add_vocab_size(cfg.vocab_size)
    if file_type not in (0, 1):
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    if extra:
        extra(w)
    add_gguf_vocab(w, gguf_vocab)
    for tname, arr, raw in tensors:
        if raw is None:
            w.add_tensor(tname, np.ascontiguousarray(arr))
        else:
            w.add_tensor(tname, np.ascontiguousarray(arr), raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def hf_state_to_gguf_tensors(state: dict, cfg, arch: str, f16: bool = False) -> list:
    """HF state dict (torch, float32) -> [(gguf_name, array, None)]; llama permutes Q/K, qwen2 does not.
    f16: 2-D weights as float16, norms and biases float32 (llama.cpp's convention)."""
    out = []
    for name in sorted(state, key=_gguf_order):
        arr = state[name].detach().to("cpu").float().numpy().copy()
        if arch == "llama" and name.endswith("q_proj.weight"):
            arr = permute_qk(arr, cfg.num_attention_heads)
        elif arch == "llama" and name.endswith("k_proj.weight"):
            arr = permute_qk(arr, cfg.num_key_value_heads)
        if f16 and arr.ndim == 2:
            arr = arr.astype(np.float16)
        out.append((hf_name_to_gguf(name), arr, None))
    return out


def _gguf_order(name: str):
    if name == "model.embed_tokens.weight":
        return (0, 0, name)
    if name.startswith("model.layers."):
        return (1, int(name.split(".")[2]), name)
    return (2, 0, name)


def gguf_metadata(path) -> dict:
    import gguf

    r = gguf.GGUFReader(str(path))
    md = {}
    for k, f in r.fields.items():
        try:
            md[k] = f.contents()
        except Exception:  # noqa: BLE001
            pass
    return md


def load_llama_gguf_by_hand(path, config) -> dict:
    """Independent GGUF -> HF state dict for arch llama with gguf-py: dequantize, un-permute Q/K."""
    import gguf
    import torch

    r = gguf.GGUFReader(str(path))
    inv = {}
    state = {}
    names = {hf_name_to_gguf(f"model.layers.{i}.{k}"): f"model.layers.{i}.{k}"
             for i in range(config.num_hidden_layers) for k in HF_TO_GGUF_LAYER}
    names.update({"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                  "output.weight": "lm_head.weight"})
    for t in r.tensors:
        if t.name not in names:
            inv[t.name] = t
            continue
        arr = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        arr = arr.reshape([int(x) for x in reversed(t.shape)]) if arr.ndim != len(t.shape) else arr
        hf = names[t.name]
        if hf.endswith("q_proj.weight"):
            arr = unpermute_qk(arr, config.num_attention_heads)
        elif hf.endswith("k_proj.weight"):
            arr = unpermute_qk(arr, config.num_key_value_heads)
        state[hf] = torch.from_numpy(np.ascontiguousarray(arr))
    if "lm_head.weight" not in state:
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    return state


# --------------------------------------------------------------------------------------------------
# Reference computations
# --------------------------------------------------------------------------------------------------


def forward_logits(model, ids: list[int]):
    import torch

    with torch.no_grad():
        return model(torch.tensor([ids], dtype=torch.long)).logits[0].float()


def greedy(model, ids: list[int], n_new: int = 32):
    """Plain argmax, full recompute each step (no KV cache), no EOS stopping.
    Returns (new ids, smallest top1-top2 logit gap seen)."""
    import torch

    seq = list(ids)
    new, min_margin = [], math.inf
    with torch.no_grad():
        for _ in range(n_new):
            logits = model(torch.tensor([seq], dtype=torch.long), logits_to_keep=1).logits[0, -1].float()
            top = torch.topk(logits, 2)
            min_margin = min(min_margin, float(top.values[0] - top.values[1]))
            nxt = int(torch.argmax(logits))
            new.append(nxt)
            seq.append(nxt)
    return new, min_margin


def perplexity(model, ids: list[int], ctx: int, stride: int, progress: str | None = None):
    """HF sliding-window perplexity, exactly the protocol in the fixture README. Returns (ppl, count)."""
    import torch

    L = len(ids)
    nll_sum, count, prev_end = 0.0, 0, 0
    n_windows = 0
    for begin in range(0, L, stride):
        end = min(begin + ctx, L)
        trg_len = end - prev_end
        n = end - begin
        j0 = max(n - trg_len, 1)  # first scored window index (never the window's first token)
        keep = n - (j0 - 1)  # logits rows j0-1 .. n-1 (the last row is not used)
        window = torch.tensor([ids[begin:end]], dtype=torch.long)
        with torch.no_grad():
            logits = model(window, logits_to_keep=keep).logits[0].float()
        offset = n - keep  # window index of logits row 0
        targets = torch.tensor(ids[begin + j0: end], dtype=torch.long)
        rows = logits[j0 - 1 - offset: n - 1 - offset]
        assert rows.shape[0] == targets.shape[0]
        for s in range(0, rows.shape[0], 256):
            lp = torch.log_softmax(rows[s:s + 256].double(), dim=-1)
            nll_sum += float(-lp.gather(1, targets[s:s + 256, None]).sum())
        count += int(targets.shape[0])
        prev_end = end
        n_windows += 1
        if progress and n_windows % 8 == 0:
            log(f"  {progress}: window {n_windows}, {end}/{L} tokens, running ppl {math.exp(nll_sum / count):.4f}")
        if end == L:
            break
    return math.exp(nll_sum / count), count


def write_logits(path: Path, logits) -> None:
    arr = np.ascontiguousarray(logits.detach().cpu().numpy().astype("<f4"))
    arr.tofile(path)


def make_reference(model, tok, case_dir: Path, name: str, source: str, model_path: str, gguf_paths: list[str],
                   prompts: list[dict], ppl_specs: list[dict], add_bos: bool, bos_id: int | None,
                   extra: dict | None = None, min_margin_required: float | None = None,
                   wiki_ids: list[int] | None = None) -> dict:
    """prompts: [{"text":..., "ids": optional override, "store_logits": bool}]. ppl_specs: [{"ctx","stride",
    "max_tokens", optional "attn_implementation" to run that entry with, other keys copied into the entry}].
    wiki_ids: the tokenizer's ids of the whole wikitext file without special tokens (computed if None).
    Writes reference.json and logits files; returns the reference dict."""
    case_dir.mkdir(parents=True, exist_ok=True)
    vocab_size = int(model.config.vocab_size)
    ref = {"name": name, "source": source, "model_path": model_path, "gguf_paths": gguf_paths,
           "vocab_size": vocab_size, "add_bos": add_bos}
    if extra:
        ref.update(extra)
    ref["prompts"] = []
    for i, p in enumerate(prompts):
        ids = p["ids"] if p.get("ids") is not None else tok.encode(p["text"]).ids
        entry = {"text": p["text"], "ids": ids}
        if p.get("store_logits", True):
            logits = forward_logits(model, ids)
            assert logits.shape == (len(ids), vocab_size), logits.shape
            assert bool(torch_isfinite(logits)), "non-finite logits"
            fname = f"logits_{i}.f32"
            write_logits(case_dir / fname, logits)
            entry["logits_file"] = fname
        else:
            entry["logits_file"] = None
        new, margin = greedy(model, ids, 32)
        entry["greedy"] = new
        entry["greedy_min_margin"] = round(margin, 6)
        if min_margin_required is not None and margin < min_margin_required:
            raise TieError(f"{name}: prompt {i} greedy margin {margin:.2e} < {min_margin_required}")
        ref["prompts"].append(entry)
        log(f"  {name}: prompt {i}: {len(ids)} ids, greedy margin {margin:.4f}")
    ref["perplexity"] = []
    if ppl_specs:
        if wiki_ids is None:
            wiki_ids = tok.encode(wikitext(), add_special_tokens=False).ids
        for spec in ppl_specs:
            ids = ([bos_id] if add_bos else []) + wiki_ids[: spec["max_tokens"]]
            ids = ids[: spec["max_tokens"]]
            attn = spec.get("attn_implementation")
            previous = model.config._attn_implementation
            if attn:
                model.set_attn_implementation(attn)
            try:
                ppl, k = perplexity(model, ids, spec["ctx"], spec["stride"], progress=f"{name} ppl ctx {spec['ctx']}")
            finally:
                if attn:
                    model.set_attn_implementation(previous)
            entry = {"text_file": WIKITEXT_REF, "ctx": spec["ctx"], "stride": spec["stride"],
                     "max_tokens": spec["max_tokens"], "ppl": ppl, "tokens_scored": k, "first_ids": ids[:64]}
            for key, value in spec.items():
                if key not in ("ctx", "stride", "max_tokens"):
                    entry[key] = value
            ref["perplexity"].append(entry)
            log(f"  {name}: ppl(ctx {spec['ctx']}, stride {spec['stride']}, {len(ids)} tokens) = {ppl:.6f} "
                f"over {k} tokens")
    with open(case_dir / "reference.json", "w", encoding="utf-8") as f:
        f.write(dump_json(ref) + "\n")
    return ref


def dump_json(obj, indent: int = 0) -> str:
    """Indented JSON with lists of scalars kept on one line (ids stay readable)."""
    pad, pad1 = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad1}{json.dumps(k, ensure_ascii=False)}: {dump_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(x, (dict, list)) for x in obj):
        return "[\n" + ",\n".join(pad1 + dump_json(x, indent + 1) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def torch_isfinite(t):
    import torch

    return torch.isfinite(t).all()


class TieError(RuntimeError):
    pass


def dir_size(paths) -> tuple[int, int]:
    n, total = 0, 0
    for p in paths:
        p = Path(p)
        if p.is_file():
            n += 1
            total += p.stat().st_size
    return n, total


def set_threads() -> None:
    import torch

    torch.set_num_threads(max(1, min(os.cpu_count() or 1, 8)))


def ensure_shared() -> None:
    if not SHARED.is_dir():
        sys.exit(f"make_model_fixtures: {SHARED} not found (expected ../shared next to the repo root)")


# --------------------------------------------------------------------------------------------------
# Independent check of the GGUF files: a float64 numpy forward pass that reads only the GGUF and follows
# llama.cpp's conventions (llama: rope on adjacent pairs of the permuted Q/K rows, divided by rope_freqs;
# qwen2: NEOX rope on halves, no permutation). It must reproduce the HF reference logits.
# --------------------------------------------------------------------------------------------------


def gguf_forward_numpy(path, ids: list[int]) -> np.ndarray:
    import gguf

    r = gguf.GGUFReader(str(path))
    md = {k: f.contents() for k, f in r.fields.items() if not k.startswith("tokenizer.")}
    arch = md["general.architecture"]
    n_head = int(md[f"{arch}.attention.head_count"])
    n_kv = int(md[f"{arch}.attention.head_count_kv"])
    n_layer = int(md[f"{arch}.block_count"])
    eps = float(md[f"{arch}.attention.layer_norm_rms_epsilon"])
    base = float(md.get(f"{arch}.rope.freq_base", 10000.0))
    W = {}
    for t in r.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        W[t.name] = a.reshape([int(x) for x in reversed(t.shape)]) if len(t.shape) > 1 else a.reshape(-1)
    hd = W["blk.0.attn_q.weight"].shape[0] // n_head
    n_rot = int(md.get(f"{arch}.rope.dimension_count", hd))
    ff = W.get("rope_freqs.weight", np.ones(n_rot // 2))
    T = len(ids)
    pos = np.arange(T, dtype=np.float64)
    theta = pos[:, None] * (base ** (-np.arange(0, n_rot, 2, dtype=np.float64) / n_rot))[None, :] / ff[None, :]
    cos, sin = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]

    def rope(x):  # x (T, H, hd)
        x = x.copy()
        if arch == "llama":
            a, b = x[..., 0:n_rot:2].copy(), x[..., 1:n_rot:2].copy()
            x[..., 0:n_rot:2], x[..., 1:n_rot:2] = a * cos - b * sin, a * sin + b * cos
        else:
            h = n_rot // 2
            a, b = x[..., :h].copy(), x[..., h:n_rot].copy()
            x[..., :h], x[..., h:n_rot] = a * cos - b * sin, a * sin + b * cos
        return x

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    x = W["token_embd.weight"][ids]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(n_layer):
        p = f"blk.{i}."
        h = rms(x, W[p + "attn_norm.weight"])
        q = h @ W[p + "attn_q.weight"].T + W.get(p + "attn_q.bias", 0.0)
        k = h @ W[p + "attn_k.weight"].T + W.get(p + "attn_k.bias", 0.0)
        v = h @ W[p + "attn_v.weight"].T + W.get(p + "attn_v.bias", 0.0)
        q, k, v = rope(q.reshape(T, n_head, hd)), rope(k.reshape(T, n_kv, hd)), v.reshape(T, n_kv, hd)
        out = np.empty((T, n_head, hd))
        for hh in range(n_head):
            kv = hh // (n_head // n_kv)
            s = q[:, hh] @ k[:, kv].T / math.sqrt(hd) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            out[:, hh] = (s / s.sum(-1, keepdims=True)) @ v[:, kv]
        x = x + out.reshape(T, n_head * hd) @ W[p + "attn_output.weight"].T
        h = rms(x, W[p + "ffn_norm.weight"])
        g = h @ W[p + "ffn_gate.weight"].T
        x = x + ((g / (1.0 + np.exp(-g))) * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
    x = rms(x, W["output_norm.weight"])
    return x @ W.get("output.weight", W["token_embd.weight"]).T


def check_gguf_forward(gguf_path, case_dir, name: str, tol: float = 1e-3) -> float:
    """Compare gguf_forward_numpy with every stored logits file of case_dir/reference.json."""
    ref = json.loads((Path(case_dir) / "reference.json").read_text())
    worst = 0.0
    for p in ref["prompts"]:
        if p["logits_file"] is None:
            continue
        want = np.fromfile(Path(case_dir) / p["logits_file"], dtype="<f4").reshape(len(p["ids"]), -1)
        got = gguf_forward_numpy(gguf_path, p["ids"])
        worst = max(worst, float(np.abs(got - want).max()))
    log(f"  {name}: numpy float64 llama.cpp-convention forward of {Path(gguf_path).name}: max |dlogit| = "
        f"{worst:.2e}")
    assert worst < tol, f"{name}: {gguf_path} does not reproduce the reference logits"
    return worst
