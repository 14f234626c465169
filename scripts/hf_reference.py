"""HuggingFace transformers as the reference for scripts/gpu_agreement.py: load a model, greedy
decode with the KV cache, score a fixed token sequence teacher-forced, compare logit rows (max
|gap|, KL), and time fp16 prefill and decode for bench/gpu.sh.

Imports torch and transformers lazily (load()), so the rest of gpu_agreement.py runs without them.
"""
import inspect
import statistics
import time


class Reference:
    """One HF causal LM on one device, in one dtype, in eval mode."""

    def __init__(self, model_dir, device, dtype_name):
        import torch
        import transformers
        self.torch = torch
        self.device = device
        self.dtype_name = dtype_name
        dtype = {"f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32}[dtype_name]
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"  # renamed in 4.56
        self.model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, **{dtype_key: dtype})
        self.model.to(device)
        self.model.eval()
        self.vocab = int(self.model.get_output_embeddings().weight.shape[0])
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
        except Exception as e:  # a model without a loadable tokenizer still runs on given ids
            self.tokenizer = None
            self.tokenizer_error = str(e)
        self.versions = {"torch": torch.__version__, "transformers": transformers.__version__}
        # The KV cache argument is `past_key_values` before transformers 5 and `cache` after it.
        params = inspect.signature(self.model.forward).parameters
        self.cache_key = "cache" if "cache" in params else "past_key_values"

    def _forward(self, x, cache):
        """One forward with the KV cache: (logits (1, T, vocab), the updated cache)."""
        out = self.model(input_ids=x, use_cache=True, **({self.cache_key: cache} if cache is not None else {}))
        return out.logits, out[self.cache_key] if self.cache_key in out else out.past_key_values

    def tokenize(self, text):
        """HF's ids for `text` (with its BOS rule), or None without a tokenizer."""
        if self.tokenizer is None:
            return None
        return list(self.tokenizer(text)["input_ids"])

    def _sync(self):
        if self.device.startswith("cuda"):
            self.torch.cuda.synchronize()

    def greedy(self, prompt_ids, n):
        """Greedy decode of n tokens with the KV cache (argmax each step; EOS does not stop it, as
        with `trapetum run --ignore-eos`). Returns (ids, logits rows as float32 CPU (n, vocab))."""
        torch = self.torch
        ids, rows = [], []
        with torch.inference_mode():
            x = torch.tensor([prompt_ids], device=self.device)
            cache = None
            for _ in range(n):
                logits, cache = self._forward(x, cache)
                logits = logits[0, -1].float()
                t = int(torch.argmax(logits))
                ids.append(t)
                rows.append(logits.cpu())
                x = torch.tensor([[t]], device=self.device)
        return ids, torch.stack(rows) if rows else torch.zeros(0, self.vocab)

    def score(self, prompt_ids, gen_ids):
        """Teacher-forced logits for prompt + gen_ids[:-1] in one forward pass: row i is the
        distribution that chose gen_ids[i], float32 on the CPU, shape (len(gen_ids), vocab)."""
        torch = self.torch
        seq = list(prompt_ids) + list(gen_ids[:-1])
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([seq], device=self.device), use_cache=False)
        first = len(prompt_ids) - 1
        return out.logits[0, first:first + len(gen_ids)].float().cpu()

    def bench(self, prompt_tokens, gen_tokens, reps, seed=0):
        """Prefill of prompt_tokens random ids, then greedy decode of gen_tokens with the KV cache,
        timed separately (device synchronized); median, min and max over reps after one warm-up."""
        torch = self.torch
        g = torch.Generator().manual_seed(seed)
        # Ids from the middle of the vocabulary: clear of the special tokens at either end.
        lo, hi = min(1000, self.vocab // 4), max(min(1000, self.vocab // 4) + 1, self.vocab - 1000)
        prompt = torch.randint(lo, hi, (1, prompt_tokens), generator=g).to(self.device)
        pp, tg = [], []
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        with torch.inference_mode():
            for rep in range(reps + 1):
                self._sync()
                t0 = time.perf_counter()
                logits, cache = self._forward(prompt, None)
                x = torch.argmax(logits[:, -1], dim=-1, keepdim=True)
                self._sync()
                t1 = time.perf_counter()
                for _ in range(gen_tokens):
                    logits, cache = self._forward(x, cache)
                    x = torch.argmax(logits[:, -1], dim=-1, keepdim=True)
                self._sync()
                t2 = time.perf_counter()
                del logits, cache
                if rep == 0:
                    continue  # warm-up: kernels compiled, allocator primed
                pp.append(prompt_tokens / (t1 - t0))
                tg.append(gen_tokens / (t2 - t1) if gen_tokens else 0.0)
        spread = lambda v: {"median": statistics.median(v), "min": min(v), "max": max(v)}  # noqa: E731
        vram = torch.cuda.max_memory_allocated() / 2**20 if self.device.startswith("cuda") else None
        return {"prompt_tokens": prompt_tokens, "gen_tokens": gen_tokens, "reps": reps,
                "pp_tok_s": spread(pp), "tg_tok_s": spread(tg), "vram_mb": vram}


def compare_rows(ref, test):
    """Per-row comparison of two logit matrices (rows, vocab), float32 torch tensors: the worst
    |gap|, top-1 agreement and KL(ref || test) (softmax of each, float64)."""
    import torch
    n = min(ref.shape[0], test.shape[0])
    if n == 0:
        return {"rows": 0, "max_abs_dlogit": None, "top1": None, "kl_mean": None, "kl_max": None}
    r, t = ref[:n].double(), test[:n].double()
    lr, lt = torch.log_softmax(r, dim=-1), torch.log_softmax(t, dim=-1)
    kl = (lr.exp() * (lr - lt)).sum(dim=-1).clamp_min(0)
    return {"rows": n,
            "max_abs_dlogit": float((r - t).abs().max()),
            "top1": float((r.argmax(-1) == t.argmax(-1)).double().mean()),
            "kl_mean": float(kl.mean()),
            "kl_max": float(kl.max())}


def greedy_agreement(ref_ids, test_ids):
    """Positions where two greedy continuations agree, and the first where they do not (None when
    they agree over the shorter one's length)."""
    n = min(len(ref_ids), len(test_ids))
    same = sum(1 for a, b in zip(ref_ids[:n], test_ids[:n]) if a == b)
    first = next((i for i in range(n) if ref_ids[i] != test_ids[i]), None)
    return {"compared": n, "identical": same, "first_divergence": first}
