#!/usr/bin/env python3
# Builds the seed corpora of the fuzz targets (scripts/fuzz.sh) from tests/data, ../shared and
# generated variants: small GGUF/safetensors rewrites of the test models, tokenizer and chat
# template inputs in the NUL-separated layouts the targets expect, and API request bodies.
import argparse
import glob
import json
import os
import struct

# GGUF value types and ggml tensor types (block elements, block bytes) the reader supports.
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<B",
          U64: "<Q", I64: "<q", F64: "<d"}
GGML_BLOCK = {0: (1, 4), 1: (1, 2), 30: (1, 2), 2: (32, 18), 3: (32, 20), 8: (32, 34), 12: (256, 144),
              14: (256, 210)}
MAX_ARRAY = 400  # keeps vocabulary arrays (and so every seed) small


def write_file(out_dir, name, data):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


# ---------------------------------------------------------------- GGUF


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.b[self.p:self.p + n]
        self.p += n
        return s

    def value(self, t):
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("<I"), self.take("<Q")
            return (et, [self.value(et) for _ in range(n)])
        return self.take(SCALAR[t])


def gguf_parse(b):
    r = Reader(b)
    if r.take("<I") != 0x46554747:
        return None
    version, n_tensors, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    kv = []
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<I")
        kv.append((key, t, r.value(t)))
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take("<I")
        dims = [r.take("<Q") for _ in range(nd)]
        tensors.append((name, dims, r.take("<I"), r.take("<Q")))
    return version, kv, tensors


def gguf_value_bytes(t, v):
    if t == STRING:
        return struct.pack("<Q", len(v)) + v
    if t == ARRAY:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(gguf_value_bytes(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def gguf_build(version, kv, tensors, alignment=32):
    """tensors: (name, dims, type); data is laid out here, every tensor aligned and zero-filled."""
    out = struct.pack("<IIQQ", 0x46554747, version, len(tensors), len(kv))
    for key, t, v in kv:
        out += struct.pack("<Q", len(key)) + key + struct.pack("<I", t) + gguf_value_bytes(t, v)
    offset, sizes = 0, []
    for name, dims, typ in tensors:
        be, bb = GGML_BLOCK.get(typ, (1, 4))
        n = 1
        for d in dims:
            n *= d
        nbytes = n // be * bb
        out += struct.pack("<Q", len(name)) + name + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", typ, offset)
        sizes.append(nbytes)
        offset = (offset + nbytes + alignment - 1) // alignment * alignment
    out += b"\0" * (-len(out) % alignment)
    for nbytes in sizes:
        out += bytes([0x3c] * nbytes) + b"\0" * (-nbytes % alignment)
    return out


def shrink_kv(kv):
    out = []
    for key, t, v in kv:
        if t == ARRAY:
            v = (v[0], v[1][:MAX_ARRAY])
        out.append((key, t, v))
    return out


def small_tensors(tensors, limit):
    out = []
    for name, dims, typ, _ in tensors[:limit]:
        be, _ = GGML_BLOCK.get(typ, (1, 4))
        small = [max(be, 2)] + [min(d, 2) for d in dims[1:]]  # innermost first, as GGUF stores them
        out.append((name, small, typ))
    return out


def gguf_seeds(data_dir, shared_dir, out_dir):
    paths = sorted(glob.glob(os.path.join(data_dir, "models", "*", "*.gguf")))
    paths += sorted(glob.glob(os.path.join(shared_dir, "models", "*", "*.gguf")))
    for path in paths:
        with open(path, "rb") as f:
            parsed = gguf_parse(f.read())
        if not parsed:
            continue
        version, kv, tensors = parsed
        base = os.path.basename(os.path.dirname(path)) + "_" + os.path.splitext(os.path.basename(path))[0]
        kv = shrink_kv(kv)
        write_file(out_dir, base + ".gguf", gguf_build(version, kv, small_tensors(tensors, 12)))
        write_file(out_dir, base + "_no_tensors.gguf", gguf_build(version, kv, []))
        write_file(out_dir, base + "_v2_two_tensors.gguf", gguf_build(2, kv[:6], small_tensors(tensors, 2)))
        aligned = kv + [(b"general.alignment", U32, 64)]
        write_file(out_dir, base + "_align64.gguf", gguf_build(version, aligned, small_tensors(tensors, 3), 64))
    every_type = [(b"t%d" % typ, [be * 2, 3], typ) for typ, (be, _) in sorted(GGML_BLOCK.items())]
    scalars = [(b"k.%d" % t, t, 1) for t in SCALAR] + [(b"k.str", STRING, b"x"),
                                                      (b"k.arr", ARRAY, (STRING, [b"a", b"bc"])),
                                                      (b"k.iarr", ARRAY, (I32, [1, -2, 3]))]
    write_file(out_dir, "generated_every_type.gguf", gguf_build(3, scalars, every_type))


# ---------------------------------------------------------------- safetensors

ST_BYTES = {"F32": 4, "F16": 2, "BF16": 2}


def st_parse(b):
    n = struct.unpack_from("<Q", b, 0)[0]
    return json.loads(b[8:8 + n])


def st_build(entries, metadata=None):
    """entries: (name, dtype, shape)."""
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in entries:
        n = ST_BYTES.get(dtype, 4)
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + bytes([0x3c] * offset)


def st_small(header, limit):
    out = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        out.append((name, info["dtype"], [min(d, 2) for d in info["shape"]]))
    return out[:limit]


def safetensors_seeds(data_dir, out_dir):
    for path in sorted(glob.glob(os.path.join(data_dir, "models", "*", "model.safetensors"))):
        with open(path, "rb") as f:
            header = st_parse(f.read())
        base = os.path.basename(os.path.dirname(path))
        write_file(out_dir, base + ".safetensors", st_build(st_small(header, 16), {"format": "pt"}))
        write_file(out_dir, base + "_one.safetensors", st_build(st_small(header, 1)))
    index_path = os.path.join(data_dir, "models", "tiny_qwen2_bias", "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
        shard_names = sorted(set(index["weight_map"].values()))
        parts, weight_map = [], {}
        for i, shard in enumerate(shard_names[:3]):
            with open(os.path.join(os.path.dirname(index_path), shard), "rb") as f:
                entries = st_small(st_parse(f.read()), 8)
            for name, _, _ in entries:
                weight_map[name] = "s%d.safetensors" % (i + 1)
            parts.append(st_build(entries))
        idx = json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}).encode()
        write_file(out_dir, "sharded_index.bin", b"\0".join([idx] + parts))
    every = [("a", "F32", [2, 3]), ("b", "F16", [4]), ("c", "BF16", [1, 1, 2]), ("empty", "F32", [0, 3])]
    write_file(out_dir, "generated_every_dtype.safetensors", st_build(every, {"k": "v"}))


# ---------------------------------------------------------------- tokenizer


def reduce_tokenizer(tok, keep):
    """A tokenizer.json cut to its first `keep` ids, with added tokens renumbered after them."""
    model = tok["model"]
    vocab = {k: v for k, v in model["vocab"].items() if v < keep}
    merges = []
    for m in model.get("merges", []):
        pair = m.split(" ") if isinstance(m, str) else m
        if len(pair) == 2 and pair[0] in vocab and pair[1] in vocab and pair[0] + pair[1] in vocab:
            merges.append(m)
    remap = {}
    added = []
    for i, a in enumerate(tok.get("added_tokens", [])[:40]):
        new_id = a["id"] if a["id"] < keep else keep + i
        remap[a["id"]] = new_id
        added.append(dict(a, id=new_id))

    def fix_ids(x):
        if isinstance(x, dict):
            return {k: ([remap.get(i, i) for i in v] if k == "ids" and isinstance(v, list) else fix_ids(v))
                    for k, v in x.items()}
        if isinstance(x, list):
            return [fix_ids(v) for v in x]
        return x

    out = dict(tok)
    out["model"] = dict(model, vocab=vocab, merges=merges)
    out["added_tokens"] = added
    if out.get("post_processor"):
        out["post_processor"] = fix_ids(out["post_processor"])
    return out


def texts_from_fixtures(data_dir, limit):
    texts = []
    for path in sorted(glob.glob(os.path.join(data_dir, "tokenizer", "*.json"))):
        with open(path) as f:
            cases = json.load(f)
        texts += [c["text"] for c in cases if isinstance(c, dict) and c.get("text")][:limit]
    return texts


def tokenizer_seeds(data_dir, shared_dir, out_dir):
    texts = texts_from_fixtures(data_dir, 12)
    for i, t in enumerate(texts):
        write_file(out_dir, "text_%03d.txt" % i, t.replace("\0", ""))
    wiki = os.path.join(shared_dir, "data", "wikitext-2", "wikitext-2-raw-v1.test.txt")
    if os.path.exists(wiki):
        with open(wiki, encoding="utf-8") as f:
            lines = [l for l in f.read().split("\n") if len(l) > 40][:8]
        for i, l in enumerate(lines):
            write_file(out_dir, "wiki_%d.txt" % i, l)
    sample = (texts[len(texts) // 2] if texts else "Hello world") + " <s> h\u00e9llo \U0001F642"
    for d in sorted(glob.glob(os.path.join(data_dir, "models", "*"))):
        tj = os.path.join(d, "tokenizer.json")
        if not os.path.exists(tj):
            continue
        cfg = os.path.join(d, "tokenizer_config.json")
        with open(tj, "rb") as f:
            tok = f.read()
        conf = open(cfg, "rb").read() if os.path.exists(cfg) else b""
        name = os.path.basename(d)
        write_file(out_dir, name + ".bin", b"\0".join([tok, conf, sample.encode()]))
        write_file(out_dir, name + "_no_config.bin", tok + b"\0")
    for d in sorted(glob.glob(os.path.join(shared_dir, "tokenizers", "*"))):
        tj = os.path.join(d, "tokenizer.json")
        if not os.path.exists(tj):
            continue
        with open(tj, encoding="utf-8") as f:
            tok = reduce_tokenizer(json.load(f), 300)
        cfg = os.path.join(d, "tokenizer_config.json")
        conf = b""
        if os.path.exists(cfg):
            with open(cfg, encoding="utf-8") as f:
                c = json.load(f)
            c.pop("added_tokens_decoder", None)
            c.pop("chat_template", None)
            # special tokens beyond the reduced vocabulary would only make every seed fail
            names = set(tok["model"]["vocab"]) | {a["content"] for a in tok["added_tokens"]}
            for k in list(c):
                v = c[k]
                v = v.get("content") if isinstance(v, dict) else v
                if k.endswith("_token") and isinstance(v, str) and v not in names:
                    del c[k]
            conf = json.dumps(c).encode()
        write_file(out_dir, "shared_" + os.path.basename(d) + ".bin",
                   b"\0".join([json.dumps(tok).encode(), conf, sample.encode()]))


# ---------------------------------------------------------------- chat templates


def chat_template_seeds(data_dir, shared_dir, out_dir):
    for path in sorted(glob.glob(os.path.join(data_dir, "chat_templates", "*.json"))):
        with open(path) as f:
            fixture = json.load(f)
        name = os.path.splitext(os.path.basename(path))[0]
        tmpl = fixture.get("template")
        if not isinstance(tmpl, str):
            continue
        write_file(out_dir, name + ".jinja", tmpl)
        for i, case in enumerate(fixture.get("cases", [])[:4]):
            parts = [tmpl, json.dumps(case.get("messages", []))]
            extra = case.get("extra", case.get("context"))
            if extra is not None:
                parts.append(json.dumps(extra))
            write_file(out_dir, "%s_case%d.bin" % (name, i), "\0".join(parts))
    for path in sorted(glob.glob(os.path.join(shared_dir, "tokenizers", "*", "tokenizer_config.json"))):
        with open(path, encoding="utf-8") as f:
            t = json.load(f).get("chat_template")
        if isinstance(t, list):
            t = next((x.get("template") for x in t if isinstance(x, dict)), None)
        if isinstance(t, str):
            msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Yo", "reasoning_content": "think"}]
            extra = {"enable_thinking": False, "tools": [{"type": "function", "function": {"name": "f"}}]}
            write_file(out_dir, "shared_" + os.path.basename(os.path.dirname(path)) + ".bin",
                       "\0".join([t, json.dumps(msgs), json.dumps(extra)]))
    snippets = ["{{ messages[0]['content'] | upper }}", "{% for m in messages %}{{ loop.index }}{% endfor %}",
                "{% set x = namespace(a=1) %}{{ x.a }}", "{{ 'a' * 3 }}{{ [1,2,3] | join(',') }}",
                "{% macro f(a) %}{{ a }}{% endmacro %}{{ f(1) }}", "{{ raise_exception('no') }}",
                "{{ messages | tojson }}", "{% if not add_generation_prompt %}x{% elif 1 %}y{% endif %}"]
    for i, s in enumerate(snippets):
        write_file(out_dir, "snippet_%d.jinja" % i, s)


# ---------------------------------------------------------------- API bodies


def api_seeds(out_dir):
    bodies = [
        {"model": "trapetum", "messages": [{"role": "user", "content": "Hi"}]},
        {"messages": [{"role": "system", "content": "s"}, {"role": "developer", "content": [{"type": "text", "text": "a"}]},
                      {"role": "assistant", "content": "b"}],
         "max_tokens": 16, "temperature": 0.5, "top_p": 0.9, "stop": ["\n", "END"], "seed": 7, "stream": True,
         "stream_options": {"include_usage": True}, "n": 1, "user": "u", "frequency_penalty": 0,
         "presence_penalty": 0, "logprobs": False, "logit_bias": {}},
        {"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 3, "seed": 18446744073709551615},
        {"prompt": "Once upon a time", "max_tokens": 8, "stop": "."},
        {"prompt": ["one"], "temperature": 2, "seed": -1},
        {"prompt": "x", "model": "other"},
        {"messages": []},
        {"prompt": 1},
    ]
    for i, b in enumerate(bodies):
        write_file(out_dir, "body_%d.json" % i, json.dumps(b))
    write_file(out_dir, "not_json.txt", "{\"messages\": [")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="tests/data")
    ap.add_argument("--shared", required=True, help="../shared (may be missing)")
    ap.add_argument("--out", required=True, help="corpus root; one folder per target")
    a = ap.parse_args()
    gguf_seeds(a.data, a.shared, os.path.join(a.out, "gguf"))
    safetensors_seeds(a.data, os.path.join(a.out, "safetensors"))
    tokenizer_seeds(a.data, a.shared, os.path.join(a.out, "tokenizer"))
    chat_template_seeds(a.data, a.shared, os.path.join(a.out, "chat_template"))
    api_seeds(os.path.join(a.out, "api"))
    os.makedirs(os.path.join(a.out, "cbk"), exist_ok=True)  # written by fuzz_make_cbk_seeds


if __name__ == "__main__":
    main()
