#!/usr/bin/env python3
"""Aggregate decode throughput of `trapetum serve` against --parallel: for each slot count P,
P streaming clients each ask for --tokens tokens, --rounds times, at temperature 0 with
ignore-nothing prompts; tokens/s = all completion tokens / wall time. Prints a table and
writes JSON (and a markdown table with --md).

The default model is a random-weight tinyllama-1.1b from `trapetum synth`, pressed to q4g64
(both kept under --work).

  bench/serve_bench.py --cli build/bin/trapetum [--model M] [--parallel 1,2,4,8,16] [--tokens 64]
                       [--rounds 2] [--threads T] [--json out.json] [--md out.md]"""
import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time


def start(cli, model, parallel, threads, ctx):
    p = subprocess.Popen([cli, "serve", "-m", model, "--port", "0", "--parallel", str(parallel), "--queue", "1024",
                          "-c", str(ctx), "-t", str(threads)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while True:
        line = p.stderr.readline()
        if not line:
            raise RuntimeError("server did not start")
        m = re.search(r"on http://127\.0\.0\.1:(\d+)", line)
        if m:
            threading.Thread(target=p.stderr.read, daemon=True).start()
            return p, int(m.group(1))


def one_request(port, i, tokens):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    body = {"prompt": f"Request {i}: once upon a time", "max_tokens": tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    c.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    t0, first, used = time.time(), None, 0
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        e = json.loads(line[6:])
        if first is None and e.get("choices"):
            first = time.time() - t0
        if e.get("usage"):
            used = e["usage"]["completion_tokens"]
    c.close()
    return used, first or 0.0


def run(cli, model, parallel, tokens, rounds, threads):
    proc, port = start(cli, model, parallel, threads, ctx=tokens + 64)
    try:
        one_request(port, -1, 4)  # warm-up
        results, lock = [], threading.Lock()

        def client(i):
            for k in range(rounds):
                r = one_request(port, i * rounds + k, tokens)
                with lock:
                    results.append(r)

        t0 = time.time()
        ts = [threading.Thread(target=client, args=(i,)) for i in range(parallel)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall = time.time() - t0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    total = sum(u for u, _ in results)
    ttft = sorted(f for _, f in results)
    return {"parallel": parallel, "requests": len(results), "completion_tokens": total, "seconds": wall,
            "tok_s": total / wall, "ttft_p50_ms": 1e3 * ttft[len(ttft) // 2]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model")
    ap.add_argument("--work", default="build/serve-bench")
    ap.add_argument("--parallel", default="1,2,4,8,16")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json")
    ap.add_argument("--md")
    a = ap.parse_args()
    model = a.model
    if not model:
        os.makedirs(a.work, exist_ok=True)
        src, model = os.path.join(a.work, "tinyllama-1.1b.gguf"), os.path.join(a.work, "tinyllama-1.1b-q4g64.cbk")
        if not os.path.exists(model):
            if not os.path.exists(src):
                subprocess.run([a.cli, "synth", "--preset", "tinyllama-1.1b", "-o", src, "-t", str(a.threads)], check=True)
            subprocess.run([a.cli, "quantize", "-m", src, "-o", model, "--codec", "q4g64", "-t", str(a.threads), "-q"],
                           check=True, stdout=subprocess.DEVNULL)
    rows = []
    print(f"{'parallel':>8} {'requests':>8} {'tokens':>7} {'seconds':>8} {'tok/s':>8} {'x 1 slot':>8} {'TTFT p50 ms':>11}")
    for p in [int(x) for x in a.parallel.split(",")]:
        r = run(a.cli, model, p, a.tokens, a.rounds, a.threads)
        r["speedup"] = r["tok_s"] / rows[0]["tok_s"] if rows else 1.0
        rows.append(r)
        print(f"{p:>8} {r['requests']:>8} {r['completion_tokens']:>7} {r['seconds']:>8.1f} {r['tok_s']:>8.1f} "
              f"{r['speedup']:>8.2f} {r['ttft_p50_ms']:>11.0f}", flush=True)
    out = {"model": model, "threads": a.threads, "tokens": a.tokens, "rounds": a.rounds, "rows": rows}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    if a.md:
        with open(a.md, "w") as f:
            f.write(f"`bench/serve_bench.py`: {os.path.basename(model)}, {a.threads} threads, {a.tokens} tokens per "
                    f"request, {a.rounds} requests per client, one client per slot.\n\n")
            f.write("| --parallel | tok/s | × 1 slot | TTFT p50 ms |\n|---|---|---|---|\n")
            for r in rows:
                f.write(f"| {r['parallel']} | {r['tok_s']:.1f} | {r['speedup']:.2f} | {r['ttft_p50_ms']:.0f} |\n")


if __name__ == "__main__":
    main()
