#!/usr/bin/env python3
"""End-to-end test of `trapetum serve` on loopback with stories260K: the OpenAI API through raw
HTTP (every bad-input case), the official `openai` client when installed, API key and CORS,
503 when full, disconnect storms that leave no slot behind (/metrics), non-streaming clients
that hang up, --context-shift, the prompt cache, 503 when a slot's cache does not fit in memory
(under prlimit --as; skipped for ASan builds), and a bounded load test
(TRAPETUM_LOAD_CLIENTS concurrent streaming clients for TRAPETUM_LOAD_SECONDS; 32 and 60 by
default) that reports time to first token and aggregate tokens/s.

Usage: server_test.py --cli PATH --shared DIR   (exit 0 = pass; skips without ../shared)"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, flush=True)


class Server:
    def __init__(self, cli, model, *args, prefix=(), env=None):
        self.proc = subprocess.Popen([*prefix, cli, "serve", "-m", model, "--port", "0", "-t", "1", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        self.port = None
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            m = re.search(r"on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if not self.port:
            self.proc.kill()
            raise RuntimeError("server did not start: " + (self.proc.stderr.read() or ""))
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def request(self, method, path, body=None, headers=None, timeout=120):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = body if isinstance(body, (bytes, type(None))) else (body if isinstance(body, str) else json.dumps(body)).encode()
        c.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        r = c.getresponse()
        out = r.status, dict(r.getheaders()), r.read()
        c.close()
        return out

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        try:
            return status, hdrs, json.loads(data)
        except ValueError:
            return status, hdrs, {"raw": data.decode(errors="replace")}

    def stream(self, path, body, headers=None, on_event=None):
        """Events of one SSE response; on_event(i, event) returning False drops the connection."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        c.request("POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})})
        r = c.getresponse()
        events, buf = [], b""
        if r.status != 200:
            return r.status, [json.loads(r.read())]
        while True:
            chunk = r.read1(65536) if hasattr(r, "read1") else r.read(1)
            if not chunk:
                break
            buf += chunk
            while b"\n\n" in buf:
                line, buf = buf.split(b"\n\n", 1)
                line = line.decode()
                if not line.startswith("data: "):
                    continue
                data = line[6:]
                events.append(data if data == "[DONE]" else json.loads(data))
                if on_event and on_event(len(events) - 1, events[-1]) is False:
                    c.sock.shutdown(socket.SHUT_RDWR)
                    c.close()
                    return 200, events
        c.close()
        return r.status, events

    def metrics(self):
        _, _, data = self.request("GET", "/metrics")
        return {m.group(1): float(m.group(2)) for m in re.finditer(r"^trapetum_(\w+) ([-\d.e+]+)$", data.decode(), re.M)}

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed"
        check(rc == 0, f"server exits 0 on SIGINT (got {rc})")


def text_of(events):
    out = ""
    for e in events:
        if isinstance(e, dict) and e.get("choices"):
            ch = e["choices"][0]
            out += ch.get("delta", {}).get("content") or ch.get("text") or ""
    return out


def basic(s, cli, model):
    st, _, j = s.json("GET", "/health")
    check(st == 200 and j == {"status": "ok"}, "health")
    st, _, j = s.json("GET", "/v1/models")
    check(st == 200 and j["data"][0]["id"] == "stories260K.gguf", f"models: {j}")
    st, hdrs, page = s.request("GET", "/")
    check(st == 200 and b"/v1/chat/completions" in page and "text/html" in hdrs.get("Content-Type", ""), "web page")

    # Greedy completions equal `trapetum run` on the same prompt (an independent path).
    run = json.loads(subprocess.run([cli, "run", "-m", model, "-p", "Once upon a time", "-n", "24", "--temp", "0",
                                     "--json", "--ignore-eos", "-t", "1"], capture_output=True, text=True, check=True).stdout)
    st, _, j = s.json("POST", "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0})
    check(st == 200, f"completion status {st}: {j}")
    check(j["choices"][0]["text"] == run["text"], f"completion text {j['choices'][0]['text']!r} != run {run['text']!r}")
    check(j["usage"]["completion_tokens"] == 24 and j["usage"]["prompt_tokens"] == len(run["prompt_ids"]), f"usage {j['usage']}")
    check(j["choices"][0]["finish_reason"] == "length", "finish_reason length")

    # Streaming gives the same text, then a finish chunk, the usage chunk and [DONE].
    st, ev = s.stream("/v1/completions", {"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0, "stream": True,
                                          "stream_options": {"include_usage": True}})
    check(st == 200 and ev[-1] == "[DONE]", "stream ends with [DONE]")
    check(text_of(ev) == run["text"], "streamed text equals the whole one")
    check(any(isinstance(e, dict) and e.get("usage", {}).get("completion_tokens") == 24 for e in ev), "usage chunk")

    st, ev = s.stream("/v1/chat/completions", {"messages": [{"role": "user", "content": "Tell a story"}], "max_tokens": 16,
                                               "temperature": 0, "stream": True})
    check(st == 200 and ev[0]["choices"][0]["delta"].get("role") == "assistant", "chat stream starts with the role")
    check(ev[-2]["choices"][0]["finish_reason"] in ("stop", "length") and ev[-1] == "[DONE]", "chat stream finishes")
    st, _, j = s.json("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "Tell a story"}],
                                                       "max_tokens": 16, "temperature": 0})
    check(st == 200 and j["choices"][0]["message"]["content"] == text_of(ev), "chat whole == chat streamed")

    # Stop sequences cut before the match; seeds repeat.
    cut = run["text"].find("girl")
    if cut > 0:
        st, _, j = s.json("POST", "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 24, "temperature": 0,
                                                      "stop": ["girl"]})
        check(j["choices"][0]["text"] == run["text"][:cut] and j["choices"][0]["finish_reason"] == "stop", "stop sequence")
    a = s.json("POST", "/v1/completions", {"prompt": "The", "max_tokens": 20, "temperature": 1.0, "seed": 7})[2]
    b = s.json("POST", "/v1/completions", {"prompt": "The", "max_tokens": 20, "temperature": 1.0, "seed": 7})[2]
    check(a["choices"][0]["text"] == b["choices"][0]["text"], "same seed, same text")


def bad_inputs(s):
    msg = [{"role": "user", "content": "x"}]
    cases = [
        ("/v1/chat/completions", b"{not json", 400),
        ("/v1/chat/completions", b"[]", 400),
        ("/v1/chat/completions", {"messages": []}, 400),
        ("/v1/chat/completions", {"messages": "hi"}, 400),
        ("/v1/chat/completions", {"messages": msg, "temperature": -1}, 400),
        ("/v1/chat/completions", {"messages": msg, "max_tokens": "5"}, 400),
        ("/v1/chat/completions", {"messages": msg, "max_tokens": 10 ** 9}, 400),
        ("/v1/chat/completions", {"messages": msg, "bogus": 1}, 400),
        ("/v1/chat/completions", {"messages": msg, "model": "gpt-4"}, 404),
        ("/v1/completions", {"prompt": "x", "top_p": 7}, 400),
        ("/v1/completions", {"prompt": "once " * 2000, "max_tokens": 4}, 400),  # longer than the context
        ("/v1/completions", {"prompt": "", "max_tokens": 4}, 200),  # BOS alone is a prompt
        ("/v1/embeddings", {"input": "x"}, 404),
    ]
    for path, body, want in cases:
        st, _, j = s.json("POST", path, body)
        check(st == want, f"{path} {str(body)[:60]}: status {st}, expected {want}")
        if want >= 400:
            check(isinstance(j.get("error"), dict) and j["error"].get("message"), f"{path}: error JSON {j}")
    st, _, j = s.json("POST", "/v1/completions", b'{"prompt":"' + b"a" * (2 << 20) + b'"}')
    check(st == 413 and "error" in j, f"body over the limit: {st}")
    _, hdrs, _ = s.request("GET", "/v1/models")
    check("Access-Control-Allow-Origin" not in hdrs, "no CORS unless asked")


def auth_and_cors(cli, model):
    s = Server(cli, model, "--api-key", "s3cret", "--cors", "http://example.test")
    try:
        check(s.json("GET", "/v1/models")[0] == 401, "no key: 401")
        check(s.json("GET", "/v1/models", headers={"Authorization": "Bearer wrong"})[0] == 401, "wrong key: 401")
        st, hdrs, _ = s.json("GET", "/v1/models", headers={"Authorization": "Bearer s3cret"})
        check(st == 200 and hdrs.get("Access-Control-Allow-Origin") == "http://example.test", "key and CORS")
        check(s.request("OPTIONS", "/v1/chat/completions")[0] == 204, "CORS preflight")
        check(s.json("GET", "/health")[0] == 200, "health needs no key")
    finally:
        s.stop()


def busy(cli, model):
    s = Server(cli, model, "--parallel", "1", "--queue", "0", "-c", "512")
    try:
        started = threading.Event()
        t = threading.Thread(target=s.stream, args=("/v1/completions", {"prompt": "Once", "max_tokens": 400, "stream": True,
                                                                         "temperature": 0},
                                                    None, lambda i, e: started.set() or i < 40))
        t.start()
        started.wait(30)
        st, hdrs, j = s.json("POST", "/v1/completions", {"prompt": "x", "max_tokens": 2})
        check(st == 503 and hdrs.get("Retry-After") == "1", f"full: 503 with Retry-After (got {st})")
        t.join()
    finally:
        s.stop()


def disconnect_storm(s):
    def drop(i):
        s.stream("/v1/chat/completions", {"messages": [{"role": "user", "content": f"story {i}"}], "max_tokens": 400,
                                          "stream": True}, on_event=lambda k, e: k < 2)
    threads = [threading.Thread(target=drop, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline, m = time.time() + 20, {}
    while time.time() < deadline:
        m = s.metrics()
        if m.get("slots_active") == 0 and m.get("queue_depth") == 0:
            break
        time.sleep(0.2)
    check(m.get("slots_active") == 0 and m.get("queue_depth") == 0, f"no slot leaked after the storm: {m}")
    check(m.get("requests_cancelled_total", 0) >= 1, "dropped clients cancelled their jobs")


def load(s, clients, seconds):
    ttft, tokens, errors, done = [], [0], [], [0]
    lock = threading.Lock()
    end = time.time() + seconds

    def client(i):
        while time.time() < end:
            t0 = time.time()
            first = []
            st, ev = s.stream("/v1/completions", {"prompt": f"Story {i}:", "max_tokens": 48, "stream": True,
                                                  "stream_options": {"include_usage": True}},
                              on_event=lambda k, e: first.append(time.time()) if not first else None)
            ok = st == 200 and ev and ev[-1] == "[DONE]" and any(
                isinstance(e, dict) and e.get("choices") and e["choices"][0].get("finish_reason") for e in ev)
            with lock:
                if not ok:
                    errors.append((st, ev[-1:] if ev else None))
                    continue
                done[0] += 1
                ttft.append(first[0] - t0)
                tokens[0] += next(e["usage"]["completion_tokens"] for e in ev if isinstance(e, dict) and e.get("usage"))

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    check(not errors, f"load: {len(errors)} failed responses, e.g. {errors[:2]}")
    check(done[0] >= clients, f"load: only {done[0]} responses completed")
    if ttft:
        q = statistics.quantiles(ttft, n=100) if len(ttft) > 1 else [ttft[0]] * 99
        print(json.dumps({"load_clients": clients, "seconds": round(wall, 1), "responses": done[0],
                          "ttft_p50_ms": round(statistics.median(ttft) * 1e3, 1), "ttft_p99_ms": round(q[98] * 1e3, 1),
                          "aggregate_tok_s": round(tokens[0] / wall, 1)}), flush=True)


def openai_client(s):
    try:
        import openai
    except ImportError:
        if os.environ.get("CI") == "true":
            check(False, "the openai package is missing (scripts/install_deps.sh installs it)")
        print("skip: openai package not installed")
        return
    c = openai.OpenAI(base_url=f"http://127.0.0.1:{s.port}/v1", api_key="unused")
    r = c.chat.completions.create(model="stories260K.gguf", messages=[{"role": "user", "content": "Hello"}], max_tokens=12,
                                  temperature=0)
    check(r.choices[0].message.role == "assistant" and r.usage.completion_tokens > 0, "openai chat")
    parts = [ch.choices[0].delta.content or "" for ch in c.chat.completions.create(
        model="stories260K.gguf", messages=[{"role": "user", "content": "Hello"}], max_tokens=12, temperature=0, stream=True)
        if ch.choices]
    check("".join(parts) == r.choices[0].message.content, "openai chat stream == whole")
    r = c.completions.create(model="stories260K.gguf", prompt="Once upon a time", max_tokens=10, temperature=0, stop=["."])
    check("." not in r.choices[0].text, "openai completions with stop")
    a = c.completions.create(model="stories260K.gguf", prompt="The", max_tokens=10, seed=3).choices[0].text
    b = c.completions.create(model="stories260K.gguf", prompt="The", max_tokens=10, seed=3).choices[0].text
    check(a == b, "openai seed")
    try:
        c.chat.completions.create(model="stories260K.gguf", messages=[], max_tokens=5)
        check(False, "openai: empty messages accepted")
    except openai.BadRequestError as e:
        check("at least one message" in str(e), f"openai error message: {e}")


def hang_up_after(s, path, body, seconds):
    """Sends a non-streaming request on a raw socket and closes it after `seconds` unanswered."""
    data = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
    sock.settimeout(seconds)
    try:
        early = sock.recv(65536)
    except socket.timeout:
        early = b""
    sock.close()
    return early


def wait_metrics(s, cond, seconds):
    deadline, m = time.time() + seconds, {}
    while time.time() < deadline:
        m = s.metrics()
        if cond(m):
            return True, m
        time.sleep(0.05)
    return False, m


def nonstream_disconnect(cli, tiny):
    """A non-streaming client that hangs up mid-generation frees its slot within a second."""
    s = Server(cli, tiny, "--parallel", "1", "-c", "64", "--context-shift")
    try:
        before = s.metrics()["requests_cancelled_total"]
        t0 = time.time()
        early = hang_up_after(s, "/v1/completions", {"prompt": "Hello", "max_tokens": 10 ** 8, "temperature": 0}, 0.5)
        check(early == b"", f"the endless request answered early: {early[:200]!r}")
        ok, m = wait_metrics(s, lambda m: m["requests_cancelled_total"] > before and m["slots_active"] == 0, 5)
        check(ok, f"non-streaming hang-up cancels the job and frees the slot: {m}")
        print(json.dumps({"nonstream_hangup_to_free_ms": round((time.time() - t0 - 0.5) * 1e3)}), flush=True)
        # A slow (sanitizer) build may hang up before the 64-token context is full.
        if m["prompt_tokens_total"] + m["generated_tokens_total"] > 64:
            check(m.get("context_shifts_total", 0) >= 1, f"the endless request shifted its context: {m}")
        st, _, j = s.json("POST", "/v1/completions", {"prompt": "Hello", "max_tokens": 4})
        check(st == 200, f"the slot serves again after the hang-up: {st} {j}")
        return s.metrics()
    finally:
        s.stop()


def context_shift(cli, model):
    s = Server(cli, model, "--parallel", "1", "-c", "64", "--context-shift", "--keep", "4")
    try:
        st, _, j = s.json("POST", "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 150, "temperature": 0})
        check(st == 200, f"context shift: status {st} {j}")
        if st == 200:
            u = j["usage"]
            check(u["completion_tokens"] > 64, f"context shift: the answer goes on past the context: {u}")
            check(s.metrics()["context_shifts_total"] >= 1, "context shift counted")
        st, _, j = s.json("POST", "/v1/completions", {"prompt": "once " * 100, "max_tokens": 4})
        check(st == 400, f"context shift: a prompt longer than the context is still refused ({st})")
    finally:
        s.stop()
    s = Server(cli, model, "--parallel", "1", "-c", "64")
    try:
        st, _, j = s.json("POST", "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 150})
        check(st == 400 and "context" in j["error"]["message"], f"no shift: max_tokens past ctx is 400 ({st} {j})")
        st, _, j = s.json("POST", "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 60})
        check(st == 400 and j["error"]["code"] == "context_length_exceeded", f"no shift: prompt + max_tokens > ctx ({st} {j})")
    finally:
        s.stop()


def prompt_cache(cli, model):
    """One slot, prompts A, B, A: the third restores A's prefix from the prompt cache."""
    s = Server(cli, model, "--parallel", "1", "-c", "256")
    try:
        a = {"prompt": "Lily and Tom went to the park to play with a big red ball", "max_tokens": 16, "temperature": 0}
        b = {"prompt": "The dog barked at the cat", "max_tokens": 16, "temperature": 0}
        j1 = s.json("POST", "/v1/completions", a)[2]
        s.json("POST", "/v1/completions", b)
        j3 = s.json("POST", "/v1/completions", a)[2]
        n = j1["usage"]["prompt_tokens"]
        check(j3["usage"]["prompt_tokens_details"]["cached_tokens"] == n - 1,
              f"prompt cache: cached_tokens {j3['usage']} for a prompt of {n}")
        check(j3["choices"][0]["text"] == j1["choices"][0]["text"], "prompt cache: same greedy text")
        m = s.metrics()
        check(m["prompt_cache_hits_total"] == 1 and m["prompt_cache_entries"] >= 1 and m["prompt_cache_bytes"] > 0,
              f"prompt cache metrics: {m}")
    finally:
        s.stop()


def sanitizer_build(cli):
    """ASan and TSan reserve terabytes of address space, so RLIMIT_AS cases cannot run under them."""
    if os.environ.get("TRAPETUM_ASAN") == "1" or "ASAN_OPTIONS" in os.environ or "TSAN_OPTIONS" in os.environ:
        return True
    with open(cli, "rb") as f:
        data = f.read()
    return b"__asan_init" in data or b"__tsan_init" in data


def vm_size(proc):
    with open(f"/proc/{proc.pid}/status") as f:
        return int(re.search(r"VmSize:\s+(\d+) kB", f.read()).group(1)) * 1024


def memory_pressure(cli, tiny):
    """Under an address-space limit that fits one slot but not two, the second concurrent request
    gets 503 with Retry-After while the first goes on, and the server stays up."""
    if sanitizer_build(cli):
        print("skip: memory pressure case (sanitizer build: it needs more address space than any limit allows)")
        return
    if not shutil.which("prlimit"):
        print("skip: memory pressure case (no prlimit)")
        return
    args = ("--parallel", "2", "-c", "2048", "--context-shift")
    env = {"MALLOC_ARENA_MAX": "1"}  # one malloc arena: the address space used is the same every run
    endless = {"prompt": "Hello", "max_tokens": 10 ** 8, "temperature": 0}
    # Calibration without a limit: the address space with one slot, and what a second adds.
    s = Server(cli, tiny, *args, env=env)
    try:
        s.json("POST", "/v1/completions", {"prompt": "Hello", "max_tokens": 4})
        one = vm_size(s.proc)
        t = threading.Thread(target=hang_up_after, args=(s, "/v1/completions", endless, 1.0))
        t.start()
        wait_metrics(s, lambda m: m["slots_active"] == 1, 5)
        s.json("POST", "/v1/completions", {"prompt": "Bye", "max_tokens": 4})
        t.join()
        two = vm_size(s.proc)
        check(s.metrics()["slots_allocated"] == 2, "calibration: two slots allocated")
    finally:
        s.stop()
    slot = two - one
    check(slot > 16 << 20, f"a slot takes {slot} bytes of address space")
    limit = one + slot // 2
    s = Server(cli, tiny, *args, prefix=("prlimit", f"--as={limit}", "--"), env=env)
    try:
        st, _, _ = s.json("POST", "/v1/completions", {"prompt": "Hello", "max_tokens": 4})
        check(st == 200, f"under the limit the first slot fits ({st})")
        t = threading.Thread(target=hang_up_after, args=(s, "/v1/completions", endless, 2.0))
        t.start()
        ok, _ = wait_metrics(s, lambda m: m["slots_active"] == 1, 5)
        st, hdrs, j = s.json("POST", "/v1/completions", {"prompt": "Bye", "max_tokens": 4})
        check(st == 503 and hdrs.get("Retry-After") == "1" and "memory" in j.get("error", {}).get("message", ""),
              f"no memory for a second slot: 503 with Retry-After ({st} {j})")
        check(s.json("GET", "/health")[0] == 200, "the server stays up")
        m = s.metrics()
        check(m["slots_active"] == 1 and m["requests_rejected_memory_total"] == 1 and m["slots_allocated"] == 1,
              f"the first request goes on; one refusal counted: {m}")
        t.join()
        wait_metrics(s, lambda m: m["slots_active"] == 0, 5)
        st, _, j = s.json("POST", "/v1/completions", {"prompt": "Bye", "max_tokens": 4})
        check(st == 200, f"after the first request the slot serves again ({st} {j})")
        print(json.dumps({"slot_bytes": slot, "as_limit": limit}), flush=True)
    finally:
        s.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--shared", required=True)
    a = ap.parse_args()
    model = os.path.join(a.shared, "models/stories260K/stories260K.gguf")
    if not os.path.exists(model):
        print("skip: ../shared not present")
        return 0
    s = Server(a.cli, model, "--parallel", "4", "--queue", "64", "-c", "512", "--max-body-mb", "1")
    try:
        basic(s, a.cli, model)
        bad_inputs(s)
        openai_client(s)
        disconnect_storm(s)
        load(s, int(os.environ.get("TRAPETUM_LOAD_CLIENTS", "32")), float(os.environ.get("TRAPETUM_LOAD_SECONDS", "60")))
        disconnect_storm(s)
    finally:
        s.stop()
    auth_and_cors(a.cli, model)
    busy(a.cli, model)
    context_shift(a.cli, model)
    prompt_cache(a.cli, model)
    tiny = os.path.join(a.shared, "models/llama2-tiny-random/llama-2-tiny-random.gguf")
    nonstream_disconnect(a.cli, tiny)
    memory_pressure(a.cli, tiny)
    print(f"server_test: {len(FAILS)} failures")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
