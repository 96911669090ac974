#!/usr/bin/env python3
"""End-to-end test of `origami serve` with the official OpenAI Python client.

    python3 Scripts/openai_client_test.py --origami .build/release/origami --model Models/default [--port N]

Starts the server (API key, --parallel 4, --max-queue 8, --max-body-bytes 65536), checks greedy output against
`origami generate --json`, streaming, stop strings, logprobs, seeds, concurrency, back-pressure (429), error
statuses and bodies, client disconnects and metrics, then sends SIGTERM and expects a clean exit (code 0).
Needs only the standard library and `openai`; raw requests (malformed bodies, missing headers) use http.client.
"""

import argparse
import functools
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import openai

API_KEY = "test-key"
PROMPT = "Once upon a time"
CHAT_PROMPT = "Tell me a story about a cat."
SYSTEM = "You are a storyteller."

# Set in main().
ORIGAMI = MODEL = MODEL_ID = None
PORT = 0
client = strict = None  # strict: max_retries=0, so 429/5xx surface at once

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


# --- helpers -------------------------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw(method, path, body=None, headers=None, timeout=60):
    """One plain HTTP request; returns (status, lower-cased headers, body bytes) for any status."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        try:
            conn.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (e.g. 413) and close before reading the whole body; read what it sent
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def post_json(path, body, auth=True):
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = f"Bearer {API_KEY}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw("POST", "/v1" + path, data, headers)


def post_error(path, body, want_status, want_code=None, auth=True):
    """POST body; expect status want_status and an OpenAI error body (with error.code want_code if given)."""
    status, _, body = post_json(path, body, auth)
    text = body.decode(errors="replace")[:500]
    expect(status == want_status, f"want HTTP {want_status}, got {status}: {text}")
    try:
        err = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(f"HTTP {status} body is not OpenAI error JSON: {text}")
    expect(isinstance(err, dict) and isinstance(err.get("message"), str) and err["message"],
           f"error.message missing or empty: {text}")
    expect(isinstance(err.get("type"), str) and err["type"], f"error.type missing: {text}")
    if want_code is not None:
        expect(err.get("code") == want_code, f"want error.code {want_code!r}, got {err.get('code')!r}: {text}")
    return err


def health():
    status, _, body = raw("GET", "/health", timeout=10)
    expect(status == 200, f"/health returned {status}: {body[:300]!r}")
    return json.loads(body)


@functools.lru_cache(maxsize=None)
def reference(prompt, max_tokens, chat=False, system=None):
    """`origami generate --json` greedy output: dict with text, generated_ids, prompt_ids, finish_reason."""
    cmd = [ORIGAMI, "generate", "--model", MODEL, "--max-tokens", str(max_tokens), "--temperature", "0", "--json"]
    if chat:
        cmd.append("--chat")
    if system is not None:
        cmd += ["--system", system]
    cmd.append(prompt)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    expect(p.returncode == 0, f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout[p.stdout.index("{"):])


@functools.lru_cache(maxsize=None)
def greedy_completion(prompt, max_tokens):
    return client.completions.create(model=MODEL_ID, prompt=prompt, max_tokens=max_tokens, temperature=0)


def chat_messages(user, system=None):
    return ([{"role": "system", "content": system}] if system is not None else []) + [{"role": "user", "content": user}]


@functools.lru_cache(maxsize=None)
def greedy_chat(user, max_tokens, system=None):
    return client.chat.completions.create(model=MODEL_ID, messages=chat_messages(user, system),
                                          max_tokens=max_tokens, temperature=0)


# --- checks --------------------------------------------------------------------------------------------------------

@check
def models_list():
    ids = [m.id for m in client.models.list()]
    expect(ids == [MODEL_ID], f"models.list ids {ids}, want [{MODEL_ID!r}]")


def expect_reference(label, text, finish_reason, usage, ref):
    """A server response agrees with `origami generate --json`: text, finish_reason and token counts."""
    expect(text == ref["text"], f"{label}: server text {text!r} != generate text {ref['text']!r}")
    expect(finish_reason == ref["finish_reason"], f"{label}: finish_reason {finish_reason!r}, generate says "
                                                  f"{ref['finish_reason']!r}")
    want = (len(ref["prompt_ids"]), len(ref["generated_ids"]), len(ref["prompt_ids"]) + len(ref["generated_ids"]))
    got = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    expect(got == want, f"{label}: usage (prompt, completion, total) {got}, generate's ids give {want}")


@check
def completion_greedy():
    r = greedy_completion(PROMPT, 24)
    expect_reference("completion", r.choices[0].text, r.choices[0].finish_reason, r.usage, reference(PROMPT, 24))


@check
def completion_stream():
    want = greedy_completion(PROMPT, 24).choices[0]
    chunks = list(client.completions.create(model=MODEL_ID, prompt=PROMPT, max_tokens=24, temperature=0, stream=True))
    expect(chunks, "no chunks")
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    expect(text == want.text, f"streamed text {text!r} != non-stream text {want.text!r}")
    reasons = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    expect(reasons == [want.finish_reason], f"finish_reasons in stream {reasons}, want [{want.finish_reason!r}]")
    # The raw stream: SSE content type, `data: ` events, terminated by `data: [DONE]`.
    status, headers, body = post_json("/completions", {"model": MODEL_ID, "prompt": PROMPT, "max_tokens": 24,
                                                       "temperature": 0, "stream": True})
    expect(status == 200, f"raw stream status {status}: {body[:300]!r}")
    expect(headers.get("content-type", "").startswith("text/event-stream"),
           f"content-type {headers.get('content-type')!r}")
    events = [e for e in body.decode().replace("\r\n", "\n").split("\n\n") if e.strip()]
    expect(events and events[-1].strip() == "data: [DONE]", f"stream does not end with data: [DONE]: {body[-200:]!r}")
    expect(all(e.startswith("data: ") for e in events), "an SSE event without a data: field")


@check
def chat_greedy():
    for system in (None, SYSTEM):
        r, label = greedy_chat(CHAT_PROMPT, 24, system), "with system" if system else "user only"
        msg = r.choices[0].message
        expect(msg.role == "assistant", f"{label}: role {msg.role!r}")
        expect_reference(label, msg.content, r.choices[0].finish_reason, r.usage,
                         reference(CHAT_PROMPT, 24, True, system))


@check
def chat_stream_usage():
    want = greedy_chat(CHAT_PROMPT, 24)
    chunks = list(client.chat.completions.create(model=MODEL_ID, messages=chat_messages(CHAT_PROMPT), max_tokens=24,
                                                 temperature=0, stream=True, stream_options={"include_usage": True}))
    expect(len(chunks) >= 2, f"only {len(chunks)} chunks")
    expect(chunks[0].choices and chunks[0].choices[0].delta.role == "assistant", f"first chunk {chunks[0]}")
    body, last = chunks[:-1], chunks[-1]
    content = "".join(c.choices[0].delta.content or "" for c in body if c.choices)
    expect(content == want.choices[0].message.content,
           f"streamed content {content!r} != non-stream {want.choices[0].message.content!r}")
    reasons = [c.choices[0].finish_reason for c in body if c.choices and c.choices[0].finish_reason]
    expect(reasons == [want.choices[0].finish_reason], f"finish_reasons {reasons}")
    expect(body[-1].choices and body[-1].choices[0].finish_reason, "finish_reason is not on the last content chunk")
    expect(all(c.usage is None for c in body), "usage on a chunk before the last")
    expect(last.choices == [] and last.usage is not None, f"last chunk should have choices [] and usage: {last}")
    u, w = last.usage, want.usage
    expect((u.prompt_tokens, u.completion_tokens, u.total_tokens) == (w.prompt_tokens, w.completion_tokens,
                                                                      w.total_tokens), f"stream usage {u} != {w}")
    expect(len({c.id for c in chunks}) == 1, "chunks carry different ids")


@check
def stop_strings():
    full = greedy_completion(PROMPT, 24).choices[0].text
    words = full.split()
    stop = "." if "." in full else (words[2] if len(words) >= 3 else None)
    expect(stop is not None, f"no usable stop string in {full!r}")
    want = full[:full.index(stop)]
    for form in ([stop], stop):
        r = client.completions.create(model=MODEL_ID, prompt=PROMPT, max_tokens=24, temperature=0, stop=form)
        c = r.choices[0]
        expect(c.text == want, f"stop={form!r}: text {c.text!r}, want {want!r}")
        expect(c.finish_reason == "stop", f"stop={form!r}: finish_reason {c.finish_reason!r}")
    chunks = client.completions.create(model=MODEL_ID, prompt=PROMPT, max_tokens=24, temperature=0, stop=[stop],
                                       stream=True)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    expect(text == want, f"streamed stop text {text!r}, want {want!r}")


@check
def logprobs():
    r = client.chat.completions.create(model=MODEL_ID, messages=chat_messages(CHAT_PROMPT), max_tokens=24,
                                       temperature=0, logprobs=True, top_logprobs=3)
    content = r.choices[0].message.content
    expect(content == greedy_chat(CHAT_PROMPT, 24).choices[0].message.content, "logprobs changed the greedy output")
    items = r.choices[0].logprobs.content
    expect(len(items) == r.usage.completion_tokens, f"{len(items)} logprob items, {r.usage.completion_tokens} tokens")
    for i, it in enumerate(items):
        expect(len(it.top_logprobs) == 3, f"item {i}: {len(it.top_logprobs)} top_logprobs")
        expect(it.logprob <= 1e-6, f"item {i}: logprob {it.logprob} > 0")
        expect(it.token == it.top_logprobs[0].token, f"item {i}: greedy token {it.token!r} is not the top one "
                                                     f"{it.top_logprobs[0].token!r}")
        tops = [t.logprob for t in it.top_logprobs]
        expect(tops == sorted(tops, reverse=True) and tops[0] <= 1e-6, f"item {i}: top_logprobs {tops}")
    expect("".join(it.token for it in items) == content, "chat logprob tokens do not join to the content")

    r = client.completions.create(model=MODEL_ID, prompt=PROMPT, max_tokens=24, temperature=0, logprobs=2)
    lp, text = r.choices[0].logprobs, r.choices[0].text
    expect("".join(lp.tokens) == text, f"logprobs.tokens join to {''.join(lp.tokens)!r}, text {text!r}")
    expect(len(lp.token_logprobs) == len(lp.tokens) and all(x <= 1e-6 for x in lp.token_logprobs),
           f"token_logprobs {lp.token_logprobs}")
    expect(lp.top_logprobs is not None and all(len(t) == 2 for t in lp.top_logprobs), "top_logprobs not 2 per token")


@check
def seeded_sampling():
    texts = [client.completions.create(model=MODEL_ID, prompt=PROMPT, max_tokens=16, temperature=1.0,
                                       seed=1234).choices[0].text for _ in range(2)]
    expect(texts[0] == texts[1], f"same seed, different texts: {texts}")


@check
def ignore_eos():
    r = client.completions.create(model=MODEL_ID, prompt=PROMPT, max_tokens=300, temperature=0,
                                  extra_body={"ignore_eos": True})
    expect(r.usage.completion_tokens == 300 and r.choices[0].finish_reason == "length",
           f"ignore_eos: {r.usage.completion_tokens} tokens, finish_reason {r.choices[0].finish_reason!r}")


@check
def concurrent_greedy():
    want, barrier = reference(PROMPT, 24)["text"], threading.Barrier(4)

    def one(_):
        barrier.wait()
        return client.completions.create(model=MODEL_ID, prompt=PROMPT, max_tokens=24, temperature=0).choices[0].text

    with ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(one, range(4)))
    expect(all(t == want for t in texts), f"concurrent texts differ from {want!r}: {texts}")


@check
def overload_429():
    want, barrier = reference(PROMPT, 16)["text"], threading.Barrier(16)

    def one(_):
        barrier.wait()
        try:
            chunks = strict.completions.create(model=MODEL_ID, prompt=PROMPT, max_tokens=16, temperature=0,
                                               stream=True)
            return "".join(c.choices[0].text for c in chunks if c.choices)
        except openai.RateLimitError:
            return None

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(16)))  # any other exception propagates and fails the check
    ok = [t for t in results if t is not None]
    print(f"   16 concurrent streams: {len(ok)} served, {16 - len(ok)} got 429")
    expect(len(ok) >= 4, f"only {len(ok)} of 16 requests succeeded")
    expect(all(t == want for t in ok), f"a batched stream differs from {want!r}: {ok}")


@check
def errors():
    def raises(exc, fn, code=None):
        try:
            fn()
        except exc as e:
            expect(code is None or e.code == code, f"{exc.__name__} with code {e.code!r}, want {code!r}")
            return
        except openai.APIStatusError as e:
            raise AssertionError(f"want {exc.__name__}, got {type(e).__name__} {e.status_code}: {e.message}")
        raise AssertionError(f"want {exc.__name__}, the request succeeded")

    complete = functools.partial(strict.completions.create, model=MODEL_ID, prompt=PROMPT, max_tokens=4)
    chat = functools.partial(strict.chat.completions.create, model=MODEL_ID, messages=chat_messages("Hi"), max_tokens=4)
    bad_key = openai.OpenAI(base_url=f"http://127.0.0.1:{PORT}/v1", api_key="wrong-key", max_retries=0, timeout=60)
    big = {"model": MODEL_ID, "prompt": "a " * 50_000, "max_tokens": 4}  # ~100 KB > --max-body-bytes 65536
    cases = {
        "wrong key": lambda: raises(openai.AuthenticationError, lambda: bad_key.completions.create(
            model=MODEL_ID, prompt=PROMPT, max_tokens=4), "invalid_api_key"),
        "unknown model": lambda: raises(openai.NotFoundError, lambda: strict.completions.create(
            model="no-such-model", prompt=PROMPT, max_tokens=4), "model_not_found"),
        "temperature=5": lambda: raises(openai.BadRequestError, lambda: complete(temperature=5)),
        "n=2": lambda: raises(openai.BadRequestError, lambda: complete(n=2)),
        "logprobs=6": lambda: raises(openai.BadRequestError, lambda: complete(logprobs=6)),
        "top_logprobs=21": lambda: raises(openai.BadRequestError, lambda: chat(logprobs=True, top_logprobs=21)),
        "completion max_tokens=100000": lambda: raises(openai.BadRequestError, lambda: complete(max_tokens=100000),
                                                       "context_length_exceeded"),
        "chat max_tokens=100000": lambda: raises(openai.BadRequestError, lambda: chat(max_tokens=100000),
                                                 "context_length_exceeded"),
        # Raw requests: the client cannot send these.
        "no messages": lambda: post_error("/chat/completions", {"model": MODEL_ID, "max_tokens": 4}, 400),
        "mistyped max_tokens": lambda: post_error("/completions", {"model": MODEL_ID, "prompt": PROMPT,
                                                                   "max_tokens": "ten"}, 400),
        "malformed JSON": lambda: post_error("/completions", b'{"model":', 400),
        "100 KB body": lambda: post_error("/completions", big, 413),
        "no Authorization": lambda: post_error("/completions", {"model": MODEL_ID, "prompt": PROMPT, "max_tokens": 4},
                                               401, "invalid_api_key", auth=False),
    }
    failed = []
    for label, case in cases.items():  # every case runs; the failures are reported together
        try:
            case()
        except Exception as e:  # noqa: BLE001
            failed.append(f"{label}: {e}")
    expect(not failed, "\n  ".join([f"{len(failed)} of {len(cases)} error cases failed:"] + failed))


@check
def client_disconnect():
    c = openai.OpenAI(base_url=f"http://127.0.0.1:{PORT}/v1", api_key=API_KEY, max_retries=0, timeout=60)
    stream = c.completions.create(model=MODEL_ID, prompt=PROMPT, max_tokens=400, temperature=0, stream=True,
                                  extra_body={"ignore_eos": True})
    it = iter(stream)
    for _ in range(2):
        next(it)
    stream.close()  # drops the connection mid-stream
    c.close()
    deadline = time.time() + 10
    while True:
        h = health()
        if h.get("active") == 0 and h.get("queued") == 0:
            break
        expect(time.time() < deadline, f"/health still {h} 10 s after the client disconnected")
        time.sleep(0.1)
    r = greedy_completion.__wrapped__(PROMPT, 24)  # the server still serves, and correctly
    expect(r.choices[0].text == reference(PROMPT, 24)["text"], "greedy output changed after a disconnect")


@check
def metrics():
    h = health()
    expect(h.get("status") == "ok", f"/health: {h}")
    status, _, body = raw("GET", "/metrics")
    text = body.decode()
    expect(status == 200, f"/metrics returned {status}")
    for name in ("origami_requests_total", "origami_time_to_first_token_seconds"):
        expect(any(line.startswith(name) for line in text.splitlines()), f"/metrics has no {name}")


# --- driver --------------------------------------------------------------------------------------------------------

def main():
    global ORIGAMI, MODEL, MODEL_ID, PORT, client, strict
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--origami", required=True, help="path to the origami binary")
    ap.add_argument("--model", required=True, help="model directory")
    ap.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    args = ap.parse_args()
    ORIGAMI, MODEL = os.path.abspath(args.origami), args.model
    MODEL_ID = os.path.basename(os.path.normpath(args.model))
    PORT = args.port or free_port()

    log = tempfile.TemporaryFile()
    cmd = [ORIGAMI, "serve", "--model", MODEL, "--host", "127.0.0.1", "--port", str(PORT), "--api-key", API_KEY,
           "--parallel", "4", "--max-queue", "8", "--max-body-bytes", "65536"]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)

    def server_log():
        log.seek(0)
        return log.read().decode(errors="replace")[-8000:]

    try:
        deadline = time.time() + 120
        while True:
            if server.poll() is not None:
                sys.exit(f"server exited early with code {server.returncode}:\n{server_log()}")
            try:
                if raw("GET", "/health", timeout=2)[0] == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if time.time() > deadline:
                sys.exit(f"server not healthy after 120 s:\n{server_log()}")
            time.sleep(0.2)
        base = f"http://127.0.0.1:{PORT}/v1"
        client = openai.OpenAI(base_url=base, api_key=API_KEY, timeout=120)
        strict = openai.OpenAI(base_url=base, api_key=API_KEY, max_retries=0, timeout=120)

        failures = []
        for fn in CHECKS:
            try:
                fn()
                print(f"ok {fn.__name__}", flush=True)
            except Exception as e:  # noqa: BLE001 - every failure is reported, then the next check runs
                detail = str(e) if isinstance(e, AssertionError) else traceback.format_exc()
                failures.append(f"{fn.__name__}: {detail}")
                print(f"FAIL {fn.__name__}: {detail}", flush=True)

        # Graceful shutdown: SIGTERM, exit code 0 within 30 s (idle keep-alive connections closed first).
        client.close()
        strict.close()
        if server.poll() is not None:
            failures.append(f"shutdown: the server died during the test (code {server.returncode})")
        else:
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(timeout=30)
                if code == 0:
                    print("ok shutdown")
                else:
                    failures.append(f"shutdown: exit code {code} after SIGTERM")
            except subprocess.TimeoutExpired:
                failures.append("shutdown: still running 30 s after SIGTERM")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    if failures:
        print(f"\n{len(failures)} check(s) failed:", file=sys.stderr)
        for f in failures:
            print(f"- {f}", file=sys.stderr)
        print(f"\nserver log (tail):\n{server_log()}", file=sys.stderr)
        sys.exit(1)
    print(f"openai client test: {len(CHECKS) + 1} checks passed")


if __name__ == "__main__":
    main()
