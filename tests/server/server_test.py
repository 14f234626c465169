#!/usr/bin/env python3
"""End-to-end test of `trapetum serve` on loopback with stories260K: the OpenAI API through raw
HTTP (every bad-input case), the official `openai` client when installed, API key and CORS,
503 when full, disconnect storms that leave no slot behind (/metrics), and a bounded load test
(TRAPETUM_LOAD_CLIENTS concurrent streaming clients for TRAPETUM_LOAD_SECONDS; 32 and 60 by
default) that reports time to first token and aggregate tokens/s.

Usage: server_test.py --cli PATH --shared DIR   (exit 0 = pass; skips without ../shared)"""
import argparse
import http.client
import json
import os
import re
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
    def __init__(self, cli, model, *args):
        self.proc = subprocess.Popen([cli, "serve", "-m", model, "--port", "0", "-t", "1", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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
    print(f"server_test: {len(FAILS)} failures")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
